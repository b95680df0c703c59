import DeviceProfiles
import Foundation
import IEEE11073
import JSONDocument
import Journal
import Logging
import Observations
import Synchronization

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
    /// Where 11073 manager replies go (the MQTT client, once it exists).
    let replies: ReplyChannel
    /// What commits with the Observations (the Merkle log); nil commits them alone.
    let log: (any ObservationCommitHook)?
    let normalizer = Normalizer()
    private let deadLetterLog = LogThrottle(interval: 60)
    static let batchSize = 500

    public init(
        journal: Journal, runtime: RuntimeState, metrics: ProcessingMetrics, logger: Logger, wake: WakeSignal, managers: ManagerSessions,
        replies: ReplyChannel, log: (any ObservationCommitHook)?
    ) {
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
                if try drainBatch() == 0 {
                    await wake.wait(timeout: .milliseconds(200))
                }
                runManagerTimers()
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
        let records = try journal.pendingInbox(limit: ObservationProcessor.batchSize)
        guard let last = records.last else {
            metrics.backlog.record(0)
            return 0
        }
        var batch = Batch()
        for outcome in outcomes(of: records, profiles: runtime.profiles) {
            batch.add(outcome)
        }
        let log = self.log
        let logged = Mutex(0)
        let loggedReceivedAtMs = Mutex<[Int64]>([])
        let canonical = batch.canonicalObservations
        let outcome = try journal.commitProcessed(upTo: last.seq, observations: batch.entries, deadLetters: batch.letters) { transaction, inserted in
            let count = try log?.committing(inserted, canonicalObservations: canonical, in: transaction) ?? 0
            logged.withLock { $0 = count }
            // The log appends exactly the inserted signed ones.
            if count > 0 { loggedReceivedAtMs.withLock { $0 = inserted.compactMap { $0.signature == nil ? nil : $0.issuedAtMs } } }
        }
        metrics.recordLogged(receivedAtMs: loggedReceivedAtMs.withLock { $0 }, loggedAt: Date())
        metrics.observationsLogged.increment(by: Int64(logged.withLock { $0 }))
        metrics.readingsDecoded.increment(by: Int64(batch.entries.count))
        metrics.observationsStored.increment(by: Int64(outcome.inserted))
        metrics.duplicatesDropped.increment(by: Int64(outcome.duplicates))
        metrics.implausibleReadings.increment(by: Int64(batch.entries.filter(\.implausible).count))
        runtime.recordLatest(batch.latest)
        // Manager confirmations go out only once the readings they confirm are committed.
        if !outcome.alreadyProcessed {
            for reply in batch.replies { replies.send(topic: reply.topic, payload: reply.payload) }
        }
        return records.count
    }

    /// What each record becomes, in record order.
    ///
    /// An 11073 APDU drives its device's manager session, whose state depends on the order of
    /// APDUs, so the session steps run first, in record order. What remains (decoding a JSON or
    /// SenML payload, normalizing and signing any record's readings) depends on nothing but the
    /// record, so it is spread over the cores.
    private func outcomes(of records: [InboxRecord], profiles: ProfileSet) -> [RecordOutcome] {
        let work: [RecordWork] = records.map { record in
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
        /// An 11073 APDU whose session step gave `outcome` (replies, dead letters) and these readings.
        case readings(RecordOutcome, [Reading], deviceId: String)
    }

    private func finish(_ record: InboxRecord, _ work: RecordWork) -> RecordOutcome {
        switch work {
        case .payload(let route):
            return process(record, route: route)
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

    struct Batch {
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
        var signature: ObservationSignature?
        var canonical: [UInt8]?
        var quarantineReason: String?
        switch signing.sign(normalized.resource, deviceId: normalized.deviceId) {
        case .signed(let s, let payload):
            signature = s
            canonical = payload
        case .quarantined(let reason): quarantineReason = reason
        }
        let entry = ObservationEntry(
            id: normalized.id, inboxSeq: record.seq, deviceId: normalized.deviceId, metricCode: normalized.metricCode,
            effectiveAtMs: Int64((normalized.effectiveAt.timeIntervalSince1970 * 1000).rounded()),
            issuedAtMs: record.receivedAtMs, implausible: normalized.implausible, resource: normalized.resource.serializedBytes,
            signature: signature, quarantineReason: quarantineReason)
        return Processed(entry: entry, canonical: canonical, label: reading.metric.display, value: ObservationSummary.valueText(normalized.resource))
    }

    struct Processed: Sendable {
        let entry: ObservationEntry
        let canonical: [UInt8]?
        let label: String
        let value: String
    }

    /// Counts and logs (throttled) a dead letter, and returns its record.
    private func deadLetter(_ record: InboxRecord, deviceId: String?, _ error: PayloadDecodeError) -> JournalDeadLetter {
        metrics.deadLettered(error.kind)
        if deadLetterLog.shouldLog((deviceId ?? record.topic) + error.kind.rawValue) {
            logger.warning("payload dead-lettered", metadata: ["device": "\(deviceId ?? "-")", "topic": "\(record.topic)", "reason": "\(error.reason)"])
        }
        return JournalDeadLetter(inboxSeq: record.seq, topic: record.topic, deviceId: deviceId, kind: error.kind.rawValue, reason: error.reason)
    }

    /// 20601 timeouts: an agent that stops answering gets the abort the standard prescribes, on
    /// the manager topic of the profile its session came through.
    private func runManagerTimers() {
        for (_, replyTopic, result) in managers.tick() where !result.outgoing.isEmpty {
            guard let replyTopic else { continue }
            for apdu in result.outgoing { replies.send(topic: replyTopic, payload: apdu) }
        }
    }
}

/// Lets the processor publish once the MQTT client exists (it is created after the processor).
public final class ReplyChannel: Sendable {
    /// The function is boxed in a class because a function value stored straight in a generic
    /// `Mutex` is re-wrapped in reabstraction thunks on every `withLock` that passes it inout:
    /// each reply then called through two more thunks than the one before it.
    private final class Sender: Sendable {
        let send: @Sendable (String, [UInt8]) -> Void
        init(_ send: @escaping @Sendable (String, [UInt8]) -> Void) { self.send = send }
    }

    private let sender = Mutex<Sender?>(nil)

    public init() {}

    public func connect(_ send: @escaping @Sendable (String, [UInt8]) -> Void) {
        let box = Sender(send)
        sender.withLock { $0 = box }
    }

    public func send(topic: String, payload: [UInt8]) { sender.withLock { $0 }?.send(topic, payload) }
}

/// A short human-readable value of an Observation, for the demo's live view.
enum ObservationSummary {
    static func valueText(_ resource: JSONValue) -> String {
        if let q = resource["valueQuantity"], let v = q["value"]?.numberLexeme {
            return "\(v) \(q["unit"]?.stringValue ?? "")"
        }
        if let components = resource["component"]?.arrayValue {
            let values = components.compactMap { $0["valueQuantity"]?["value"]?.numberLexeme }
            let unit = components.first?["valueQuantity"]?["unit"]?.stringValue ?? ""
            return values.joined(separator: "/") + " " + unit
        }
        if resource["dataAbsentReason"] != nil { return "absent" }
        return "?"
    }
}
