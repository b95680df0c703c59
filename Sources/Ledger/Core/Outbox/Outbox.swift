import Foundation
import GRDB
import Journal
import Transparency
import TransparencyLog

/// A batch waiting for (or done with) the ledger: a signed checkpoint and the leaves it adds.
public struct OutboxBatch: Sendable, Hashable {
    public enum State: String, Sendable {
        case pending, anchored, failed
    }

    public let treeSize: UInt64
    public let origin: String
    /// The previous batch's tree size: this batch adds leaves `firstLeaf..<treeSize`.
    public let firstLeaf: UInt64
    public let checkpointNote: String
    public let cutAtMs: Int64
    public let state: State
    public let attempts: Int
    public let lastError: String?
    /// The ledger's receipt (JSON) once anchored.
    public let receipt: [UInt8]?
    public let finishedAtMs: Int64?
    /// For a batch anchored by a later batch's checkpoint (the forwarder's coalescing window):
    /// that batch's tree size. Its receipt and checkpoint are the ones that prove these leaves.
    public let anchoredBy: UInt64?
    /// When the forwarder first offered this batch's checkpoint to a coalescing ledger: it is
    /// offered again, unchanged, until the ledger answers for good.
    public let submittedAtMs: Int64?

    init(row: Row) {
        treeSize = UInt64(row["tree_size"] as Int64)
        origin = row["origin"]
        firstLeaf = UInt64(row["first_leaf"] as Int64)
        checkpointNote = row["checkpoint"]
        cutAtMs = row["cut_at_ms"]
        state = State(rawValue: row["state"]) ?? .pending
        attempts = row["attempts"]
        lastError = row["last_error"]
        receipt = (row["receipt"] as Data?).map { Array($0) }
        finishedAtMs = row["finished_at_ms"]
        anchoredBy = (row["anchored_by"] as Int64?).map(UInt64.init)
        submittedAtMs = row["submitted_at_ms"]
    }
}

/// One leaf of a batch: its index and its leaf bytes.
public struct OutboxEntry: Sendable, Hashable {
    public let leafIndex: UInt64
    public let leafData: [UInt8]

    public init(leafIndex: UInt64, leafData: [UInt8]) {
        self.leafIndex = leafIndex
        self.leafData = leafData
    }

    /// `(u64 BE leaf index, u32 BE length, bytes)*`: one blob per batch, written once.
    static func encode(_ entries: [OutboxEntry]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(entries.reduce(0) { $0 + 12 + $1.leafData.count })
        for entry in entries {
            for shift in stride(from: 56, through: 0, by: -8) { out.append(UInt8(truncatingIfNeeded: entry.leafIndex >> UInt64(shift))) }
            let count = UInt32(entry.leafData.count)
            for shift in stride(from: 24, through: 0, by: -8) { out.append(UInt8(truncatingIfNeeded: count >> UInt32(shift))) }
            out += entry.leafData
        }
        return out
    }

    static func decode(_ bytes: [UInt8]) -> [OutboxEntry]? {
        var entries: [OutboxEntry] = []
        var i = 0
        while i < bytes.count {
            guard bytes.count - i >= 12 else { return nil }
            let index = bytes[i..<i + 8].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
            let count = Int(bytes[i + 8..<i + 12].reduce(UInt32(0)) { $0 << 8 | UInt32($1) })
            i += 12
            guard bytes.count - i >= count else { return nil }
            entries.append(OutboxEntry(leafIndex: index, leafData: Array(bytes[i..<i + count])))
            i += count
        }
        return entries
    }
}

/// The ledger backlog at a glance (metrics, STATUS, the demo).
public struct OutboxStatus: Sendable, Equatable {
    /// Leaves covered by a batch (the largest batch's tree size).
    public let batchedSize: UInt64
    /// Leaves covered by an anchored checkpoint.
    public let anchoredSize: UInt64
    public let pendingBatches: Int
    public let failedBatches: Int
    public let oldestPendingCutAtMs: Int64?

    /// Leaves cut into batches but not anchored yet.
    public var pendingLeaves: UInt64 { batchedSize > anchoredSize ? batchedSize - anchoredSize : 0 }
}

/// The ledger outbox: batches cut for the ledger, each with its signed checkpoint and (until it is
/// anchored) its leaves, kept in the journal file in `ledger_outbox` so a batch commits in the
/// same transaction as its checkpoint and waits on disk while the ledger is away.
public struct Outbox: Sendable {
    public let journal: Journal

    /// The outbox's table in the journal file. Its migration shipped as "v5-ledger-outbox".
    public static let tables = JournalTables(owner: "ledger outbox") { migrator in
        migrator.registerMigration("v5-ledger-outbox") { db in
            // Batches cut for the ledger. `entries` holds the batch's leaves until it is anchored
            // (then NULL: the receipt and checkpoint stay, the copy of the leaves is freed).
            try db.execute(sql: """
                CREATE TABLE ledger_outbox (
                    tree_size INTEGER PRIMARY KEY,
                    origin TEXT NOT NULL,
                    first_leaf INTEGER NOT NULL,
                    checkpoint TEXT NOT NULL,
                    entry_count INTEGER NOT NULL,
                    entries BLOB,
                    cut_at_ms INTEGER NOT NULL,
                    state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'anchored', 'failed')),
                    attempts INTEGER NOT NULL DEFAULT 0,
                    last_error TEXT,
                    ledger TEXT,
                    receipt BLOB,
                    finished_at_ms INTEGER
                );
                CREATE INDEX ledger_outbox_by_state ON ledger_outbox(state, tree_size);
                """)
        }
        migrator.registerMigration("v6-ledger-outbox-coalescing") { db in
            try db.execute(sql: """
                ALTER TABLE ledger_outbox ADD COLUMN anchored_by INTEGER;
                ALTER TABLE ledger_outbox ADD COLUMN submitted_at_ms INTEGER;
                """)
        }
    }

    /// `journal` must have been opened with `Outbox.tables`.
    public init(journal: Journal) throws(JournalError) {
        try journal.requireTables(Outbox.tables)
        self.journal = journal
    }

    // MARK: Cutting batches

    /// The tree size the last batch was cut at (0 before the first).
    public func lastBatchedSize() throws(JournalError) -> UInt64 {
        try journal.read { transaction in try Outbox.lastBatchedSize(transaction.database) }
    }

    static func lastBatchedSize(_ db: Database) throws -> UInt64 {
        UInt64(try Int64.fetchOne(db, sql: "SELECT MAX(tree_size) FROM ledger_outbox") ?? 0)
    }

    /// Puts a cut batch in the outbox, in the caller's transaction (with its checkpoint).
    public func enqueueBatch(
        origin: String, firstLeaf: UInt64, treeSize: UInt64, checkpointNote: String, entries: [OutboxEntry], now: Date, in transaction: JournalTransaction
    ) throws {
        try transaction.database.execute(
            sql: "INSERT INTO ledger_outbox (tree_size, origin, first_leaf, checkpoint, entry_count, entries, cut_at_ms) VALUES (?, ?, ?, ?, ?, ?, ?)",
            arguments: [Int64(treeSize), origin, Int64(firstLeaf), checkpointNote, entries.count, Data(OutboxEntry.encode(entries)), Journal.milliseconds(now)])
    }

    // MARK: Forwarding

    /// The oldest batch still waiting for the ledger.
    public func nextPendingBatch() throws(JournalError) -> OutboxBatch? {
        try journal.read { transaction in
            try Row.fetchOne(transaction.database, sql: "SELECT * FROM ledger_outbox WHERE state = 'pending' ORDER BY tree_size LIMIT 1").map(OutboxBatch.init(row:))
        }
    }

    /// The batch a coalescing window anchors next: one already offered to the ledger and not
    /// answered for good (it must be offered again unchanged: the ledger may hold it already, and
    /// any other checkpoint would carry a proof from a size the ledger has moved past), else the
    /// newest pending batch, whose checkpoint covers every pending one.
    public func nextCoalescingTarget() throws(JournalError) -> OutboxBatch? {
        try journal.read { transaction in try coalescingTarget(in: transaction) }
    }

    /// `nextCoalescingTarget`, in the caller's transaction (the cut that precedes an anchor).
    public func coalescingTarget(in transaction: JournalTransaction) throws -> OutboxBatch? {
        let db = transaction.database
        return try (Row.fetchOne(db, sql: "SELECT * FROM ledger_outbox WHERE state = 'pending' AND submitted_at_ms IS NOT NULL ORDER BY tree_size LIMIT 1")
            ?? Row.fetchOne(db, sql: "SELECT * FROM ledger_outbox WHERE state = 'pending' ORDER BY tree_size DESC LIMIT 1")).map(OutboxBatch.init(row:))
    }

    /// Records, before the ledger sees it, that this batch is being offered (see `nextCoalescingTarget`).
    public func markSubmitted(batch treeSize: UInt64, now: Date = Date()) throws(JournalError) {
        try journal.write { transaction in try markSubmitted(batch: treeSize, now: now, in: transaction) }
    }

    /// `markSubmitted`, in the caller's transaction.
    public func markSubmitted(batch treeSize: UInt64, now: Date = Date(), in transaction: JournalTransaction) throws {
        try transaction.database.execute(
            sql: "UPDATE ledger_outbox SET submitted_at_ms = ? WHERE tree_size = ? AND submitted_at_ms IS NULL",
            arguments: [Journal.milliseconds(now), Int64(treeSize)])
    }

    /// The pending batches a checkpoint of `treeSize` anchors with it: oldest first, itself last.
    public func pendingBatches(upTo treeSize: UInt64) throws(JournalError) -> [OutboxBatch] {
        try journal.read { transaction in
            try Row.fetchAll(transaction.database, sql: "SELECT * FROM ledger_outbox WHERE state = 'pending' AND tree_size <= ? ORDER BY tree_size",
                             arguments: [Int64(treeSize)]).map(OutboxBatch.init(row:))
        }
    }

    /// The leaves of a pending batch (nil once anchored: the copy is freed then).
    public func entries(ofBatch treeSize: UInt64) throws(JournalError) -> [OutboxEntry]? {
        try journal.read { transaction in
            try Data.fetchOne(transaction.database, sql: "SELECT entries FROM ledger_outbox WHERE tree_size = ?", arguments: [Int64(treeSize)])
                .flatMap { OutboxEntry.decode(Array($0)) }
        }
    }

    /// The largest anchored tree size (0 before the first receipt).
    public func lastAnchoredSize() throws(JournalError) -> UInt64 {
        try journal.read { transaction in try Outbox.lastAnchoredSize(transaction.database) }
    }

    static func lastAnchoredSize(_ db: Database) throws -> UInt64 {
        UInt64(try Int64.fetchOne(db, sql: "SELECT MAX(tree_size) FROM ledger_outbox WHERE state = 'anchored'") ?? 0)
    }

    /// The checkpoint of the largest anchored batch (nil before the first receipt).
    public func lastAnchoredCheckpoint() throws -> Checkpoint? {
        let note = try journal.read { transaction in
            try String.fetchOne(transaction.database, sql: "SELECT checkpoint FROM ledger_outbox WHERE state = 'anchored' ORDER BY tree_size DESC LIMIT 1")
        }
        return try note.map { try Checkpoint(parsing: SignedNote(parsing: $0).text) }
    }

    public func recordAttempt(ofBatch treeSize: UInt64, error: String) throws(JournalError) {
        try journal.write { transaction in
            try transaction.database.execute(
                sql: "UPDATE ledger_outbox SET attempts = attempts + 1, last_error = ? WHERE tree_size = ?", arguments: [error, Int64(treeSize)])
        }
    }

    /// Stores the receipt and frees the batch's copy of its leaves. The pending batches below it
    /// are anchored by the same checkpoint, which covers their leaves: they are marked anchored
    /// by it (`anchoredBy`), in the same transaction. Returns how many batches it marked.
    @discardableResult
    public func markAnchored(batch treeSize: UInt64, ledger: String, receipt: [UInt8], now: Date = Date()) throws(JournalError) -> Int {
        try journal.write { transaction in try markAnchored(batch: treeSize, ledger: ledger, receipt: receipt, now: now, in: transaction) }
    }

    /// `markAnchored`, in the caller's transaction (the forwarder's next cut).
    @discardableResult
    public func markAnchored(batch treeSize: UInt64, ledger: String, receipt: [UInt8], now: Date = Date(), in transaction: JournalTransaction) throws -> Int {
        let db = transaction.database
        try db.execute(
            sql: """
                UPDATE ledger_outbox SET state = 'anchored', attempts = attempts + 1, ledger = ?, receipt = ?, entries = NULL,
                last_error = NULL, finished_at_ms = ? WHERE tree_size = ?
                """,
            arguments: [ledger, Data(receipt), Journal.milliseconds(now), Int64(treeSize)])
        try db.execute(
            sql: """
                UPDATE ledger_outbox SET state = 'anchored', ledger = ?, anchored_by = ?, entries = NULL, last_error = NULL, finished_at_ms = ?
                WHERE state = 'pending' AND tree_size < ?
                """,
            arguments: [ledger, Int64(treeSize), Journal.milliseconds(now), Int64(treeSize)])
        return db.changesCount + 1
    }

    /// A batch the ledger refused for good: kept, with its leaves, as a dead letter. Its leaves
    /// are still anchored by the next batch's checkpoint, which covers the whole tree.
    public func markFailed(batch treeSize: UInt64, reason: String, now: Date = Date()) throws(JournalError) {
        try journal.write { transaction in
            try transaction.database.execute(
                sql: "UPDATE ledger_outbox SET state = 'failed', attempts = attempts + 1, last_error = ?, finished_at_ms = ? WHERE tree_size = ?",
                arguments: [reason, Journal.milliseconds(now), Int64(treeSize)])
        }
    }

    /// The ledger backlog at a glance (metrics, STATUS, `wardgate ledger status`, the demo).
    public func status() throws(JournalError) -> OutboxStatus {
        try journal.read { transaction in
            let row = try Row.fetchOne(transaction.database, sql: """
                SELECT
                  (SELECT MAX(tree_size) FROM ledger_outbox) AS batched,
                  (SELECT MAX(tree_size) FROM ledger_outbox WHERE state = 'anchored') AS anchored,
                  (SELECT COUNT(*) FROM ledger_outbox WHERE state = 'pending') AS pending,
                  (SELECT COUNT(*) FROM ledger_outbox WHERE state = 'failed') AS failed,
                  (SELECT MIN(cut_at_ms) FROM ledger_outbox WHERE state = 'pending') AS oldest
                """)
            return OutboxStatus(
                batchedSize: UInt64((row?["batched"] as Int64?) ?? 0), anchoredSize: UInt64((row?["anchored"] as Int64?) ?? 0),
                pendingBatches: row?["pending"] ?? 0, failedBatches: row?["failed"] ?? 0, oldestPendingCutAtMs: row?["oldest"])
        }
    }

    /// Every batch, oldest first (for tests and `wardgate ledger status`).
    public func batches() throws(JournalError) -> [OutboxBatch] {
        try journal.read { transaction in
            try Row.fetchAll(transaction.database, sql: "SELECT * FROM ledger_outbox ORDER BY tree_size").map(OutboxBatch.init(row:))
        }
    }

    /// The batch cut at `treeSize`, if any.
    public func batch(treeSize: UInt64) throws(JournalError) -> OutboxBatch? {
        try journal.read { transaction in
            try Row.fetchOne(transaction.database, sql: "SELECT * FROM ledger_outbox WHERE tree_size = ?", arguments: [Int64(treeSize)]).map(OutboxBatch.init(row:))
        }
    }

    /// The anchored batch whose own checkpoint first covers a leaf, with its receipt (a batch
    /// anchored by a later one's checkpoint is skipped: that later batch proves its leaves).
    public func anchoringBatch(forLeaf index: UInt64) throws(JournalError) -> OutboxBatch? {
        try journal.read { transaction in
            try Row.fetchOne(
                transaction.database, sql: "SELECT * FROM ledger_outbox WHERE state = 'anchored' AND anchored_by IS NULL AND tree_size > ? ORDER BY tree_size LIMIT 1",
                arguments: [Int64(index)]
            ).map(OutboxBatch.init(row:))
        }
    }

    // MARK: Retention

    /// The newest time the outbox recorded (a batch cut, a receipt stored), in Unix ms.
    public func newestRecordedTimeMs() throws(JournalError) -> Int64? {
        try journal.read { transaction in
            try Int64.fetchOne(transaction.database, sql: "SELECT MAX(MAX(cut_at_ms), IFNULL(MAX(finished_at_ms), 0)) FROM ledger_outbox")
        }
    }

    public struct PruneOutcome: Sendable, Equatable {
        public let observations: Int
        public let inboxRecords: Int

        public init(observations: Int, inboxRecords: Int) {
            self.observations = observations
            self.inboxRecords = inboxRecords
        }
    }

    /// Deletes anchored Observations received before `cutoff`, and the inbox messages before
    /// it that precede every remaining Observation and back no dead letter, in one transaction.
    /// Unanchored, quarantined and dead-lettered data is kept whatever its age. The log's subtree
    /// hashes, checkpoints and receipts are never pruned, so exported proofs of pruned readings
    /// stay checkable.
    public func pruneAnchored(receivedBefore cutoff: Date) throws(JournalError) -> PruneOutcome {
        try journal.write { transaction in
            let anchored = try Outbox.lastAnchoredSize(transaction.database)
            let observations = try LeafIndex.deleteLoggedObservations(below: anchored, receivedBefore: cutoff, in: transaction)
            return PruneOutcome(observations: observations, inboxRecords: try Journal.pruneInbox(receivedBefore: cutoff, in: transaction))
        }
    }
}
