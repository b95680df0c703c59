import Foundation
import JSONDocument
import Journal
import Logging
import Synchronization
import Timing
import TransparencyLog

/// What the forwarder did, for metrics.
public enum ForwarderEvent: Sendable {
    /// `batches` batches anchored by one checkpoint of `treeSize` (more than one in a coalescing
    /// window); `leaves` they add; `cutAtMs` when the oldest of them was cut.
    case anchored(treeSize: UInt64, leaves: UInt64, batches: Int, cutAtMs: Int64)
    case retryableFailure(treeSize: UInt64, reason: String, attempt: Int)
    case permanentFailure(treeSize: UInt64, reason: String)
    case availability(Bool)
}

/// Sends the outbox to the ledger, one anchor in flight at a time (each consistency proof starts
/// at a checkpoint the ledger already holds), in one of two windows:
///
/// - `oneBatch`: the oldest pending batch, batch by batch (the embedded ledger).
/// - `coalescing`: the newest pending batch, whose checkpoint covers every pending one; a
///   receipt marks them all anchored by it. The batch size thus adapts to the ledger's commit
///   time: while one anchor commits, the next gathers whatever is cut meanwhile. For a ledger
///   whose anchors serialize per origin (Fabric: every anchor reads and writes the origin's
///   head, so a second one in flight would fail its MVCC check) this keeps up with any ingest
///   rate at one transaction per commit time. A batch once offered is offered again unchanged
///   until the ledger answers for good (it may hold it already, after a timeout or a crash),
///   and only then does the window grow again.
///
/// - A receipt marks the batch anchored and frees its copy of the leaves.
/// - A retryable failure leaves the batch first in line; the wait grows with full jitter up
///   to the cap, but a health probe ends it as soon as the ledger answers again.
/// - A permanent failure moves the batch to the failed state (a dead letter, with an alarm) and
///   the next batch goes: its checkpoint covers the whole tree, so its consistency proof runs
///   from the last anchored checkpoint and the refused batch's leaves are still anchored.
///
/// A crash between the ledger's receipt and `markAnchored` resends the batch on restart, and
/// the ledger's idempotency on (origin, tree size) returns the same receipt.
public final class LedgerForwarder: Sendable {
    private let outbox: Outbox
    private let tree: LogTree<SQLiteSubtreeHashStore>
    private let client: any LedgerClient
    private let retry: Backoff
    private let healthProbeInterval: Duration
    private let logger: Logger
    private let events: @Sendable (ForwarderEvent) -> Void
    private let idlePoll: Duration
    private let window: Window
    private let cutBeforeAnchor: (@Sendable (_ alongside: @escaping AlongsideCut) throws -> Void)?
    private let admit: (@Sendable () async -> Admission)?
    private let refusalLogged = Mutex<Bool>(false)
    /// The anchor chosen in the transaction that stored the last receipt, for the next call.
    private let chosenWithReceipt = Mutex<OutboxBatch?>(nil)
    private let consecutiveFailures = Mutex<Int>(0)

    /// What the forwarder runs inside the journal transaction of the cut before an anchor.
    public typealias AlongsideCut = @Sendable (JournalTransaction) throws -> Void

    public enum Window: Sendable, Equatable {
        case oneBatch
        case coalescing
    }

    /// Whether anchoring may go on: the gateway's check that the ledger's head agrees with the
    /// journal (Fabric) answers it before every anchor.
    public enum Admission: Sendable, Equatable {
        case proceed
        /// Not known yet (the ledger is unreachable): wait and ask again.
        case wait(String)
        /// The ledger and the journal disagree: anchor nothing more.
        case refuse(String)
    }

    /// `retry` is fully jittered (`Backoff.Jitter.full`) unless the caller says otherwise; while
    /// it waits, the ledger's health is probed every `healthProbeInterval` and an answer ends the wait.
    /// `cutBeforeAnchor` (coalescing window only) runs after each receipt and before an anchor not
    /// chosen yet: the gateway cuts a batch of every leaf logged so far, so an anchor starts as soon
    /// as the previous one is answered instead of waiting for `batch.maxAge`. It runs the closure it
    /// is handed in the journal transaction of its last cut (`LedgerBatcher.cutDueBatches(alongside:)`),
    /// where the forwarder stores the receipt and chooses and marks the next anchor: one journal
    /// write between two anchors, not three (at the full rate every write waits for the
    /// pipeline's). `admit` runs before each anchor is offered.
    public init(outbox: Outbox, tree: LogTree<SQLiteSubtreeHashStore>, client: any LedgerClient, retry: Backoff = Backoff(jitter: .full),
                healthProbeInterval: Duration = .seconds(1), window: Window = .oneBatch,
                cutBeforeAnchor: (@Sendable (_ alongside: @escaping AlongsideCut) throws -> Void)? = nil,
                admit: (@Sendable () async -> Admission)? = nil, idlePoll: Duration = .milliseconds(20), logger: Logger,
                events: @escaping @Sendable (ForwarderEvent) -> Void = { _ in }) {
        self.outbox = outbox
        self.tree = tree
        self.client = client
        self.retry = retry
        self.healthProbeInterval = healthProbeInterval
        self.window = window
        self.cutBeforeAnchor = window == .coalescing ? cutBeforeAnchor : nil
        self.admit = admit
        self.idlePoll = idlePoll
        self.logger = logger
        self.events = events
    }

    public enum Step: Sendable, Equatable {
        case idle
        case anchored(UInt64)
        case retryLater(UInt64)
        case failed(UInt64)
        /// `admit` refused: nothing is anchored until the operator recovers.
        case refused
    }

    /// Forwards until cancelled.
    public func run() async {
        while !Task.isCancelled {
            switch await forwardNext() {
            case .idle:
                try? await Task.sleep(for: idlePoll)
            case .anchored, .failed:
                continue
            case .retryLater:
                await backOff()
            case .refused:
                try? await Task.sleep(for: healthProbeInterval)
            }
        }
    }

    /// Offers the next anchor of the window to the ledger once.
    public func forwardNext() async -> Step {
        if let refusal = await admission() { return refusal }
        let batch: OutboxBatch
        let ledgerBatch: LedgerBatch
        let covered: [OutboxBatch]
        let chosenInCut = chosenWithReceipt.withLock { chosen in defer { chosen = nil }; return chosen }.map { ChoiceInCut.made($0) } ?? cutAndChoose()
        do {
            guard let next = try chooseApart(unless: chosenInCut) else { return .idle }
            batch = next
            covered = window == .coalescing ? try outbox.pendingBatches(upTo: batch.treeSize) : [batch]
            ledgerBatch = try prepare(batch)
            if window == .coalescing, case .notMade = chosenInCut { try outbox.markSubmitted(batch: batch.treeSize) }
        } catch {
            logger.error("ALARM: cannot read the ledger outbox", metadata: ["reason": "\(error)"])
            return .retryLater(0)
        }
        switch await client.submit(ledgerBatch) {
        case .anchored(let receipt):
            guard storeReceipt(receipt, of: batch) else { return .retryLater(batch.treeSize) }
            let failures = consecutiveFailures.withLock { count in defer { count = 0 }; return count }
            if failures > 0 {
                logger.notice("ledger reachable again", metadata: ["failedAttempts": "\(failures)"])
                events(.availability(true))
            }
            let first = covered.first ?? batch
            events(.anchored(treeSize: batch.treeSize, leaves: batch.treeSize - first.firstLeaf, batches: covered.count,
                             cutAtMs: covered.map(\.cutAtMs).min() ?? batch.cutAtMs))
            return .anchored(batch.treeSize)
        case .retryable(let reason):
            let attempt = consecutiveFailures.withLock { count in count += 1; return count }
            try? outbox.recordAttempt(ofBatch: batch.treeSize, error: reason)
            if attempt == 1 {
                logger.warning("ledger unavailable; readings keep being journaled, signed and logged, and wait in the outbox", metadata: ["batch": "\(batch.treeSize)", "reason": "\(reason)"])
                events(.availability(false))
            } else if attempt.isMultiple(of: 20) {
                logger.warning("ledger still unavailable", metadata: ["attempts": "\(attempt)", "reason": "\(reason)"])
            }
            events(.retryableFailure(treeSize: batch.treeSize, reason: reason, attempt: attempt))
            return .retryLater(batch.treeSize)
        case .permanent(let reason):
            consecutiveFailures.withLock { $0 = 0 }
            do {
                try outbox.markFailed(batch: batch.treeSize, reason: reason)
            } catch {
                logger.error("cannot record a refused batch", metadata: ["batch": "\(batch.treeSize)", "reason": "\(error)"])
                return .retryLater(batch.treeSize)
            }
            logger.critical("ALARM: the ledger refused a batch for good; it is kept as a dead letter and the next batch goes on", metadata: [
                "batch": "\(batch.treeSize)", "reason": "\(reason)",
            ])
            events(.permanentFailure(treeSize: batch.treeSize, reason: reason))
            return .failed(batch.treeSize)
        }
    }

    /// Whether the anchor was chosen (and marked submitted) in the cut's transaction.
    private enum ChoiceInCut: Sendable {
        case notMade
        case made(OutboxBatch?)
    }

    private final class ChoiceBox: Sendable {
        let choice = Mutex<ChoiceInCut>(.notMade)
    }

    /// The anchor chosen in a cut, or else the window's next one read apart.
    private func chooseApart(unless choice: ChoiceInCut) throws -> OutboxBatch? {
        if case .made(let chosen) = choice { return chosen }
        return try window == .coalescing ? outbox.nextCoalescingTarget() : outbox.nextPendingBatch()
    }

    /// Stores a receipt. In a coalescing window it goes in the transaction of the next anchor's
    /// cut, whose choice the next call takes: one journal write between two anchors. If that cut
    /// fails (and rolls back with the receipt), the receipt is stored on its own.
    private func storeReceipt(_ receipt: LedgerReceipt, of batch: OutboxBatch) -> Bool {
        let bytes = receipt.document.serializedBytes
        let kind = client.kind
        let store: AlongsideCut = { [outbox] transaction in
            try outbox.markAnchored(batch: batch.treeSize, ledger: kind, receipt: bytes, in: transaction)
        }
        if case .made(let next) = cutAndChoose(storing: store) {
            chosenWithReceipt.withLock { $0 = next }
            return true
        }
        do {
            try outbox.markAnchored(batch: batch.treeSize, ledger: kind, receipt: bytes)
            return true
        } catch {
            // Resent after the next wait: the ledger answers with this same receipt.
            logger.error("receipt not stored; the batch will be resent", metadata: ["batch": "\(batch.treeSize)", "reason": "\(error)"])
            return false
        }
    }

    /// Cuts what is logged and, in the cut's own transaction, stores `storing` and chooses and
    /// marks the anchor. Not made when there is no cut hook, the cut failed (its transaction
    /// rolled back), or the hook did not run the choice: the caller then chooses apart.
    private func cutAndChoose(storing: AlongsideCut? = nil) -> ChoiceInCut {
        guard let cutBeforeAnchor else { return .notMade }
        let box = ChoiceBox()
        do {
            try cutBeforeAnchor { [outbox] transaction in
                try storing?(transaction)
                let target = try outbox.coalescingTarget(in: transaction)
                if let target { try outbox.markSubmitted(batch: target.treeSize, in: transaction) }
                box.choice.withLock { $0 = .made(target) }
            }
        } catch {
            logger.warning("the leaves logged so far could not be cut before an anchor; they go with the next batch", metadata: ["reason": "\(error)"])
            return .notMade
        }
        return box.choice.withLock { $0 }
    }

    /// nil when `admit` lets anchoring go on. A wait counts as a failed attempt (the ledger is
    /// unavailable): it backs off, and a health probe that answers ends the wait.
    private func admission() async -> Step? {
        guard let admit else { return nil }
        switch await admit() {
        case .proceed:
            return nil
        case .wait(let reason):
            let attempt = consecutiveFailures.withLock { count in count += 1; return count }
            if attempt == 1 || attempt.isMultiple(of: 20) {
                logger.warning("anchoring waits until the ledger's head can be compared with the journal; readings keep being journaled, signed and logged", metadata: ["reason": "\(reason)", "attempts": "\(attempt)"])
            }
            if attempt == 1 { events(.availability(false)) }
            return .retryLater(0)
        case .refuse(let problem):
            if !refusalLogged.withLock({ logged in defer { logged = true }; return logged }) {
                logger.critical("ALARM: the ledger and the journal disagree; nothing more is anchored, readings wait in the outbox", metadata: ["problem": "\(problem)"])
            }
            return .refused
        }
    }

    /// The batch's checkpoint with its proof from the last anchored one. A coalescing window sends
    /// no entries (the ledger anchors the checkpoint; the leaves of many batches need not be read).
    private func prepare(_ batch: OutboxBatch) throws -> LedgerBatch {
        let anchored = try outbox.lastAnchoredSize()
        let proof = anchored == 0
            ? ConsistencyProof(fromSize: 0, toSize: batch.treeSize, hashes: [])
            : try tree.consistencyProof(fromSize: anchored, toSize: batch.treeSize)
        let entries = window == .coalescing ? [] : try outbox.entries(ofBatch: batch.treeSize) ?? []
        return LedgerBatch(
            key: BatchKey(origin: batch.origin, treeSize: batch.treeSize), checkpointNote: batch.checkpointNote, consistencyProof: proof,
            entries: entries.map { LedgerEntry(leafIndex: $0.leafIndex, leafData: $0.leafData) })
    }

    /// Waits out the backoff, probing the ledger's health meanwhile; returns early once it answers.
    private func backOff() async {
        let failures = consecutiveFailures.withLock { $0 }
        let deadline = ContinuousClock.now + retry.delay(failures: failures)
        while !Task.isCancelled, ContinuousClock.now < deadline {
            let remaining = deadline - ContinuousClock.now
            try? await Task.sleep(for: min(remaining, healthProbeInterval))
            guard ContinuousClock.now < deadline else { return }
            if await client.health().isAvailable { return }
        }
    }
}
