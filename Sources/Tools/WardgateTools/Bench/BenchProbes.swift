import Foundation
import Gateway
import Journal
import Ledger
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Observes, from a reader connection, when inbox records and processed records are committed.
final class CommitPoller: Sendable {
    struct Sample: Sendable { let timeMs: Double; let inbox: Int64; let processed: Int64; var anchored: Int64 = 0 }

    private let samples = Mutex<[Sample]>([])
    private let last = Mutex(Sample(timeMs: 0, inbox: 0, processed: 0))
    private let stopped = Atomic<Bool>(false)
    private let finished = Atomic<Bool>(false)
    /// Off while a backlog fills: its samples are never used for latencies, and keeping them
    /// would make the bench's own memory grow with the backlog it measures.
    let recording = Atomic<Bool>(true)
    let intervalMicros: UInt32

    init(intervalMicros: UInt32 = 2_000) { self.intervalMicros = intervalMicros }

    func start(journal: Journal, outbox: Outbox) {
        let thread = Thread { [self] in
            var last = Sample(timeMs: 0, inbox: -1, processed: -1, anchored: -1)
            while !stopped.load(ordering: .relaxed) {
                var values: (Int64, Int64, Int64)?
                if let progress = try? journal.progress(), let anchored = try? outbox.lastAnchoredSize() {
                    values = (progress.lastInboxSeq, progress.processedSeq, Int64(anchored))
                }
                let now = Date().timeIntervalSince1970 * 1000
                if let values, values.0 != last.inbox || values.1 != last.processed || values.2 != last.anchored {
                    last = Sample(timeMs: now, inbox: values.0, processed: values.1, anchored: values.2)
                    let sample = last
                    self.last.withLock { $0 = sample }
                    if recording.load(ordering: .relaxed) { samples.withLock { $0.append(sample) } }
                }
                usleep(intervalMicros)
            }
            finished.store(true, ordering: .releasing)
        }
        thread.start()
    }

    func stop() {
        stopped.store(true, ordering: .relaxed)
        while !finished.load(ordering: .acquiring) { usleep(1_000) }
    }

    var all: [Sample] { samples.withLock { $0 } }

    func latest() -> Sample { last.withLock { $0 } }

    /// The value observed at `timeMs` (the last sample at or before it).
    static func value(at timeMs: Double, in samples: [Sample]) -> Sample {
        var low = 0, high = samples.count
        while low < high {
            let mid = (low + high) / 2
            if samples[mid].timeMs <= timeMs { low = mid + 1 } else { high = mid }
        }
        return low == 0 ? Sample(timeMs: timeMs, inbox: 0, processed: 0) : samples[low - 1]
    }

    /// The first time a sample showed `key` at or beyond `seq`.
    static func firstTime(_ seq: Int64, in samples: [Sample], key: (Sample) -> Int64) -> Double? {
        var low = 0, high = samples.count
        while low < high {
            let mid = (low + high) / 2
            if key(samples[mid]) >= seq { high = mid } else { low = mid + 1 }
        }
        return low < samples.count ? samples[low].timeMs : nil
    }
}

/// When each round of readings was handed to the MQTT client. Every device publishes once per
/// round with the round's device time, so a reading is (device, round): a million-reading
/// backlog costs 16 bytes per round here, not a dictionary entry per reading.
final class PublishLog: Sendable {
    struct Key: Hashable, Sendable { let deviceId: String; let deviceTimeMs: Int64 }
    struct Round: Sendable { let deviceTimeMs: Int64; let publishMs: Double }
    let deviceIds: [String]
    private let rounds = Mutex<[Round]>([])

    init(deviceIds: [String]) { self.deviceIds = deviceIds }

    func record(ts: Int64, publishMs: Double) {
        let round = Round(deviceTimeMs: ts, publishMs: publishMs)
        rounds.withLock { $0.append(round) }
    }

    var all: [Round] { rounds.withLock { $0 } }
    var count: Int { rounds.withLock { $0.count } * deviceIds.count }
    var lastDeviceTimeMs: Int64 { rounds.withLock { $0.last?.deviceTimeMs } ?? 0 }
}

