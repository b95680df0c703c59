import ArgumentParser
import DeviceProfiles
import Foundation
import Gateway
import Processing

extension GatewayConfig.LedgerSettings.Kind: ExpressibleByArgument {}

struct ConfigCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config", abstract: "Write or check a configuration file.",
        subcommands: [Init.self, Check.self])

    struct Init: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "init", abstract: "Print a commented default configuration.",
            discussion: "--ledger fabric prints it with a Hyperledger Fabric ledger in force (TLS on); the default is the embedded ledger, with the Fabric section as a comment.")

        @Option(name: .long, help: "The ledger in force in the printed configuration: embedded or fabric.")
        var ledger: GatewayConfig.LedgerSettings.Kind = .embedded

        func run() { print(ledger == .fabric ? GatewayConfig.defaultFabricYAML : GatewayConfig.defaultYAML) }
    }

    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "check", abstract: "Validate a configuration file with its profiles and assignments.")

        @OptionGroup var configFile: ConfigFileOption

        func run() throws {
            let settings = try configFile.load()
            for deprecation in settings.deprecations { CommandSupport.printError("warning: \(deprecation)") }
            do {
                let profiles = try ProfileSet.load(directory: settings.profilesDirectory)
                let assignments = try AssignmentBook(path: settings.assignmentsFile)
                print("configuration OK: gateway \(settings.gatewayId), broker \(settings.mqtt.host):\(settings.mqtt.port) (MQTT \(settings.mqtt.protocolVersion == .v5 ? "5" : "3.1.1")\(settings.mqtt.tls == nil ? "" : ", TLS")), \(profiles.profiles.count) profiles, \(assignments.count) device assignments, journal \(settings.stateDirectory) (\(settings.durability.rawValue))")
            } catch {
                CommandSupport.printError(error.description)
                throw ExitCode(1)
            }
        }
    }
}

struct ProfilesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "profiles", abstract: "Work with device profiles.", subcommands: [Check.self])

    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "check", abstract: "Validate every profile in a directory; each error names the file, the field and the problem.")

        @Argument(help: "The profile directory.")
        var directory: String

        func run() throws {
            do {
                let set = try ProfileSet.load(directory: directory)
                for profile in set.profiles {
                    print("ok  \(profile.id)  \(profile.format.rawValue)  \(profile.topic)  (\(profile.metrics.count) metrics)")
                }
            } catch {
                CommandSupport.printError(error.description)
                throw ExitCode(1)
            }
        }
    }
}
