import DeviceIdentity
import DeviceProfiles
import FabricLedger
import Journal
import Ledger
import Logging
import MQTTIngest
import Processing
import StrictYAML
import Synchronization
import Transparency

/// The daemon: MQTT ingest → durable journal → Observations.
public final class Gateway: Sendable {
    public let config: GatewayConfig
    public let journal: Journal
    public let metrics: GatewayMetrics
    let runtime: RuntimeState
    let logger: Logger
    let client: MQTTClient
    /// Processes what ingest journals. `services()` runs it and drains it at shutdown; tests,
    /// the bench and the demo call `drain()` to process what is journaled now.
    public let processor: ObservationProcessor
    /// The Merkle log (leaves in the processor's commit, checkpoints signed with the gateway key).
    public let log: GatewayLog
    /// The batches for the ledger, in the journal file.
    public let outbox: Outbox
    /// Cuts the log into the outbox's batches. `services()` runs it and cuts a partial batch at
    /// shutdown; tests and the demo call `cutDueBatches(force:)` to cut one now.
    public let batcher: LedgerBatcher
    /// Where batches are anchored; nil without a `transparencyLog` section (nothing is signed to anchor).
    public let ledger: (any LedgerClient)?
    let forwarder: LedgerForwarder?
    /// The Fabric adapter's gRPC connections, run while the gateway runs (kind `fabric` only).
    let fabric: FabricLedger?
    /// The connections run from the start-up head check on (`checkLedgerAtStart`), then by the
    /// Fabric connections service. Not a plain `Service` of the group: the check reads the
    /// channel before the group starts, so `wardgate run` refuses before readiness, the API and
    /// ingest, and gRPC runs a client's connections only once, so the service adopts this task.
    let fabricConnections = Mutex<Task<Void, Never>?>(nil)
    /// The Fabric channel's head against the journal, before anything more is anchored.
    let headCheck: LedgerHeadCheck?
    /// Retention's check of the wall clock against the journal's own times.
    let clock: ClockSanity
    let clockAlarms = LogThrottle(interval: 3600)
    let wake = WakeSignal()
    /// Each device's part of the journal (the quota's per-device fairness), recounted after retention.
    let shares = DeviceShares()
    /// What each profile received since start, for the silent-profile warning.
    let activity = ProfileActivity()
    let silenceAlarms = LogThrottle(interval: 3600)
    /// Set once a graceful shutdown got to its end: the journal closed (or failed to, and said so).
    let stopped = Atomic<Bool>(false)

    /// Loads profiles and assignments, opens the journal and builds every stage, in data-flow
    /// order (`Gateway+Assembly`). Throws on any invalid profile: the daemon refuses to start
    /// rather than silently ignore a device.
    /// `components` replace configured parts (the bench's, the demo's and tests' ledgers).
    public init(config: GatewayConfig, logger: Logger, components: GatewayComponents = GatewayComponents()) throws(GatewayError) {
        self.config = config
        self.logger = logger
        for deprecation in config.deprecations { logger.warning("deprecated configuration: \(deprecation)") }
        let (profiles, assignments) = try Gateway.loadDeviceFiles(config)
        let journal = try Gateway.openCheckedJournal(config)
        let metrics = GatewayMetrics()
        self.journal = journal
        self.metrics = metrics
        let runtime = RuntimeState(profiles: profiles, assignments: assignments, identity: try Gateway.identityRegistry(config, logger: logger))
        self.runtime = runtime
        let log = try Gateway.merkleLog(config, journal: journal, logger: logger)
        let (outbox, batcher) = try Gateway.batching(config, journal: journal, log: log, logger: logger, metrics: metrics)
        self.log = log
        self.outbox = outbox
        self.batcher = batcher
        clock = try Gateway.clockSanity(config, journal: journal, outbox: outbox)
        let (ledger, fabric) = try Gateway.ledger(config, log: log, outbox: outbox, supplied: components.ledger, logger: logger, metrics: metrics)
        let headCheck = fabric.map { Gateway.makeHeadCheck(fabric: $0, log: log, outbox: outbox) }
        self.ledger = ledger
        self.fabric = fabric
        self.headCheck = headCheck
        if let problem = AnchorCheck.problem(log: log, outbox: outbox, ledger: ledger) { throw .anchoring(problem) }
        forwarder = ledger.map { ledger in
            Gateway.forwarder(to: ledger, config: config, log: log, outbox: outbox, batcher: batcher, headCheck: headCheck, logger: logger, metrics: metrics)
        }
        try Gateway.recount(shares, journal: journal, profiles: profiles)
        let ingest = IngestHandler(journal: journal, runtime: runtime, metrics: metrics.processing, logger: logger, wake: wake, shares: shares, activity: activity)
        let client = try Gateway.mqttClient(config, profiles: profiles, ingest: ingest, logger: logger)
        self.client = client
        let replies = ReplyChannel(publisher: MQTTReplyPublisher(client: client, metrics: metrics.processing, logger: logger))
        processor = try Gateway.processor(config, journal: journal, runtime: runtime, log: log, replies: replies, wake: wake, logger: logger, metrics: metrics)
    }

    /// Connected and every profile's topic filter acknowledged by the broker.
    public func waitUntilReady(timeout: Duration) async -> Bool { await client.waitUntilReady(timeout: timeout) }

    public var isConnected: Bool { client.isConnected }

    /// Whether a graceful shutdown of `services()` got to its end, closing the journal (false
    /// while running, and after a shutdown cut short by its time limit).
    public var hasStopped: Bool { stopped.load(ordering: .acquiring) }

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

    /// The ledger backlog.
    public func outboxStatus() throws(JournalError) -> OutboxStatus { try outbox.status() }

    public var logTreeSize: UInt64 { (try? log.tree.size) ?? 0 }

    /// Why the journal's log, the last signed checkpoint, the outbox and the ledger disagree
    /// (nil: they agree); checked at start (which then refuses to run) and by `/readyz`.
    public func anchoringProblem() -> String? { AnchorCheck.problem(log: log, outbox: outbox, ledger: ledger) ?? headCheck?.refusal }

    /// Keys held by the processor's dead-letter log throttle (bounded, whatever the topics).
    public var logThrottleKeys: Int { processor.deadLetterLogKeys }

    /// Latest value text per device and metric (for the demo's live view).
    public var latestValues: [String: [String: String]] { runtime.latestValues }
}
