import ArgumentParser
import Foundation
import Gateway
import Journal
import Logging
import UnixSignals

struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run the gateway daemon. SIGTERM/SIGINT stop it cleanly; SIGHUP reloads profiles and assignments.",
        discussion: """
            Under systemd (Type=notify) it reports READY=1 once the journal is open and the broker \
            acknowledged the subscriptions, STATUS= with the backlog, and WATCHDOG=1 while the pipeline \
            makes progress (see systemd/wardgate.service and docs/deployment.md).
            """)

    @OptionGroup var configFile: ConfigFileOption

    func run() async throws {
        let settings = try configFile.load()
        ServiceLogHandler.bootstrap(level: settings.logLevel, format: settings.logFormat)
        let logger = Logger(label: "wardgate")
        // Trapped first, so a SIGTERM while the gateway starts stops it cleanly once it runs.
        let signals = await UnixSignalsSequence(trapping: .sigterm, .sigint, .sighup)
        let notifier = SystemdNotifier()
        let service: GatewayService
        // Held until the process exits: a second gateway or a state-changing command refuses meanwhile.
        let lock: StateDirectoryLock
        do {
            lock = try StateDirectoryLock(stateDirectory: settings.stateDirectory, holder: "wardgate run")
        } catch {
            notifier.status("failed: state directory in use")
            CommandSupport.printError("wardgate cannot start:\n\(error)")
            throw ExitCode(1)
        }
        defer { withExtendedLifetime(lock) {} }
        do {
            let gateway = try Gateway(config: settings, logger: logger)
            try await gateway.checkLedgerAtStart()
            service = try GatewayService(gateway: gateway, notifier: notifier, signals: signals, logger: logger)
        } catch {
            notifier.status("failed: cannot start")
            CommandSupport.printError("wardgate cannot start:\n\(error)")
            throw ExitCode(1)
        }
        let status = await service.run()
        if status != 0 { throw ExitCode(status) }
    }
}
