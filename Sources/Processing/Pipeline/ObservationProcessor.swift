import DeviceProfiles
import Foundation
import IEEE11073
import JSONDocument
import Journal
import Logging
import Observations
import Synchronization
import Timing

/// Turns journaled messages into signed Observations, asynchronously and resumably.
///
/// It reads inbox records past the processing cursor and commits their Observations, dead
/// letters and the new cursor in one transaction. After a crash it resumes at the cursor;
/// a record is never processed twice, and a redelivered message yields the same reading ids,
/// which the journal ignores and counts as duplicates.
public final class ObservationProcessor: Sendable {
    let journal: Journal
    let runtime: RuntimeState
    let metrics: ProcessingMetrics
    let logger: Logger
    let wake: WakeSignal
    let signing: ObservationSigning
    let managers: ManagerSessions
    /// Where the sessions and the replies are committed, with the cursor.
    let sessionStore: ManagerSessionStore
    /// Where 11073 manager replies go (the MQTT client, once it exists).
    let replies: ReplyChannel
    /// What commits with the Observations (the Merkle log); nil commits them alone.
    let log: (any ObservationCommitHook)?
    let normalizer = Normalizer()
    private let deadLetterLog = LogThrottle(interval: 60)
    /// One batch at a time: sessions step in record order, so two batches must not interleave
    /// (the run loop and a `drain()` from a test or shutdown). It holds the batch decoded and
    /// signed while the one before it committed, which commits next.
    private let batchLock = Mutex<PreparedBatch?>(nil)
    /// Where a batch commits while the next one is prepared on the cores (`drainBatchLocked`).
    private let commitQueue = DispatchQueue(label: "wardgate.processor.commit")
    /// Whether the processor reached the end of the inbox once since it started: the 20601
    /// timers of restored sessions run only then, so an answer journaled before a crash is
    /// processed before the timer it would have stopped can fire.
    private let caughtUp = Atomic<Bool>(false)
    static let batchSize = 500

    public init(
        journal: Journal, runtime: RuntimeState, metrics: ProcessingMetrics, logger: Logger, wake: WakeSignal, managers: ManagerSessions,
        replies: ReplyChannel, log: (any ObservationCommitHook)?
    ) throws(JournalError) {
        self.sessionStore = try ManagerSessionStore(journal: journal)
        self.log = log
        self.signing = ObservationSigning(registry: runtime.identity, metrics: metrics, logger: logger)
        self.journal = journal
        self.runtime = runtime
        self.metrics = metrics
        self.logger = logger
        self.wake = wake
        self.managers = managers
        self.replies = replies
    }

    /// Processes until cancelled. Storage errors are retried after a pause: the inbox keeps
    /// the records, so nothing is lost while the disk recovers.
    public func run() async {
        while !Task.isCancelled {
            do {
                let consumed = try drainBatch()
                if consumed < ObservationProcessor.batchSize { caughtUp.store(true, ordering: .relaxed) }
                if consumed == 0 {
                    await wake.wait(timeout: .milliseconds(200))
                }
                if caughtUp.load(ordering: .relaxed) { try runManagerTimers() }
                metrics.managerRepliesExpired.increment(by: Int64(replies.flush().expired))
            } catch {
                logger.error("processing failed; retrying", metadata: ["reason": "\(error)"])
                try? await Task.sleep(for: .seconds(1))
            }
        }
    }

    /// Processes everything pending now; for shutdown and tests.
    public func drain() throws(JournalError) {
        while try drainBatch() > 0 {}
    }

    /// Processes one batch; returns how many inbox records it consumed.
    func drainBatch() throws(JournalError) -> Int {
        try batchLock.withLock { carried throws(JournalError) in try drainBatchLocked(carried: &carried) }
    }

    /// Inbox records turned into Observations, signed, not committed yet.
    struct PreparedBatch: Sendable {
        let records: [InboxRecord]
        let batch: Batch
    }

    private func prepare(_ records: [InboxRecord]) -> PreparedBatch {
        var batch = Batch()
        for outcome in outcomes(of: records, profiles: runtime.profiles) { batch.add(outcome) }
        return PreparedBatch(records: records, batch: batch)
    }

    /// Commits one batch while the next is decoded and signed on the cores, so the serial commit
    /// leaves no core idle (issue #16). Batches still commit one by one in record order, and a
    /// prepared batch is only work in memory: dropped if the commit before it fails, redone from
    /// the cursor after a crash. A batch holding an 11073 APDU is not prepared ahead: its session
    /// steps must follow the commit of the batch before it (or roll back with it).
    private func drainBatchLocked(carried: inout PreparedBatch?) throws(JournalError) -> Int {
        let current: PreparedBatch
        if let prepared = carried.take() {
            current = prepared
        } else {
            let records = try journal.pendingInbox(limit: ObservationProcessor.batchSize)
            guard !records.isEmpty else {
                metrics.backlog.record(0)
                return 0
            }
            current = prepare(records)
        }
        let following = try journal.pendingInbox(after: current.records.last?.seq ?? 0, limit: ObservationProcessor.batchSize)
        let profiles = runtime.profiles
        guard !following.isEmpty, !following.contains(where: { Self.stepsASession($0, profiles: profiles) }) else {
            try commit(current)
            return current.records.count
        }
        let committing = BackgroundJob(on: commitQueue) { [self] () throws(JournalError) in try commit(current) }
        let next = prepare(following)
        if try committing.wait() { carried = next }
        return current.records.count
    }

    /// Whether processing `record` steps an 11073 manager session.
    private static func stepsASession(_ record: InboxRecord, profiles: ProfileSet) -> Bool {
        record.cut == nil && profiles.route(topic: record.topic)?.profile.format == .ieee11073
    }

    /// Commits a prepared batch with the sessions changed since the last commit; false if another
    /// drain committed its records first (nothing written).
    @discardableResult
    private func commit(_ prepared: PreparedBatch) throws(JournalError) -> Bool {
        let batch = prepared.batch
        guard let last = prepared.records.last else { return true }
        let log = self.log
        let logged = Mutex(0)
        let loggedReceivedAtMs = Mutex<[Int64]>([])
        let canonical = batch.canonicalObservations
        let sessions = changedSessions()
        let replies = batch.replies.map { (topic: $0.topic, payload: $0.payload) }
        let now = Date()
        let keepRepliesSince = now.addingTimeInterval(-managers.settings.timeouts.longest.inSeconds)
        let outcome: ProcessedOutcome
        do {
            outcome = try journal.commitProcessed(upTo: last.seq, observations: batch.entries, deadLetters: batch.letters, now: now) { transaction, inserted in
                let count = try log?.committing(inserted, canonicalObservations: canonical, in: transaction) ?? 0
                logged.withLock { $0 = count }
                // The log appends exactly the inserted signed ones.
                if count > 0 { loggedReceivedAtMs.withLock { $0 = inserted.compactMap { $0.signature == nil ? nil : $0.issuedAtMs } } }
                try ManagerSessionStore.write(sessions: sessions, replies: replies, now: now, keepRepliesSince: keepRepliesSince, in: transaction)
            }
        } catch {
            managers.rollBack()
            throw error
        }
        guard !outcome.alreadyProcessed else {
            managers.rollBack()
            return false
        }
        managers.didCommit()
        metrics.recordLogged(receivedAtMs: loggedReceivedAtMs.withLock { $0 }, loggedAt: Date())
        metrics.observationsLogged.increment(by: Int64(logged.withLock { $0 }))
        metrics.readingsDecoded.increment(by: Int64(batch.entries.count))
        metrics.observationsStored.increment(by: Int64(outcome.inserted))
        metrics.duplicatesDropped.increment(by: Int64(outcome.duplicates))
        metrics.implausibleReadings.increment(by: Int64(batch.entries.filter(\.implausible).count))
        runtime.recordLatest(batch.latest)
        // Manager confirmations go out only once the readings they confirm are committed.
        for reply in batch.replies { send(reply.payload, to: reply.topic) }
        return true
    }

    /// What each record becomes, in record order.
    ///
    /// An 11073 APDU drives its device's manager session, whose state depends on the order of
    /// APDUs, so the session steps run first, in record order. What remains (decoding a JSON or
    /// SenML payload, normalizing and signing any record's readings) depends on nothing but the
    /// record, so it is spread over the cores.
    private func outcomes(of records: [InboxRecord], profiles: ProfileSet) -> [RecordOutcome] {
        let work: [RecordWork] = records.map { record in
            // A cut record's topic may be a prefix: it is evidence, never routed as a reading.
            if let cut = record.cut { return .cut(cut, deviceId: Self.namesItsDevice(cut) ? profiles.route(topic: record.topic)?.deviceId : nil) }
            let route = profiles.route(topic: record.topic)
            if let (profile, deviceId) = route, profile.format == .ieee11073 {
                return stepSession(record, profile: profile, deviceId: deviceId)
            }
            return .payload(route: route)
        }
        let workers = min(ObservationProcessor.workers, max(1, records.count / ObservationProcessor.minimumRecordsPerWorker))
        guard workers > 1 else { return records.indices.map { finish(records[$0], work[$0]) } }
        let results = Mutex<[(Int, RecordOutcome)]>([])
        DispatchQueue.concurrentPerform(iterations: workers) { worker in
            var mine: [(Int, RecordOutcome)] = []
            for i in stride(from: worker, to: records.count, by: workers) { mine.append((i, finish(records[i], work[i]))) }
            results.withLock { $0 += mine }
        }
        var ordered = [RecordOutcome](repeating: RecordOutcome(), count: records.count)
        for (i, outcome) in results.withLock({ $0 }) { ordered[i] = outcome }
        return ordered
    }

    /// What is left to do for a record once its order-dependent part ran.
    private enum RecordWork: Sendable {
        /// A JSON or SenML payload, routed (nil: no profile claims its topic).
        case payload(route: (profile: DeviceProfile, deviceId: String)?)
        /// A message the router journaled only as evidence (`IngestAdmission`): a dead letter.
        case cut(CutEvidence, deviceId: String?)
        /// An 11073 APDU whose session step gave `outcome` (replies, dead letters) and these readings.
        case readings(RecordOutcome, [Reading], deviceId: String)
    }

    private func finish(_ record: InboxRecord, _ work: RecordWork) -> RecordOutcome {
        switch work {
        case .payload(let route):
            return process(record, route: route)
        case .cut(let cut, let deviceId):
            return RecordOutcome(letters: [deadLetter(record, deviceId: deviceId, cutError(cut))])
        case .readings(var outcome, let readings, let deviceId):
            guard !readings.isEmpty else { return outcome }
            var processed: [Processed] = []
            do throws(PayloadDecodeError) {
                let fallbackKey = Normalizer.payloadKey(record.payload)
                for reading in readings { processed.append(try observation(reading, range: nil, record: record, fallbackKey: fallbackKey)) }
            } catch {
                outcome.letters.append(deadLetter(record, deviceId: deviceId, error))
                return outcome
            }
            outcome.processed = processed
            return outcome
        }
    }

    /// One per core: the commit that follows is serial, so more would only contend.
    static let workers = max(1, ProcessInfo.processInfo.activeProcessorCount)
    /// Below this a record is cheaper to process than to hand to another thread.
    static let minimumRecordsPerWorker = 4

    /// What one inbox record turned into.
    struct RecordOutcome: Sendable {
        var processed: [Processed] = []
        var letters: [JournalDeadLetter] = []
        var replies: [Reply] = []
    }

    struct Reply: Sendable {
        let topic: String
        let payload: [UInt8]
    }

    struct Batch: Sendable {
        var entries: [ObservationEntry] = []
        /// The signed payload (JCS bytes) per Observation id, so the log leaf does not recompute it.
        var canonicalObservations: [String: [UInt8]] = [:]
        var letters: [JournalDeadLetter] = []
        var replies: [Reply] = []
        var latest: [String: [String: String]] = [:]

        mutating func add(_ outcome: RecordOutcome) {
            letters += outcome.letters
            replies += outcome.replies
            for p in outcome.processed {
                entries.append(p.entry)
                if let canonical = p.canonical { canonicalObservations[p.entry.id] = canonical }
                latest[p.entry.deviceId, default: [:]][p.label] = p.value
            }
        }
    }

    /// A JSON or SenML record, already routed (nil: no profile claims its topic).
    private func process(_ record: InboxRecord, route: (profile: DeviceProfile, deviceId: String)?) -> RecordOutcome {
        guard let (profile, deviceId) = route else {
            return RecordOutcome(letters: [deadLetter(record, deviceId: nil, PayloadDecodeError(.unknownTopic, "no profile subscribes to topic \"\(record.topic)\""))])
        }
        do throws(PayloadDecodeError) {
            let readings = try PayloadDecoder.decode(payload: record.payload, deviceId: deviceId, profile: profile, receivedAt: record.receivedAt)
            let fallbackKey = Normalizer.payloadKey(record.payload)
            var processed: [Processed] = []
            for profiled in readings {
                processed.append(try observation(profiled.reading, range: profiled.plausibleRange, record: record, fallbackKey: fallbackKey))
            }
            // All of a payload's readings or none: no partial set from a payload that fails halfway.
            return RecordOutcome(processed: processed)
        } catch {
            return RecordOutcome(letters: [deadLetter(record, deviceId: deviceId, error)])
        }
    }

    /// One IEEE 11073-20601 APDU through the device's manager session: the replies, the dead
    /// letters, and the readings still to be normalized and signed.
    private func stepSession(_ record: InboxRecord, profile: DeviceProfile, deviceId: String) -> RecordWork {
        let replyTopic = (profile.managerTopic.flatMap { try? TopicPattern($0) })?.topic(forDevice: deviceId)
        let result = managers.receive(record.payload, deviceKey: deviceId, replyTopic: replyTopic)
        var outcome = RecordOutcome()
        if let replyTopic {
            outcome.replies = result.outgoing.map { Reply(topic: replyTopic, payload: $0) }
        }
        if let rejection = result.rejection {
            outcome.letters = [deadLetter(record, deviceId: deviceId, PayloadDecodeError(.protocolError, rejection.description))]
            return .readings(outcome, [], deviceId: deviceId)
        }
        for excluded in result.deadLetters {
            outcome.letters.append(deadLetter(record, deviceId: deviceId, PayloadDecodeError(.excludedMeasurement, excluded.description)))
        }
        // All of an APDU's readings or none.
        for reading in result.readings where !PHDIdentity.matches(topicDevice: deviceId, readingDevice: reading.deviceId) {
            let error = PayloadDecodeError(.protocolError, "the agent's System-Id \(reading.deviceId) is not the device \(deviceId) its topic names")
            outcome.letters.append(deadLetter(record, deviceId: deviceId, error))
            return .readings(outcome, [], deviceId: deviceId)
        }
        return .readings(outcome, result.readings, deviceId: deviceId)
    }

    private func observation(_ reading: Reading, range: PlausibleRange?, record: InboxRecord, fallbackKey: String) throws(PayloadDecodeError) -> Processed {
        let normalized: NormalizedObservation
        do {
            normalized = try normalizer.normalize(
                reading, receivedAt: record.receivedAt, plausibleRange: range,
                assignment: runtime.assignments.assignment(for: reading.deviceId), fallbackKey: fallbackKey)
        } catch {
            throw PayloadDecodeError(.normalization, "\(error)")
        }
        // Rendered once, straight into bytes (ObservationRenderer): the RFC 8785 form is signed
        // and logged; the stored form is the same members with the device's number lexemes.
        let stored: [UInt8]
        do {
            stored = try normalized.storedBytes()
        } catch {
            throw PayloadDecodeError(.normalization, "the Observation cannot be written as JSON: \(error)")
        }
        var signature: ObservationSignature?
        var canonical: [UInt8]?
        var quarantineReason: String?
        switch signing.sign(normalized) {
        case .signed(let s, let payload):
            signature = s
            canonical = payload
        case .quarantined(let reason): quarantineReason = reason
        }
        let entry = ObservationEntry(
            id: normalized.id, inboxSeq: record.seq, deviceId: normalized.deviceId, metricCode: normalized.metricCode,
            effectiveAtMs: Int64((normalized.effectiveAt.timeIntervalSince1970 * 1000).rounded()),
            issuedAtMs: record.receivedAtMs, implausible: normalized.implausible, resource: stored,
            signature: signature, quarantineReason: quarantineReason)
        return Processed(entry: entry, canonical: canonical, label: reading.metric.display, value: normalized.valueSummary)
    }

    struct Processed: Sendable {
        let entry: ObservationEntry
        let canonical: [UInt8]?
        let label: String
        let value: String
    }

    /// Whether a cut record's topic names its device safely (not an overlong topic or device id).
    static func namesItsDevice(_ cut: CutEvidence) -> Bool {
        cut.kind == DecodeError.Kind.oversized.rawValue || cut.kind == DecodeError.Kind.deviceQuota.rawValue
    }

    private func cutError(_ cut: CutEvidence) -> PayloadDecodeError {
        let kind = DecodeError.Kind(rawValue: cut.kind) ?? .oversized
        return PayloadDecodeError(kind, """
            \(cut.reason); kept the first \(IngestAdmission.evidencePrefixBytes) bytes; \
            whole topic: \(cut.topicBytes) bytes, SHA-256 \(cut.topicSHA256); whole payload: \(cut.payloadBytes) bytes, SHA-256 \(cut.payloadSHA256)
            """)
    }

    /// How many keys the dead-letter log throttle holds (bounded by `LogThrottle.defaultCapacity`).
    public var deadLetterLogKeys: Int { deadLetterLog.keyCount }

    /// Counts and logs (throttled) a dead letter, and returns its record.
    private func deadLetter(_ record: InboxRecord, deviceId: String?, _ error: PayloadDecodeError) -> JournalDeadLetter {
        metrics.deadLettered(error.kind)
        // A topic or device id over its cap is a hostile name: one line per kind, not per name.
        let hostileName = error.kind == .topicTooLong || error.kind == .deviceIdTooLong
        if deadLetterLog.shouldLog(hostileName ? error.kind.rawValue : (deviceId ?? record.topic) + error.kind.rawValue) {
            logger.warning("payload dead-lettered", metadata: [
                "device": "\(BoundedText.logField(deviceId ?? "-"))", "topic": "\(BoundedText.logField(record.topic))",
                "reason": "\(BoundedText.logField(error.reason))",
            ])
        }
        return JournalDeadLetter(inboxSeq: record.seq, topic: record.topic, deviceId: deviceId, kind: error.kind.rawValue, reason: error.reason)
    }

    /// 20601 timeouts: an agent that stops answering gets the abort the standard prescribes, on
    /// the manager topic of the profile its session came through. The sessions the timers
    /// changed are committed before their APDUs go out, as in a batch.
    private func runManagerTimers() throws(JournalError) {
        let results = managers.tick()
        guard !results.isEmpty else { return }
        do {
            try sessionStore.write(sessions: changedSessions(), now: Date())
        } catch {
            managers.rollBack()
            throw error
        }
        managers.didCommit()
        for (_, replyTopic, result) in results where !result.outgoing.isEmpty {
            guard let replyTopic else { continue }
            for apdu in result.outgoing { send(apdu, to: replyTopic) }
        }
    }

    /// The snapshots of the sessions that changed, for the commit; a session that cannot be
    /// written keeps its previous row and is logged.
    private func changedSessions() -> [ManagerSessionStore.ChangedSession] {
        let (changed, unwritable) = managers.changedSnapshots()
        for deviceKey in unwritable {
            logger.error("11073 session has no snapshot; a crash now restores its previous state", metadata: ["device": "\(deviceKey)"])
        }
        return changed
    }

    /// Sends a reply, or holds it, while the client is away, for as long as its agent may wait.
    private func send(_ apdu: [UInt8], to topic: String) {
        let window: Duration?
        switch CutOffReply.decision(for: apdu, timeouts: managers.settings.timeouts) {
        case .resend(let within): window = within
        case .leave: window = nil
        }
        if replies.send(topic: topic, payload: apdu, holdingFor: window) == .dropped { metrics.managerRepliesFailed.increment() }
    }

    /// Restores the committed 11073 sessions, and holds the replies committed within their
    /// agents' timeouts, which a crash may have kept from them (`CutOffReply`), to send once the
    /// client is connected. Runs before processing starts.
    public func restoreSessions(now: Date = Date()) throws(JournalError) -> ManagerSessions.Restoration {
        let restoration = managers.restore(try sessionStore.sessions(), now: now)
        for (deviceKey, reason) in restoration.lost {
            logger.error("11073 session snapshot refused; the session restarts unassociated and its agent associates again",
                         metadata: ["device": "\(deviceKey)", "reason": "\(reason)"])
        }
        let since = now.addingTimeInterval(-managers.settings.timeouts.longest.inSeconds)
        let monotonicNow = ContinuousClock.now
        var held = 0
        for reply in try sessionStore.replies(committedSince: since) {
            guard case .resend(let window) = CutOffReply.decision(for: reply.payload, timeouts: managers.settings.timeouts) else { continue }
            let remaining = window - .milliseconds(Int64((now.timeIntervalSince(reply.committedAt) * 1000).rounded(.up)))
            guard remaining > .zero else { continue }
            replies.hold(topic: reply.topic, payload: reply.payload, until: monotonicNow + remaining)
            held += 1
        }
        if restoration.restored + restoration.lost.count > 0 || held > 0 {
            logger.info("11073 sessions restored", metadata: [
                "restored": "\(restoration.restored)", "lost": "\(restoration.lost.count)", "repliesToResend": "\(held)",
            ])
        }
        return restoration
    }
}

