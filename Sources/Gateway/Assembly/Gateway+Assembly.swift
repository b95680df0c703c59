import DeviceIdentity
import DeviceProfiles
import FabricLedger
import Foundation
import IEEE11073
import Journal
import Ledger
import Logging
import Observations
import MQTTIngest
import Processing
import Timing
import Transparency
import TransparencyLog

/// The steps `Gateway.init` builds the stages in, in data-flow order. Each one throws the
/// error that refuses the start.
extension Gateway {
    /// Profiles and assignments: an invalid one refuses the start rather than silently ignore a device.
    static func loadDeviceFiles(_ config: GatewayConfig) throws(GatewayError) -> (ProfileSet, AssignmentBook) {
        do {
            return (try ProfileSet.load(directory: config.profilesDirectory), try AssignmentBook(path: config.assignmentsFile))
        } catch {
            throw .invalidFiles(error)
        }
    }

    /// The journal with every module's tables, checked first: a damaged file must not be taken
    /// for an empty or shorter journal.
    static func openCheckedJournal(_ config: GatewayConfig) throws(GatewayError) -> Journal {
        do throws(JournalError) {
            let journal = try openJournal(config, maxBytes: config.maxJournalBytes)
            let problems = try journal.quickCheck()
            if !problems.isEmpty { throw .corrupt(path: journal.path, detail: "PRAGMA quick_check: \(problems.joined(separator: "; "))") }
            return journal
        } catch {
            throw .journal(error)
        }
    }

    /// The device keystore and CRL; without the `identity` section readings are kept, unsigned and quarantined.
    static func identityRegistry(_ config: GatewayConfig, logger: Logger) throws(GatewayError) -> IdentityRegistry? {
        guard let settings = config.identity else {
            logger.warning("no identity section: readings are journaled unsigned and quarantined")
            return nil
        }
        do {
            return try IdentityRegistry(keystore: settings.keystore, caCertificatePath: settings.caCertificate, crlPath: settings.crl)
        } catch {
            throw .identity(error)
        }
    }

    /// The Merkle log: leaves in the processor's commit, checkpoints signed with the gateway key.
    static func merkleLog(_ config: GatewayConfig, journal: Journal, logger: Logger) throws(GatewayError) -> GatewayLog {
        do {
            return try GatewayLog(
                journal: journal, origin: config.log?.origin ?? "wardgate/\(config.gatewayId)", gatewayKeyPath: config.log?.gatewayKey,
                lastCheckpointFile: LastCheckpointFile(stateDirectory: config.stateDirectory), logger: logger)
        } catch {
            throw .log("\(error)")
        }
    }

    /// The outbox in the journal file, and the batcher that cuts the log into its batches.
    static func batching(
        _ config: GatewayConfig, journal: Journal, log: GatewayLog, logger: Logger, metrics: GatewayMetrics
    ) throws(GatewayError) -> (Outbox, LedgerBatcher) {
        do {
            let outbox = try Outbox(journal: journal)
            return (outbox, try LedgerBatcher(log: log, outbox: outbox, batch: config.batch, logger: logger, events: { metrics.record($0) }))
        } catch {
            throw .journal(error)
        }
    }

    /// Retention's clock check, against the newest time the journal or the outbox recorded.
    static func clockSanity(_ config: GatewayConfig, journal: Journal, outbox: Outbox) throws(GatewayError) -> ClockSanity {
        do {
            let newest = [try journal.newestRecordedTimeMs(), try outbox.newestRecordedTimeMs()].compactMap { $0 }.max()
            return ClockSanity(referenceMs: newest, maxSkew: config.maxClockSkew)
        } catch {
            throw .journal(error)
        }
    }

    /// Where batches are anchored: the one `components` supplied, else the configured ledger; none
    /// without a gateway key (nothing is signed to anchor). `fabric` is the configured Fabric adapter.
    static func ledger(
        _ config: GatewayConfig, log: GatewayLog, outbox: Outbox, supplied: (any LedgerClient)?, logger: Logger, metrics: GatewayMetrics
    ) throws(GatewayError) -> (client: (any LedgerClient)?, fabric: FabricLedger?) {
        if let supplied { return (supplied, nil) }
        guard let verifier = log.checkpointVerifier else { return (nil, nil) }
        switch config.ledger.kind {
        case .embedded:
            try AnchorCheck.requireLedgerFile(config: config, outbox: outbox, log: log)
            return (try embeddedLedger(config: config, origin: log.origin, verifier: verifier, logger: logger), nil)
        case .fabric:
            let fabric = try fabricLedger(config: config, logger: logger, metrics: metrics)
            return (fabric, fabric)
        }
    }

    /// Sends the outbox's batches to `ledger`, once the Fabric channel's head agrees (`headCheck`).
    static func forwarder(
        to ledger: any LedgerClient, config: GatewayConfig, log: GatewayLog, outbox: Outbox, batcher: LedgerBatcher,
        headCheck: LedgerHeadCheck?, logger: Logger, metrics: GatewayMetrics
    ) -> LedgerForwarder {
        LedgerForwarder(
            outbox: outbox, tree: log.tree, client: TimedLedgerClient(ledger) { metrics.recordSubmit($0, $1) },
            retry: Backoff(initial: config.ledger.retryInitial, maximum: config.ledger.retryMaximum, jitter: .full),
            healthProbeInterval: config.ledger.healthProbe, window: window(for: ledger),
            cutBeforeAnchor: { alongside in
                let cut = try batcher.cutDueBatches(force: true, alongside: alongside)
                if !cut.isEmpty { metrics.record(.cut(treeSizes: cut)) }
            },
            admit: headCheck.map { check -> @Sendable () async -> LedgerForwarder.Admission in { await check.admission() } },
            logger: logger, events: { [leafIndex = log.leafIndex] event in
                metrics.record(event)
                metrics.recordAnchoring(event, leafIndex: leafIndex)
            })
    }

    /// Each device's part of the journal, counted before the quota judges the first message.
    static func recount(_ shares: DeviceShares, journal: Journal, profiles: ProfileSet) throws(GatewayError) {
        do {
            try shares.recount(journal: journal, profiles: profiles)
        } catch {
            throw .journal(error)
        }
    }

    /// The broker session, journaling each batch it delivers through `ingest` before acknowledging it.
    static func mqttClient(_ config: GatewayConfig, profiles: ProfileSet, ingest: IngestHandler, logger: Logger) throws(GatewayError) -> MQTTClient {
        do {
            return try MQTTClient.committingBatches(
                settings: config.mqtt, subscriptions: profiles.subscriptionFilters, logger: logger, onMessages: ingest.handle)
        } catch {
            throw .mqtt(error)
        }
    }

    /// The processor, with the IEEE 11073 sessions restored before anything is processed: the
    /// records past the cursor meet the sessions they would have met without a crash.
    static func processor(
        _ config: GatewayConfig, journal: Journal, runtime: RuntimeState, log: GatewayLog, replies: ReplyChannel, wake: WakeSignal,
        logger: Logger, metrics: GatewayMetrics
    ) throws(GatewayError) -> ObservationProcessor {
        let managers = ManagerSessions(
            store: JournalConfigurationStore(journal: journal, logger: logger),
            managerSystemId: managerSystemId(for: config.gatewayId), offsetRule: .timeZone(TimeZone.current))
        do {
            let processor = try ObservationProcessor(
                journal: journal, runtime: runtime, metrics: metrics.processing, logger: logger, wake: wake, managers: managers, replies: replies, log: log)
            _ = try processor.restoreSessions()
            return processor
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
}
