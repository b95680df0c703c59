import Journal
import Logging
import ServiceLifecycle

/// One long-running part of the daemon as a `Service`: `loop` runs until the service group
/// shuts it down gracefully, then `finish` completes the stage's work once (the processor
/// drains, the batcher cuts, the journal closes). It returns only once its turn to shut down
/// came, even when `loop` ended before.
///
/// A group that escalates a graceful shutdown past its limit to cancellation gets its way:
/// `finish` is then skipped or abandoned (`Blocking`), and the work left resumes at the next start.
struct StageService: Service, CustomStringConvertible {
    enum Ending: Sendable {
        /// The loop is cancelled on graceful shutdown.
        case cancelled
        /// The loop ends by itself on graceful shutdown (`onShutdown` tells it to).
        case byItself
    }

    let description: String
    let logger: Logger
    let ending: Ending
    let loop: @Sendable () async -> Void
    let onShutdown: @Sendable () -> Void
    let finish: (@Sendable () throws -> Void)?

    init(_ name: String, logger: Logger, ending: Ending = .cancelled, onShutdown: @escaping @Sendable () -> Void = {},
         finish: (@Sendable () throws -> Void)? = nil, loop: @escaping @Sendable () async -> Void) {
        description = name
        self.logger = logger
        self.ending = ending
        self.loop = loop
        self.onShutdown = onShutdown
        self.finish = finish
    }

    func run() async throws {
        await withGracefulShutdownHandler {
            switch ending {
            case .cancelled: await cancelWhenGracefulShutdown(loop)
            case .byItself: await loop()
            }
        } onGracefulShutdown: { [onShutdown] in onShutdown() }
        // A loop that ended early (the readiness announced, the Fabric peer gone) waits for its
        // turn: a service ending while another one shuts down fails the whole group.
        try? await gracefulShutdown()
        guard let finish, !Task.isCancelled else { return }
        do {
            try await Blocking.run(finish)
        } catch is CancellationError {
            return
        } catch {
            StageService.logStopFailure(error, logger: logger)
        }
    }

    /// A step of the shutdown failed: the journal recovers at the next start, unless it is corrupt.
    static func logStopFailure(_ error: any Error, logger: Logger) {
        if case .corrupt(let path, let detail)? = error as? JournalError {
            logger.critical("ALARM: the journal is corrupt; it will not recover by itself", metadata: [
                "journal": "\(path)", "damage": "\(detail)", "recovery": "see \"Faults and recovery\" in docs/deployment.md",
            ])
        } else {
            logger.error("journal did not close cleanly; it will recover on the next start", metadata: ["reason": "\(error)"])
        }
    }
}
