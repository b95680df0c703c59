import ArgumentParser
import Foundation
import Gateway
import Journal

struct QuarantineCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "quarantine", abstract: "Readings kept unsigned because their device had no usable identity.",
        subcommands: [List.self])

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
}
