import ServiceLifecycle
import UnixSignals

/// The daemon's signals as a service: SIGHUP reloads; SIGTERM or SIGINT ends it, and its end
/// shuts the group down gracefully (`successTerminationBehavior: .gracefullyShutdownGroup`).
/// First to shut down, it announces the stop either way (a signal, or `shutdown()`).
struct SignalService: Service, CustomStringConvertible {
    let signals: UnixSignalsSequence?
    let reload: @Sendable () -> Void
    /// Gets the signal that stopped the daemon (nil: a graceful shutdown from elsewhere).
    let stopping: @Sendable (UnixSignal?) -> Void

    var description: String { "signals" }

    func run() async throws {
        guard let signals else {
            try? await gracefulShutdown()
            return stopping(nil)
        }
        for await signal in signals.cancelOnGracefulShutdown() {
            guard signal == .sighup else { return stopping(signal) }
            reload()
        }
        stopping(nil)
    }
}
