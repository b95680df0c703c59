import ArgumentParser
import Foundation
import Gateway
import DeviceIdentity
import Journal
import Logging
import Processing
import Transparency

struct QuarantineCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "quarantine", abstract: "Readings kept unsigned because their device had no usable identity.",
        subcommands: [List.self, Retry.self])

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "List quarantined readings with the reason.")

        @OptionGroup var configFile: ConfigFileOption

        @Option(name: .long, help: "Only this device.")
        var device: String?

        func run() throws {
            let settings = try configFile.load()
            do {
                let journal = try Gateway.openJournalForReading(settings)
                let quarantined = try journal.observations(deviceId: device, quarantinedOnly: true)
                print("received (UTC)            device           observation                       reason")
                let formatter = ISO8601DateFormatter()
                for o in quarantined {
                    let received = formatter.string(from: Date(timeIntervalSince1970: Double(o.issuedAtMs) / 1000))
                    print("\(received)  \(o.deviceId.padding(toLength: 16, withPad: " ", startingAt: 0)) \(o.id)  \(o.quarantineReason ?? "")")
                }
                print("\(quarantined.count) quarantined reading(s)")
            } catch {
                CommandSupport.printError("cannot read the journal: \(error)")
                throw ExitCode(1)
            }
        }
    }

    struct Retry: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "retry",
            abstract: "Sign and log the quarantined readings whose device has a usable identity now.",
            discussion: """
                For readings quarantined while the clock was wrong (a certificate looked expired or not yet \
                valid) or before their device was enrolled. Run it with the gateway stopped. Each reading is \
                signed now (its JWS iat is the time of the retry) and appended to the Merkle log; the next start \
                batches and anchors it. Readings that still cannot be signed stay quarantined. Exit 0 with the counts.
                """)

        @OptionGroup var configFile: ConfigFileOption

        @Option(name: .long, help: "Only this device.")
        var device: String?

        func run() throws {
            let settings = try configFile.load()
            guard let identity = settings.identity else {
                CommandSupport.printError("wardgate quarantine retry: the configuration has no identity section: nothing can be signed")
                throw ExitCode(1)
            }
            var logger = Logger(label: "wardgate.quarantine")
            logger.logLevel = .error
            do {
                let lock = try StateDirectoryLock(stateDirectory: settings.stateDirectory, holder: "wardgate quarantine retry")
                defer { withExtendedLifetime(lock) {} }
                let journal = try Gateway.openJournal(settings)
                defer { try? journal.close() }
                let registry = try IdentityRegistry(keystore: identity.keystore, caCertificatePath: identity.caCertificate, crlPath: identity.crl)
                let log = try GatewayLog(
                    journal: journal, origin: settings.log?.origin ?? "wardgate/\(settings.gatewayId)", gatewayKeyPath: settings.log?.gatewayKey,
                    lastCheckpointFile: LastCheckpointFile(stateDirectory: settings.stateDirectory), logger: logger)
                let retry = QuarantineRetry(identity: registry, metrics: GatewayMetrics().processing, logger: logger)
                let outcome = try retry.run(journal: journal, deviceId: device, hook: log)
                print("signed and logged \(outcome.signed) reading(s); \(outcome.stillQuarantined.values.reduce(0, +)) still quarantined")
                for (reason, count) in outcome.stillQuarantined.sorted(by: { $0.key < $1.key }) { print("\(count)\t\(reason)") }
            } catch let exit as ExitCode {
                throw exit
            } catch {
                CommandSupport.printError("wardgate quarantine retry: \(error)")
                throw ExitCode(1)
            }
        }
    }
}
