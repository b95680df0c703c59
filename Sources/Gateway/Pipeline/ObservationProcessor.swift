import DeviceProfiles
import Foundation
import JSONDocument
import Journal
import Logging
import Observations
import Synchronization

/// Turns journaled messages into Observations, asynchronously and resumably.
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
    let normalizer = Normalizer()
    private let deadLetterLog = LogThrottle(interval: 60)
    static let batchSize = 500

    init(journal: Journal, runtime: RuntimeState, metrics: GatewayMetrics, logger: Logger, wake: WakeSignal) {
        self.signing = ObservationSigning(registry: runtime.identity, metrics: metrics, logger: logger)
        self.journal = journal
        self.runtime = runtime
        self.metrics = metrics
        self.logger = logger
        self.wake = wake
    }

    /// Processes until cancelled. Storage errors are retried after a pause: the inbox keeps
    /// the records, so nothing is lost while the disk recovers.
    func run() async {
        while !Task.isCancelled {
            do {
                if try drainBatch() == 0 {
                    await wake.wait(timeout: .milliseconds(200))
                }
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
        var entries: [ObservationEntry] = []
        var letters: [DeadLetter] = []
        var latest: [String: [String: String]] = [:]
        for record in records {
            switch process(record, profiles: profiles) {
            case .success(let observations):
                entries += observations.map { $0.entry }
                for o in observations { latest[o.entry.deviceId, default: [:]][o.label] = o.valueText }
            case .failure(let failure):
                letters.append(failure.letter)
                metrics.deadLettered(failure.kind)
                if deadLetterLog.shouldLog(failure.letter.deviceId ?? failure.letter.topic) {
                    logger.warning("payload dead-lettered", metadata: [
                        "device": "\(failure.letter.deviceId ?? "-")", "topic": "\(record.topic)", "reason": "\(failure.letter.reason)",
                    ])
                }
            }
        }
        let outcome = try journal.commitProcessed(upTo: last.seq, observations: entries, deadLetters: letters)
        metrics.readingsDecoded.increment(by: Int64(entries.count))
        metrics.observationsStored.increment(by: Int64(outcome.inserted))
        metrics.duplicatesDropped.increment(by: Int64(outcome.duplicates))
        metrics.implausibleReadings.increment(by: Int64(entries.filter(\.implausible).count))
        runtime.recordLatest(latest)
        return records.count
    }

    struct Processed {
        let entry: ObservationEntry
        let label: String
        let valueText: String
    }

    struct Failure: Error {
        let letter: DeadLetter
        let kind: DecodeError.Kind
    }

    private func process(_ record: InboxRecord, profiles: ProfileSet) -> Result<[Processed], Failure> {
        let route = profiles.route(topic: record.topic)
        do throws(DecodeError) {
            let readings = try PayloadDecoder.decode(topic: record.topic, payload: record.payload, profiles: profiles, receivedAt: record.receivedAt)
            let fallbackKey = Normalizer.payloadKey(record.payload)
            return .success(try readings.map { (profiled) throws(DecodeError) -> Processed in
                let normalized: NormalizedObservation
                do {
                    normalized = try normalizer.normalize(
                        profiled.reading, receivedAt: record.receivedAt, plausibleRange: profiled.plausibleRange,
                        assignment: runtime.assignments.assignment(for: profiled.reading.deviceId), fallbackKey: fallbackKey)
                } catch {
                    throw DecodeError(.normalization, "\(error)")
                }
                var signature: ObservationSignature?
                var quarantineReason: String?
                switch signing.sign(normalized.resource, deviceId: normalized.deviceId) {
                case .signed(let s): signature = s
                case .quarantined(let reason): quarantineReason = reason
                }
                return Processed(
                    entry: ObservationEntry(
                        id: normalized.id, inboxSeq: record.seq, deviceId: normalized.deviceId, metricCode: normalized.metricCode,
                        effectiveAtMs: Int64((normalized.effectiveAt.timeIntervalSince1970 * 1000).rounded()),
                        issuedAtMs: record.receivedAtMs, implausible: normalized.implausible, resource: normalized.resource.serializedBytes,
                        signature: signature, quarantineReason: quarantineReason),
                    label: profiled.reading.metric.display, valueText: ObservationSummary.valueText(normalized.resource))
            })
        } catch {
            return .failure(Failure(
                letter: DeadLetter(inboxSeq: record.seq, topic: record.topic, deviceId: route?.deviceId, kind: error.kind.rawValue, reason: error.reason),
                kind: error.kind))
        }
    }
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
