import Dispatch
import Foundation
import Journal
import Synchronization

/// Tells a wedged pipeline from a slow one.
///
/// It watches the oldest journaled message not yet processed (the head of the inbox past the
/// processing cursor). The pipeline is *progressing* when nothing is pending or the head moved
/// since the last look; *slow* while the head has stood still for at most `stallLimit`; and
/// *stalled* after that. A backlog that drains, however slowly, keeps the watchdog fed; a
/// processor that stops committing does not.
public struct PipelineProgress: Sendable {
    public enum Verdict: Sendable, Equatable {
        case idle
        case progressing
        /// The head has not moved for this long, within the limit.
        case slow(Duration)
        /// The head has not moved for this long, beyond the limit.
        case stalled(Duration)

        public var isHealthy: Bool {
            if case .stalled = self { return false }
            return true
        }
    }

    public let stallLimit: Duration
    private var head: Int64?
    private var headSince: ContinuousClock.Instant?

    public init(stallLimit: Duration) { self.stallLimit = stallLimit }

    /// `oldestPending`: the sequence number of the oldest unprocessed inbox record, nil if none.
    public mutating func observe(oldestPending: Int64?, at now: ContinuousClock.Instant) -> Verdict {
        guard let oldestPending else {
            head = nil
            headSince = nil
            return .idle
        }
        guard oldestPending == head, let since = headSince else {
            head = oldestPending
            headSince = now
            return .progressing
        }
        let waited = now - since
        return waited > stallLimit ? .stalled(waited) : .slow(waited)
    }
}

/// What one look at the journal found.
public struct PipelineProbe: Sendable, Equatable {
    /// The oldest unprocessed inbox record, nil when nothing is pending.
    public var oldestPending: Int64?
    /// Unprocessed inbox records.
    public var backlog: Int
    /// An (empty) write transaction went through: the writer is not stuck.
    public var journalWritable: Bool
    public var failure: String?
}

/// Runs journal probes on a queue of their own, so a probe stuck behind a wedged writer cannot
/// block the loop that decides about the watchdog: the loop waits at most `timeout` and treats
/// an unfinished probe as a failed one. At most one probe is outstanding.
final class ProbeRunner: Sendable {
    private let queue = DispatchQueue(label: "wardgate.watchdog-probe")
    private let busy = Atomic<Bool>(false)
    private let probe: @Sendable () -> PipelineProbe

    init(probe: @escaping @Sendable () -> PipelineProbe) { self.probe = probe }

    enum Outcome: Sendable, Equatable {
        case finished(PipelineProbe)
        case timedOut
        case stillBusy
    }

    func run(timeout: Duration) async -> Outcome {
        guard busy.compareExchange(expected: false, desired: true, ordering: .acquiringAndReleasing).exchanged else { return .stillBusy }
        let once = OnceContinuation<Outcome>()
        return await withCheckedContinuation { continuation in
            once.set(continuation)
            queue.async { [self] in
                let result = probe()
                busy.store(false, ordering: .releasing)
                once.resume(.finished(result))
            }
            Task {
                try? await Task.sleep(for: timeout)
                once.resume(.timedOut)
            }
        }
    }
}

/// A continuation resumed by whichever of several racers comes first.
final class OnceContinuation<T: Sendable>: Sendable {
    private let state = Mutex<(continuation: CheckedContinuation<T, Never>?, pending: T?, done: Bool)>((nil, nil, false))

    func set(_ continuation: CheckedContinuation<T, Never>) {
        let early = state.withLock { s -> T? in
            if let pending = s.pending {
                s.pending = nil
                return pending
            }
            s.continuation = continuation
            return nil
        }
        if let early { continuation.resume(returning: early) }
    }

    func resume(_ value: T) {
        let continuation = state.withLock { s -> CheckedContinuation<T, Never>? in
            guard !s.done else { return nil }
            s.done = true
            guard let c = s.continuation else {
                s.pending = value
                return nil
            }
            s.continuation = nil
            return c
        }
        continuation?.resume(returning: value)
    }
}

extension Journal {
    /// One look for the watchdog: the head of the pending inbox, the backlog, and whether a
    /// write transaction goes through (it waits behind the writer, so a stuck writer shows).
    func watchdogProbe() -> PipelineProbe {
        var probe = PipelineProbe(oldestPending: nil, backlog: 0, journalWritable: false, failure: nil)
        do {
            probe.oldestPending = try pendingInbox(limit: 1).first?.seq
            probe.backlog = try statistics().pendingRecords
            try checkWritable()
            probe.journalWritable = true
        } catch {
            probe.failure = "\(error)"
        }
        return probe
    }
}
