import ArgumentParser
import Foundation
import Gateway
import Logging

#if canImport(Glibc)
import Glibc
#endif

struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run", abstract: "Run the gateway daemon. SIGTERM/SIGINT stop it cleanly; SIGHUP reloads profiles and assignments.")

    @Option(name: .long, help: "The configuration file (YAML).")
    var config: String

    func run() async throws {
        let settings = try CommandSupport.loadConfig(config)
        CommandSupport.bootstrapLogging(level: settings.logLevel)
        let logger = Logger(label: "wardgate")
        let gateway: Gateway
        do {
            gateway = try Gateway(config: settings, logger: logger)
        } catch {
            CommandSupport.printError("wardgate cannot start:\n\(error.description)")
            throw ExitCode(1)
        }
        let signals = Signals.stream([SIGTERM, SIGINT, SIGHUP])
        gateway.start()
        for await signal in signals {
            if signal == SIGHUP {
                do { try gateway.reload() } catch { logger.error("reload refused; the previous profiles stay in force", metadata: ["reason": "\(error)"]) }
                continue
            }
            logger.info("stopping", metadata: ["signal": "\(signal)"])
            break
        }
        await gateway.stop()
    }
}
