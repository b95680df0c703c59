import DeviceIdentity
import DeviceProfiles
import Foundation
import Journal
import Logging
import MQTTIngest
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
        processor = ObservationProcessor(journal: journal, runtime: runtime, metrics: metrics, logger: logger, wake: wake)
        let ingest = IngestHandler(journal: journal, metrics: metrics, logger: logger, wake: wake)
        do {
            client = try MQTTClient(settings: config.mqtt, subscriptions: profiles.subscriptionFilters, logger: logger, onMessage: ingest.handle)
        } catch {
            throw .mqtt(error)
        }
    }

    /// Starts processing what an earlier run left in the inbox, then connects to the broker.
    public func start() {
        let task = Task { [processor] in await processor.run() }
        processing.withLock { $0 = task }
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
        do {
            try processor.drain()
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

    public var description: String {
        switch self {
        case .invalidFiles(let issues): issues.description
        case .journal(let error): error.description
        case .mqtt(let error): error.description
        case .identity(let error): "identity: \(error)"
        }
    }
}
