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
final class ObservationProcessor: Sendable {
    let journal: Journal
    let runtime: RuntimeState
    let metrics: GatewayMetrics
    let logger: Logger
    let wake: WakeSignal
    let signing: ObservationSigning
    let managers: ManagerSessions
    /// Where 11073 manager replies go (the MQTT client, once it exists).
    let replies: ReplyChannel
    let log: GatewayLog
    let normalizer = Normalizer()
    private let deadLetterLog = LogThrottle(interval: 60)
    static let batchSize = 500

    init(journal: Journal, runtime: RuntimeState, metrics: GatewayMetrics, logger: Logger, wake: WakeSignal, managers: ManagerSessions, replies: ReplyChannel, log: GatewayLog) {
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
    func run() async {
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
    func drain() throws(JournalError) {
        while try drainBatch() > 0 {}
    }

    /// Processes one batch; returns how many inbox records it consumed.
    func drainBatch() throws(JournalError) -> Int {
        let records = try journal.pendingInbox(limit: ObservationProcessor.batchSize)
        guard let last = records.last else {
            metrics.backlog.record(0)
            return 0
        }
        let profiles = runtime.profiles
        var batch = Batch()
        for record in records {
            process(record, profiles: profiles, into: &batch)
        }
        let log = self.log
        let logged = Mutex(0)
        let canonical = batch.canonicalObservations
        let outcome = try journal.commitProcessed(upTo: last.seq, observations: batch.entries, deadLetters: batch.letters) { db, inserted in
            try log.appendLeaves(inserted, canonicalObservations: canonical, in: db)
            logged.withLock { $0 = inserted.filter { $0.signature != nil }.count }
        }
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

    struct Batch {
        var entries: [ObservationEntry] = []
        /// The signed payload (JCS bytes) per Observation id, so the log leaf does not recompute it.
        var canonicalObservations: [String: [UInt8]] = [:]
        var letters: [JournalDeadLetter] = []
        var replies: [(topic: String, payload: [UInt8])] = []
        var latest: [String: [String: String]] = [:]
    }

    private func process(_ record: InboxRecord, profiles: ProfileSet, into batch: inout Batch) {
        guard let (profile, deviceId) = profiles.route(topic: record.topic) else {
            deadLetter(record, deviceId: nil, PayloadDecodeError(.unknownTopic, "no profile subscribes to topic \"\(record.topic)\""), into: &batch)
            return
        }
        if profile.format == .ieee11073 {
            processAPDU(record, profile: profile, deviceId: deviceId, into: &batch)
            return
        }
        do throws(PayloadDecodeError) {
            let readings = try PayloadDecoder.decode(payload: record.payload, deviceId: deviceId, profile: profile, receivedAt: record.receivedAt)
            let fallbackKey = Normalizer.payloadKey(record.payload)
            var processed: [Processed] = []
            for profiled in readings {
                processed.append(try observation(profiled.reading, range: profiled.plausibleRange, record: record, fallbackKey: fallbackKey))
            }
            // All of a payload's readings or none: no partial set from a payload that fails halfway.
            accept(processed, into: &batch)
        } catch {
            deadLetter(record, deviceId: deviceId, error, into: &batch)
        }
    }

    /// One IEEE 11073-20601 APDU: the device's manager session answers it; its readings are
    /// normalized and signed like any other.
    private func processAPDU(_ record: InboxRecord, profile: DeviceProfile, deviceId: String, into batch: inout Batch) {
        let result = managers.receive(record.payload, deviceKey: deviceId)
        let replyTopic = (profile.managerTopic.flatMap { try? TopicPattern($0) })?.topic(forDevice: deviceId)
        if let replyTopic {
            batch.replies += result.outgoing.map { (replyTopic, $0) }
        }
        if let rejection = result.rejection {
            deadLetter(record, deviceId: deviceId, PayloadDecodeError(.protocolError, rejection.description), into: &batch)
            return
        }
        for excluded in result.deadLetters {
            deadLetter(record, deviceId: deviceId, PayloadDecodeError(.excludedMeasurement, excluded.description), into: &batch)
        }
        var processed: [Processed] = []
        do throws(PayloadDecodeError) {
            for reading in result.readings {
                guard PHDIdentity.matches(topicDevice: deviceId, readingDevice: reading.deviceId) else {
                    throw PayloadDecodeError(.protocolError, "the agent's System-Id \(reading.deviceId) is not the device \(deviceId) its topic names")
                }
                processed.append(try observation(reading, range: nil, record: record, fallbackKey: Normalizer.payloadKey(record.payload)))
            }
        } catch {
            deadLetter(record, deviceId: deviceId, error, into: &batch)
            return
        }
        accept(processed, into: &batch)
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

    struct Processed {
        let entry: ObservationEntry
        let canonical: [UInt8]?
        let label: String
        let value: String
    }

    private func accept(_ processed: [Processed], into batch: inout Batch) {
        for p in processed {
            batch.entries.append(p.entry)
            if let canonical = p.canonical { batch.canonicalObservations[p.entry.id] = canonical }
            batch.latest[p.entry.deviceId, default: [:]][p.label] = p.value
        }
    }

    private func deadLetter(_ record: InboxRecord, deviceId: String?, _ error: PayloadDecodeError, into batch: inout Batch) {
        batch.letters.append(JournalDeadLetter(inboxSeq: record.seq, topic: record.topic, deviceId: deviceId, kind: error.kind.rawValue, reason: error.reason))
        metrics.deadLettered(error.kind)
        if deadLetterLog.shouldLog((deviceId ?? record.topic) + error.kind.rawValue) {
            logger.warning("payload dead-lettered", metadata: ["device": "\(deviceId ?? "-")", "topic": "\(record.topic)", "reason": "\(error.reason)"])
        }
    }

    /// 20601 timeouts: an agent that stops answering gets the abort the standard prescribes.
    private func runManagerTimers() {
        let profiles = runtime.profiles
        for (deviceKey, result) in managers.tick() where !result.outgoing.isEmpty {
            guard let profile = profiles.profiles.first(where: { $0.format == .ieee11073 }),
                let topic = profile.managerTopic.flatMap({ try? TopicPattern($0) })?.topic(forDevice: deviceKey)
            else { continue }
            for apdu in result.outgoing { replies.send(topic: topic, payload: apdu) }
        }
    }
}

/// Lets the processor publish once the MQTT client exists (it is created after the processor).
final class ReplyChannel: Sendable {
    private let sender = Mutex<(@Sendable (String, [UInt8]) -> Void)?>(nil)

    func connect(_ send: @escaping @Sendable (String, [UInt8]) -> Void) { sender.withLock { $0 = send } }

    func send(topic: String, payload: [UInt8]) { sender.withLock { $0 }?(topic, payload) }
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
