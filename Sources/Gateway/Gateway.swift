import DeviceIdentity
import DeviceProfiles
import EmbeddedLedger
import FabricLedger
import IEEE11073
import Foundation
import Journal
import Ledger
import Logging
import MQTTIngest
import Observations
import Processing
import SigningKeys
import StrictYAML
import Synchronization
import Timing
import Transparency
import TransparencyLog

/// The daemon: MQTT ingest → durable journal → Observations.
public final class Gateway: Sendable {
    public let config: GatewayConfig
    public let journal: Journal
    public let metrics: GatewayMetrics
    let runtime: RuntimeState
    let logger: Logger
    let client: MQTTClient
    let processor: ObservationProcessor
    /// The Merkle log (leaves in the processor's commit, checkpoints signed with the gateway key).
    public let log: GatewayLog
    /// The batches for the ledger, in the journal file.
    public let outbox: Outbox
    let batcher: LedgerBatcher
    /// Where batches are anchored; nil without a `log` section (nothing is signed to anchor).
    public let ledger: (any LedgerClient)?
    let forwarder: LedgerForwarder?
    /// The Fabric adapter's gRPC connections, run while the gateway runs (kind `fabric` only).
    let fabric: FabricLedger?
    /// The connections run from the start-up head check on (`checkLedgerAtStart`, before the
    /// service group), then by the Fabric connections service: gRPC runs them only once.
    let fabricConnections = Mutex<Task<Void, Never>?>(nil)
    /// The Fabric channel's head against the journal, before anything more is anchored.
    let headCheck: LedgerHeadCheck?
    /// Retention's check of the wall clock against the journal's own times.
    let clock: ClockSanity
    private let clockAlarms = LogThrottle(interval: 3600)
    let wake = WakeSignal()
    /// Each device's part of the journal (the quota's per-device fairness), recounted after retention.
    let shares = DeviceShares()
    /// What each profile received since start, for the silent-profile warning.
    let activity = ProfileActivity()
    private let silenceAlarms = LogThrottle(interval: 3600)
    /// Set once a graceful shutdown got to its end: the journal closed (or failed to, and said so).
    let stopped = Atomic<Bool>(false)

    /// Loads profiles and assignments and opens the journal. Throws on any invalid profile:
    /// the daemon refuses to start rather than silently ignore a device.
    ///
    /// `ledger` replaces the configured ledger (tests wrap the embedded one to simulate outages).
    public init(config: GatewayConfig, logger: Logger, ledger override: (any LedgerClient)? = nil) throws(GatewayError) {
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
        do throws(JournalError) {
            journal = try Gateway.openJournal(config, maxBytes: config.maxJournalBytes)
            // A damaged file must not be taken for an empty or shorter journal.
            let problems = try journal.quickCheck()
            if !problems.isEmpty { throw .corrupt(path: journal.path, detail: "PRAGMA quick_check: \(problems.joined(separator: "; "))") }
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
        let log: GatewayLog
        do {
            log = try GatewayLog(
                journal: journal, origin: config.log?.origin ?? "wardgate/\(config.gatewayId)", gatewayKeyPath: config.log?.gatewayKey,
                lastCheckpointFile: LastCheckpointFile(stateDirectory: config.stateDirectory), logger: logger)
        } catch {
            throw .log("\(error)")
        }
        self.log = log
        let journal = self.journal
        let metrics = self.metrics
        do {
            outbox = try Outbox(journal: journal)
            batcher = try LedgerBatcher(log: log, outbox: outbox, batch: config.batch, logger: logger, events: { metrics.record($0) })
        } catch {
            throw .journal(error)
        }
        let outbox = self.outbox
        do {
            let newest = [try journal.newestRecordedTimeMs(), try outbox.newestRecordedTimeMs()].compactMap { $0 }.max()
            clock = ClockSanity(referenceMs: newest, maxSkew: config.maxClockSkew)
        } catch {
            throw .journal(error)
        }
        let ledger: (any LedgerClient)?
        var fabric: FabricLedger?
        if let override {
            ledger = override
        } else if let verifier = log.checkpointVerifier {
            switch config.ledger.kind {
            case .embedded:
                try AnchorCheck.requireLedgerFile(config: config, outbox: outbox, log: log)
                ledger = try Gateway.embeddedLedger(config: config, origin: log.origin, verifier: verifier, logger: logger)
            case .fabric:
                fabric = try Gateway.fabricLedger(config: config, logger: logger, metrics: metrics)
                ledger = fabric
            }
        } else {
            ledger = nil
        }
        self.ledger = ledger
        self.fabric = fabric
        let headCheck = fabric.map { Gateway.makeHeadCheck(fabric: $0, log: log, outbox: outbox) }
        self.headCheck = headCheck
        if let problem = AnchorCheck.problem(log: log, outbox: outbox, ledger: ledger) { throw .anchoring(problem) }
        let batcher = self.batcher
        forwarder = ledger.map { ledger in
            LedgerForwarder(
                outbox: outbox, tree: log.tree, client: TimedLedgerClient(ledger) { metrics.recordSubmit($0, $1) },
                retry: Backoff(initial: config.ledger.retryInitial, maximum: config.ledger.retryMaximum, jitter: .full),
                healthProbeInterval: config.ledger.healthProbe, window: Gateway.window(for: ledger),
                cutBeforeAnchor: {
                    let cut = try batcher.cutDueBatches(force: true)
                    if !cut.isEmpty { metrics.record(.cut(treeSizes: cut)) }
                },
                admit: headCheck.map { check -> @Sendable () async -> LedgerForwarder.Admission in { await check.admission() } },
                logger: logger, events: { [leafIndex = log.leafIndex] event in
                    metrics.record(event)
                    metrics.recordAnchoring(event, leafIndex: leafIndex)
                })
        }
        do {
            try shares.recount(journal: journal, profiles: profiles)
        } catch {
            throw .journal(error)
        }
        let ingest = IngestHandler(journal: journal, runtime: runtime, metrics: metrics.processing, logger: logger, wake: wake, shares: shares, activity: activity)
        do {
            client = try MQTTClient.committingBatches(settings: config.mqtt, subscriptions: profiles.subscriptionFilters, logger: logger, onMessages: ingest.handle)
        } catch {
            throw .mqtt(error)
        }
        let replies = ReplyChannel(publisher: MQTTReplyPublisher(client: client, metrics: metrics.processing, logger: logger))
        do {
            processor = try ObservationProcessor(
                journal: journal, runtime: runtime, metrics: metrics.processing, logger: logger, wake: wake, managers: managers, replies: replies, log: log)
            // Before anything is processed: the records past the cursor meet the sessions they
            // would have met without a crash.
            _ = try processor.restoreSessions()
        } catch {
            throw .journal(error)
        }
    }

    /// The manager's own EUI-64 System-Id, stable per gateway id (a locally administered id).
    static func managerSystemId(for gatewayId: String) -> SystemId {
        let digest = SystemId(hex: String(Normalizer.payloadKey(Array(gatewayId.utf8)).prefix(16))) ?? SystemId(0x0200_0000_0000_0001)
        var bytes = digest.bytes
        bytes[0] = (bytes[0] | 0x02) & 0xFE
        return SystemId(bytes) ?? digest
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

    /// Processes everything journaled so far (for tests and shutdown).
    public func drain() throws(JournalError) { try processor.drain() }

    /// Cuts every due batch now; `force` also cuts a partial one (for tests and shutdown).
    @discardableResult
    public func cutBatches(force: Bool = false) throws -> [UInt64] { try batcher.cutDueBatches(force: force) }

    /// The ledger backlog.
    public func outboxStatus() throws(JournalError) -> OutboxStatus { try outbox.status() }

    public var logTreeSize: UInt64 { (try? log.tree.size) ?? 0 }

    /// Why the journal's log, the last signed checkpoint, the outbox and the ledger disagree
    /// (nil: they agree); checked at start (which then refuses to run) and by `/readyz`.
    public func anchoringProblem() -> String? { AnchorCheck.problem(log: log, outbox: outbox, ledger: ledger) ?? headCheck?.refusal }

    /// What one retention pass did.
    public enum RetentionPass: Sendable, Equatable {
        /// Neither `journal.retention` nor `journal.deadLetterRetention` (everything is kept).
        case disabled
        /// The wall clock runs ahead of the journal's own times by more than
        /// `journal.maxClockSkew`: nothing was pruned, and the alarm is raised.
        case paused(reason: String)
        case pruned(Outbox.PruneOutcome)
    }

    /// Prunes anchored readings older than `journal.retention` and dead letters older than
    /// `journal.deadLetterRetention` (it also runs on its own), by
    /// the wall clock and by the journal's own times plus the monotonic time since start
    /// (`ClockSanity`): never by the wall clock alone. `uptime` replaces the monotonic time
    /// since start (tests pass it together with `now`).
    public func pruneExpired(now: Date = Date(), uptime: Duration? = nil) throws(JournalError) -> RetentionPass {
        guard config.retention != nil || config.deadLetterRetention != nil else { return .disabled }
        switch clock.judge(wall: now, uptime: uptime ?? clock.uptime) {
        case .suspect(let ahead, let bound):
            metrics.clockSuspect.record(1)
            let reason = """
                the clock (\(Gateway.iso8601(now))) is \(Int(ahead.inSeconds)) s past the newest time the journal recorded before this start \
                plus the time since (\(Gateway.iso8601(bound))), more than journal.maxClockSkew (\(Int(clock.maxSkew.inSeconds)) s)
                """
            if clockAlarms.shouldLog("clock") {
                logger.critical("ALARM: the clock looks wrong; retention pruning paused (logged once an hour)", metadata: [
                    "reason": "\(reason)", "recovery": "see \"Faults and recovery\" in docs/deployment.md",
                ])
            }
            return .paused(reason: reason)
        case .sane(let trustedNow):
            metrics.clockSuspect.record(0)
            if let keep = config.deadLetterRetention { try pruneDeadLetters(writtenBefore: trustedNow.addingTimeInterval(-keep.inSeconds)) }
            var outcome = Outbox.PruneOutcome(observations: 0, inboxRecords: 0)
            if let retention = config.retention { outcome = try outbox.pruneAnchored(receivedBefore: trustedNow.addingTimeInterval(-retention.inSeconds)) }
            try shares.recount(journal: journal, profiles: runtime.profiles)
            return .pruned(outcome)
        }
    }

    /// Dead letters written before `cutoff` go, with the inbox records kept only as their
    /// evidence; counted in `wardgate_dead_letters_pruned_total`.
    private func pruneDeadLetters(writtenBefore cutoff: Date) throws(JournalError) {
        let purge = try journal.purgeDeadLetters(DeadLetterFilter(createdBefore: cutoff))
        guard purge.deadLetters > 0 else { return }
        metrics.deadLettersPruned.increment(by: purge.deadLetters)
        logger.info("pruned dead letters past journal.deadLetterRetention", metadata: [
            "deadLetters": "\(purge.deadLetters)", "inboxRecords": "\(purge.inboxRecords)", "payloadBytes": "\(purge.payloadBytes)",
        ])
    }

    static func iso8601(_ date: Date) -> String { ISO8601DateFormatter().string(from: date) }

    func pruneLoop(retention: Duration) async {
        let interval = max(.seconds(1), min(retention / 10, .seconds(3600)))
        while !Task.isCancelled {
            do {
                if case .pruned(let outcome) = try pruneExpired(), outcome.observations + outcome.inboxRecords > 0 {
                    logger.info("pruned anchored readings past retention", metadata: [
                        "observations": "\(outcome.observations)", "inboxRecords": "\(outcome.inboxRecords)",
                    ])
                }
            } catch {
                logger.error("retention pruning failed; it is retried", metadata: ["reason": "\(error)"])
            }
            try? await Task.sleep(for: interval)
        }
    }

    /// `PRAGMA quick_check` every `interval`. Damage found latches the journal as corrupt (it then
    /// refuses every write, so nothing more is acknowledged) and raises the alarm.
    func integrityLoop(interval: Duration) async {
        while !Task.isCancelled {
            try? await Task.sleep(for: interval)
            guard !Task.isCancelled else { return }
            checkIntegrity()
        }
    }

    /// One integrity check now (the loop's body; tests call it). Returns the problems found.
    @discardableResult
    public func checkIntegrity() -> [String] {
        let problems: [String]
        do {
            problems = try journal.quickCheck()
        } catch {
            problems = ["\(error)"]
        }
        metrics.journalCorrupt.record(journal.corruption == nil ? 0 : 1)
        if !problems.isEmpty {
            logger.critical("ALARM: the journal is corrupt; acknowledgements stopped", metadata: [
                "journal": "\(journal.path)", "damage": "\(problems.joined(separator: "; "))",
                "recovery": "see \"Faults and recovery\" in docs/deployment.md (wardgate journal check)",
            ])
        }
        return problems
    }

    /// The profiles that received nothing since start, for longer than `config.silentProfileGrace`,
    /// while some enrolled device was heard on no profile (#18 item 9): `/readyz` warnings, never
    /// failures; each logged at most once an hour. (mosquitto grants a subscription its ACL then
    /// starves, so only silence shows it; a device heard on another profile is that profile's.)
    public func silentProfileWarnings() -> [String] {
        let uptime = clock.uptime
        guard uptime >= config.silentProfileGrace, let enrolled = runtime.identity?.enrolledDeviceIDs else { return [] }
        let unheard = activity.unheard(among: enrolled)
        guard unheard > 0 else { return [] }
        return runtime.profiles.profiles.filter { activity.received(profileId: $0.id) == 0 }.map { profile in
            let warning = "profile \(profile.id) has received nothing on \(profile.topic.subscriptionFilter) in \(Int(uptime.inSeconds) / 60) min "
                + "since start while \(unheard) of \(enrolled.count) enrolled device(s) have not been heard on any profile: check that the broker ACL "
                + "grants the gateway its topics (docs/deployment.md), or remove the profile if no such device is in use"
            if silenceAlarms.shouldLog(profile.id) { logger.warning("readiness warning: a subscribed profile hears nothing", metadata: ["warning": "\(warning)"]) }
            return warning
        }
    }

    /// Latest value text per device and metric (for the demo's live view).
    /// Keys held by the processor's dead-letter log throttle (bounded, whatever the topics).
    public var logThrottleKeys: Int { processor.deadLetterLogKeys }

    public var latestValues: [String: [String: String]] { runtime.latestValues }
}

extension Gateway {
    /// The tables the other modules keep in the journal file, in the order their migrations run
    /// after the journal's own: one migrator for the whole file.
    public static let journalTables: [JournalTables] = [LeafIndex.tables, Outbox.tables, ManagerSessionStore.tables]

    /// Opens the configured journal with every module's tables (the daemon and every CLI
    /// command that reads the state directory open it this way).
    public static func openJournal(_ config: GatewayConfig, maxBytes: Int64? = nil) throws(JournalError) -> Journal {
        try Journal(directory: config.stateDirectory, durability: config.durability, maxBytes: maxBytes, tables: journalTables)
    }

    /// Opens the configured journal for reading only (every CLI command that only looks): a
    /// missing journal is `.missing`, and nothing is created or migrated.
    public static func openJournalForReading(_ config: GatewayConfig) throws(JournalError) -> Journal {
        try Journal(readingAt: config.stateDirectory, tables: journalTables)
    }

    /// The configured embedded ledger, trusting this gateway's checkpoint key for the log's
    /// origin (for the demo and tools that open it beside a gateway).
    public static func embeddedLedger(config: GatewayConfig, logger: Logger) throws(GatewayError) -> EmbeddedLedger {
        guard let log = config.log else { throw .ledger("a ledger needs the log section: without a gateway key nothing is signed to anchor") }
        let verifier: any NoteVerifier
        do {
            verifier = try ECDSAP256NoteSigner(keyName: log.origin, privateKey: PrivateKeyFile.loadP256(log.gatewayKey)).verifier
        } catch {
            throw .log("\(error)")
        }
        return try embeddedLedger(config: config, origin: log.origin, verifier: verifier, logger: logger)
    }

    /// The configured Fabric adapter; its classified failures count in
    /// `wardgate_ledger_fabric_failures_total{reason}`.
    static func fabricLedger(config: GatewayConfig, logger: Logger, metrics: GatewayMetrics) throws(GatewayError) -> FabricLedger {
        guard let settings = config.ledger.fabric else { throw .ledger("kind fabric needs the ledger.fabric section") }
        var ledgerLogger = logger
        ledgerLogger[metadataKey: "component"] = "ledger"
        do {
            return try FabricLedger(settings: settings, logger: ledgerLogger, onFailure: { metrics.record($0) })
        } catch {
            throw .ledger(error.description)
        }
    }

    /// A remote ledger whose anchors serialize per origin (Fabric: every anchor reads and writes
    /// the origin's head) takes everything pending in one anchor; the embedded one, batch by batch.
    static func window(for ledger: any LedgerClient) -> LedgerForwarder.Window {
        ledger.kind == FabricReceipt.kind ? .coalescing : .oneBatch
    }

    static func embeddedLedger(config: GatewayConfig, origin: String, verifier: any NoteVerifier, logger: Logger) throws(GatewayError) -> EmbeddedLedger {
        var ledgerLogger = logger
        ledgerLogger[metadataKey: "component"] = "ledger"
        do {
            return try EmbeddedLedger(path: config.ledger.path, keyPath: config.ledger.key, trustedGateways: [origin: verifier], logger: ledgerLogger)
        } catch {
            throw .ledger(error.description)
        }
    }
}

public enum GatewayError: Error, Sendable, CustomStringConvertible {
    case invalidFiles(YAMLIssues)
    case journal(JournalError)
    case mqtt(MQTTError)
    case identity(IdentityError)
    case log(String)
    case ledger(String)
    /// The journal's log, its outbox and the ledger disagree about what was anchored.
    case anchoring(String)

    public var description: String {
        switch self {
        case .invalidFiles(let issues): issues.description
        case .journal(let error): error.description
        case .mqtt(let error): error.description
        case .identity(let error): "identity: \(error)"
        case .log(let reason): "Merkle log: \(reason)"
        case .ledger(let reason): "ledger: \(reason)"
        case .anchoring(let reason): "refusing to run: \(reason)"
        }
    }
}
