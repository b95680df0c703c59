import DeviceIdentity
import DeviceProfiles
import IEEE11073
import Foundation
import Journal
import Logging
import MQTTIngest
import Observations
import StrictYAML
import Synchronization

/// The daemon: MQTT ingest → durable journal → Observations.
public final class Gateway: Sendable {
    public let config: GatewayConfig
    public let journal: Journal
    public let metrics: GatewayMetrics
    let runtime: RuntimeState
    private let logger: Logger
    private let client: MQTTClient
    private let processor: ObservationProcessor
    let log: GatewayLog
    private let checkpointing = Mutex<Task<Void, Never>?>(nil)
    private let processing = Mutex<Task<Void, Never>?>(nil)
    private let wake = WakeSignal()

    /// Loads profiles and assignments and opens the journal. Throws on any invalid profile:
    /// the daemon refuses to start rather than silently ignore a device.
    public init(config: GatewayConfig, logger: Logger) throws(GatewayError) {
        self.config = config
        self.logger = logger
        let profiles: ProfileSet
        let assignments: AssignmentBook
        do {
            profiles = try ProfileSet.load(directory: config.profilesDirectory)
            assignments = try AssignmentBook(path: config.assignmentsFile)
        } catch {
            throw .invalidFiles(error)
        }
        do {
            journal = try Journal(directory: config.stateDirectory, durability: config.durability, maxBytes: config.maxJournalBytes)
        } catch {
            throw .journal(error)
        }
        var identity: IdentityRegistry?
        if let settings = config.identity {
            do {
                identity = try IdentityRegistry(keystore: settings.keystore, caCertificatePath: settings.caCertificate, crlPath: settings.crl)
            } catch {
                throw .identity(error)
            }
        } else {
            logger.warning("no identity section: readings are journaled unsigned and quarantined")
        }
        metrics = GatewayMetrics()
        runtime = RuntimeState(profiles: profiles, assignments: assignments, identity: identity)
        let managers = ManagerSessions(
            store: JournalConfigurationStore(journal: journal, logger: logger),
            managerSystemId: Gateway.managerSystemId(for: config.gatewayId), offsetRule: .timeZone(TimeZone.current))
        let replies = ReplyChannel()
        log = try GatewayLog(journal: journal, settings: config.log, gatewayId: config.gatewayId, logger: logger)
        processor = ObservationProcessor(journal: journal, runtime: runtime, metrics: metrics, logger: logger, wake: wake, managers: managers, replies: replies, log: log)
        let ingest = IngestHandler(journal: journal, metrics: metrics, logger: logger, wake: wake)
        do {
            client = try MQTTClient(settings: config.mqtt, subscriptions: profiles.subscriptionFilters, logger: logger, onMessage: ingest.handle)
        } catch {
            throw .mqtt(error)
        }
        let client = self.client
        let replyLogger = logger
        replies.connect { topic, payload in
            do { try client.publish(topic: topic, payload: payload, qos: 1) } catch {
                replyLogger.error("11073 manager reply not sent", metadata: ["topic": "\(topic)", "reason": "\(error)"])
            }
        }
    }

    /// The manager's own EUI-64 System-Id, stable per gateway id (a locally administered id).
    static func managerSystemId(for gatewayId: String) -> SystemId {
        let digest = SystemId(hex: String(Normalizer.payloadKey(Array(gatewayId.utf8)).prefix(16))) ?? SystemId(0x0200_0000_0000_0001)
        var bytes = digest.bytes
        bytes[0] = (bytes[0] | 0x02) & 0xFE
        return SystemId(bytes) ?? digest
    }

    /// Starts processing what an earlier run left in the inbox, then connects to the broker.
    public func start() {
        let task = Task { [processor] in await processor.run() }
        processing.withLock { $0 = task }
        let checkpoints = Task { [log, metrics] in await log.run(metrics: metrics) }
        checkpointing.withLock { $0 = checkpoints }
        client.start()
        logger.info("wardgate started", metadata: [
            "gateway": "\(config.gatewayId)", "profiles": "\(runtime.profiles.profiles.map(\.id))",
            "journal": "\(journal.path)", "durability": "\(config.durability.rawValue)",
        ])
    }

    /// Connected and every profile's topic filter acknowledged by the broker.
    public func waitUntilReady(timeout: Duration) async -> Bool { await client.waitUntilReady(timeout: timeout) }

    public var isConnected: Bool { client.isConnected }

    /// Stops taking messages (the in-flight commit completes first), processes what was
    /// journaled, and closes the journal.
    public func stop() async {
        client.stop()
        let task = processing.withLock { task -> Task<Void, Never>? in
            defer { task = nil }
            return task
        }
        task?.cancel()
        wake.signal()
        await task?.value
        checkpointing.withLock { $0 }?.cancel()
        do {
            try processor.drain()
            try log.checkpointIfGrown()
            try journal.close()
        } catch {
            logger.error("journal did not close cleanly; it will recover on the next start", metadata: ["reason": "\(error)"])
        }
        logger.info("wardgate stopped")
    }

    /// Re-reads profiles and assignments without dropping the MQTT session. An invalid new
    /// profile set is refused and the running one stays in force.
    public func reload() throws(GatewayError) {
        do {
            let profiles = try ProfileSet.load(directory: config.profilesDirectory)
            try runtime.assignments.reload(force: true)
            if let summary = try runtime.identity?.reload() {
                logger.info("reloaded keystore and CRL", metadata: ["identities": "\(summary.identities.count)", "unusable": "\(summary.failures.count)"])
            }
            runtime.replaceProfiles(profiles)
            client.updateSubscriptions(profiles.subscriptionFilters)
            logger.info("reloaded profiles and assignments", metadata: ["profiles": "\(profiles.profiles.map(\.id))"])
        } catch let error as YAMLIssues {
            throw .invalidFiles(error)
        } catch let error as IdentityError {
            throw .identity(error)
        } catch {
            throw .identity(.invalidArgument("\(error)"))
        }
    }

    /// Processes everything journaled so far (for tests and shutdown).
    public func drain() throws(JournalError) { try processor.drain() }

    /// Latest value text per device and metric (for the demo's live view).
    public var latestValues: [String: [String: String]] { runtime.latestValues }
}

public enum GatewayError: Error, Sendable, CustomStringConvertible {
    case invalidFiles(YAMLIssues)
    case journal(JournalError)
    case mqtt(MQTTError)
    case identity(IdentityError)
    case log(String)

    public var description: String {
        switch self {
        case .invalidFiles(let issues): issues.description
        case .journal(let error): error.description
        case .mqtt(let error): error.description
        case .identity(let error): "identity: \(error)"
        case .log(let reason): "Merkle log: \(reason)"
        }
    }
}
