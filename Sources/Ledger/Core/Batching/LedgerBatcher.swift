import Foundation
import Journal
import Logging
import Synchronization
import Transparency

/// `batch:`: when the batcher signs a checkpoint and cuts a batch for the ledger.
public struct BatchSettings: Sendable, Hashable {
    /// Cut as soon as this many new leaves wait (a backlog is cut into batches of this size).
    public var maxLeaves: Int
    /// Cut once the oldest unbatched leaf has waited this long.
    public var maxAge: Duration

    public init(maxLeaves: Int = 1000, maxAge: Duration = .seconds(1)) {
        self.maxLeaves = maxLeaves
        self.maxAge = maxAge
    }
}

/// What the batcher did, for metrics.
public enum BatcherEvent: Sendable {
    /// Checkpoints signed and batches cut, at these tree sizes.
    case cut(treeSizes: [UInt64])
    /// The outbox and the log's size now (sent twice a second).
    case status(OutboxStatus, treeSize: UInt64)
}

/// Cuts the log into batches for the ledger: a checkpoint is signed and a batch cut when
/// `batch.maxLeaves` leaves wait or the oldest has waited `batch.maxAge`. The checkpoint and the
/// batch commit together, so the outbox never holds a batch without its checkpoint.
public final class LedgerBatcher: Sendable {
    public let batch: BatchSettings
    private let log: GatewayLog
    private let outbox: Outbox
    private let logger: Logger
    private let events: @Sendable (BatcherEvent) -> Void
    private let state: Mutex<State>
    /// One cut at a time (the batcher loop, shutdown and tests may all ask).
    private let cutting = Mutex<Void>(())

    struct State {
        var batchedSize: UInt64
        /// When the batcher first saw the oldest leaf that is still unbatched.
        var oldestUnbatchedSeen: ContinuousClock.Instant?
    }

    public init(log: GatewayLog, outbox: Outbox, batch: BatchSettings = .init(), logger: Logger, events: @escaping @Sendable (BatcherEvent) -> Void = { _ in }) throws(JournalError) {
        self.log = log
        self.outbox = outbox
        self.batch = batch
        self.logger = logger
        self.events = events
        state = Mutex(State(batchedSize: try outbox.lastBatchedSize(), oldestUnbatchedSeen: nil))
    }

    /// Cuts every batch that is due: full batches of `maxLeaves` first, then (once the oldest
    /// unbatched leaf is `maxAge` old, or when `force`) one with whatever is left.
    /// `alongside` runs once, in the journal transaction of the last batch cut (or in one of its
    /// own when none is due), so that what the caller records about the cut commits with it.
    /// Returns the tree sizes cut.
    @discardableResult
    public func cutDueBatches(now: ContinuousClock.Instant = .now, force: Bool = false,
                              alongside: ((JournalTransaction) throws -> Void)? = nil) throws -> [UInt64] {
        try cutting.withLock { _ in try cutDueBatchesLocked(now: now, force: force, alongside: alongside) }
    }

    private func cutDueBatchesLocked(now: ContinuousClock.Instant, force: Bool, alongside: ((JournalTransaction) throws -> Void)?) throws -> [UInt64] {
        let (size, batched, ends) = log.signsCheckpoints ? try dueEnds(now: now, force: force) : (0, 0, [])
        guard !ends.isEmpty else {
            if let alongside { try outbox.journal.write { transaction in try alongside(transaction) } }
            return []
        }
        var first = batched
        for (index, end) in ends.enumerated() {
            try cutBatch(from: first, to: end, alongside: index == ends.count - 1 ? alongside : nil)
            state.withLock { state in
                state.batchedSize = end
                if end == size { state.oldestUnbatchedSeen = nil }
            }
            first = end
        }
        return ends
    }

    /// The log's size, the size batched so far, and the tree sizes to cut at now, in order.
    private func dueEnds(now: ContinuousClock.Instant, force: Bool) throws -> (UInt64, UInt64, [UInt64]) {
        let size = try log.tree.size
        let (batched, seen) = state.withLock { state -> (UInt64, ContinuousClock.Instant) in
            if state.oldestUnbatchedSeen == nil { state.oldestUnbatchedSeen = now }
            return (state.batchedSize, state.oldestUnbatchedSeen ?? now)
        }
        guard size > batched else {
            state.withLock { $0.oldestUnbatchedSeen = nil }
            return (size, batched, [])
        }
        var ends: [UInt64] = []
        var from = batched
        while size > from {
            let end: UInt64
            if size - from >= UInt64(batch.maxLeaves) {
                end = from + UInt64(batch.maxLeaves)
            } else if force || now - seen >= batch.maxAge {
                end = size
            } else {
                break
            }
            // A checkpoint signed before batching existed may lie past `end`; never sign below it.
            let target = min(size, max(end, log.lastSignedSize ?? 0))
            ends.append(target)
            from = target
        }
        return (size, batched, ends)
    }

    private func cutBatch(from first: UInt64, to size: UInt64, alongside: ((JournalTransaction) throws -> Void)?) throws {
        let signed = try log.signCheckpoint(atSize: size)
        let entries = try log.leafData(leaves: first..<size).map { OutboxEntry(leafIndex: $0.leafIndex, leafData: $0.leafData) }
        try outbox.journal.write { transaction in
            try log.recordCheckpoint(signed, in: transaction)
            try outbox.enqueueBatch(
                origin: log.origin, firstLeaf: first, treeSize: size, checkpointNote: signed.text, entries: entries, now: Date(), in: transaction)
            try alongside?(transaction)
        }
        log.forgetLeafData(first..<size)
    }

    /// Cuts batches until cancelled.
    public func run() async {
        let tick = min(batch.maxAge / 5, .milliseconds(50))
        var lastStatus = ContinuousClock.now - .seconds(1)
        // On a full disk every tick fails the same way: one alarm a minute, with the count.
        var lastAlarm: ContinuousClock.Instant?
        var failures = 0
        while !Task.isCancelled {
            try? await Task.sleep(for: tick)
            do {
                let cut = try cutDueBatches()
                if !cut.isEmpty {
                    events(.cut(treeSizes: cut))
                    logger.debug("batches cut", metadata: ["sizes": "\(cut)"])
                }
                failures = 0
            } catch {
                failures += 1
                if lastAlarm.map({ ContinuousClock.now - $0 >= .seconds(60) }) ?? true {
                    lastAlarm = .now
                    logger.error("ALARM: no checkpoint signed, no batch cut (logged at most once a minute)", metadata: [
                        "reason": "\(error)", "failedAttempts": "\(failures)",
                    ])
                }
            }
            if ContinuousClock.now - lastStatus >= .milliseconds(500) {
                lastStatus = .now
                if let status = try? outbox.status() { events(.status(status, treeSize: (try? log.tree.size) ?? 0)) }
            }
        }
    }
}
