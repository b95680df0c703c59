import Gateway
import Logging
import ServiceLifecycle
import Synchronization

/// A gateway's services run in a service group of their own, as `wardgate run` runs them but
/// without signals, the HTTP API or systemd (tests, the bench, the demo).
extension Gateway {
    /// Starts the services and returns at once.
    public func start() { GatewayRuns.shared.start(self) }

    /// Shuts the services down gracefully, in order, and waits until the journal is closed. A
    /// gateway never started is started and stopped (so its journal closes the same way).
    public func stop() async { await GatewayRuns.shared.stop(self) }
}

/// The groups running, by gateway.
final class GatewayRuns: Sendable {
    static let shared = GatewayRuns()

    private struct Run: Sendable {
        let group: ServiceGroup
        let task: Task<Void, Never>
    }

    private let running = Mutex<[ObjectIdentifier: Run]>([:])
    private let logger = Logger(label: "wardgate.services")

    func start(_ gateway: Gateway) {
        running.withLock { running in
            guard running[ObjectIdentifier(gateway)] == nil else { return }
            let group = ServiceGroup(configuration: .init(services: gateway.services(), logger: logger))
            let task = Task { [logger] in
                do { try await group.run() } catch { logger.error("the gateway's services failed", metadata: ["reason": "\(error)"]) }
            }
            running[ObjectIdentifier(gateway)] = Run(group: group, task: task)
        }
    }

    func stop(_ gateway: Gateway) async {
        if gateway.hasStopped { return }
        start(gateway)
        guard let run = running.withLock({ $0.removeValue(forKey: ObjectIdentifier(gateway)) }) else { return }
        await run.group.triggerGracefulShutdown()
        await run.task.value
    }
}
