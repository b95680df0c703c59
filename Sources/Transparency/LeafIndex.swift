import Foundation
import GRDB
import Journal
import TransparencyLog

/// Which log leaf each signed Observation became: the `leaf_index` column of the journal's
/// Observation rows, owned by the Merkle log. Its migration shipped as "v4-log-leaves"; the
/// log's tiles and checkpoints ("transparencyLog.v1") come with it in `tables`.
public struct LeafIndex: Sendable {
    public let journal: Journal

    /// The Merkle log's tables in the journal file: the leaf index, then TransparencyLog's tiles
    /// and signed checkpoints.
    public static let tables = JournalTables(owner: "Merkle log") { migrator in
        migrator.registerMigration("v4-log-leaves") { db in
            try db.execute(sql: """
                ALTER TABLE observation ADD COLUMN leaf_index INTEGER;
                CREATE UNIQUE INDEX observation_by_leaf ON observation(leaf_index) WHERE leaf_index IS NOT NULL;
                """)
        }
        SQLiteSubtreeHashStore.registerMigrations(&migrator)
    }

    /// `journal` must have been opened with `LeafIndex.tables`.
    public init(journal: Journal) throws(JournalError) {
        try journal.requireTables(LeafIndex.tables)
        self.journal = journal
    }

    /// The log's tree as stored in the journal (read-only use: proofs, roots, sizes).
    public func tree() throws -> LogTree<SQLiteSubtreeHashStore> {
        try LogTree(writer: journal.databaseWriter)
    }

    /// Records which leaf an Observation became, in the commit that journals it.
    static func record(_ index: UInt64, observationId: String, in transaction: JournalTransaction) throws {
        try transaction.database.cachedStatement(sql: "UPDATE observation SET leaf_index = ? WHERE id = ?")
            .execute(arguments: [Int64(index), ObservationKey.value(observationId)])
    }

    /// The Observation at a leaf.
    public func observation(leafIndex: UInt64) throws(JournalError) -> StoredObservation? {
        try journal.read { transaction in
            try Row.fetchOne(transaction.database, sql: "SELECT \(Journal.observationColumns) WHERE o.leaf_index = ?", arguments: [Int64(leafIndex)])
                .map(Journal.storedObservation)
        }
    }

    /// The leaf an Observation became (nil: quarantined, or not logged).
    public func leafIndex(ofObservation id: String) throws(JournalError) -> UInt64? {
        try journal.read { transaction in
            try Int64.fetchOne(transaction.database, sql: "SELECT leaf_index FROM observation WHERE id = ?", arguments: [ObservationKey.value(id)]).map { UInt64($0) }
        }
    }

    /// The leaves `range` as journaled: (leaf index, Observation JSON, JWS, certificate
    /// thumbprint), in leaf order.
    func loggedObservations(leaves range: Range<UInt64>) throws(JournalError) -> [(leafIndex: UInt64, resource: [UInt8], jws: String, thumbprint: String)] {
        try journal.read { transaction in
            try Row.fetchAll(
                transaction.database,
                sql: "SELECT \(Journal.observationColumns) WHERE o.leaf_index >= ? AND o.leaf_index < ? ORDER BY o.leaf_index",
                arguments: [Int64(range.lowerBound), Int64(range.upperBound)]
            ).map { row in
                let signature = Journal.signature(row)
                return (UInt64(row["leaf_index"] as Int64), Array((row["resource"] as Data?) ?? Data()), signature?.jws ?? "", signature?.certificateThumbprint ?? "")
            }
        }
    }

    /// When the message behind each leaf of `range` was received (the inbox row's time, kept
    /// as the Observation's `issued_at_ms`), in leaf order; leaves already pruned are missing.
    public func receivedAtMs(leaves range: Range<UInt64>) throws(JournalError) -> [Int64] {
        try journal.read { transaction in
            try Int64.fetchAll(
                transaction.database,
                sql: "SELECT issued_at_ms FROM observation WHERE leaf_index >= ? AND leaf_index < ? ORDER BY leaf_index",
                arguments: [Int64(range.lowerBound), Int64(range.upperBound)])
        }
    }

    /// The last leaf of each reading (device, device time) that has one.
    public func lastLeafIndexByReading() throws(JournalError) -> [ReadingKey: UInt64] {
        try journal.read { transaction in
            var leaves: [ReadingKey: UInt64] = [:]
            let sql = "SELECT device_id, effective_at_ms, MAX(leaf_index) AS leaf FROM observation WHERE leaf_index IS NOT NULL GROUP BY device_id, effective_at_ms"
            for row in try Row.fetchAll(transaction.database, sql: sql) {
                leaves[ReadingKey(deviceId: row["device_id"], effectiveAtMs: row["effective_at_ms"])] = UInt64(row["leaf"] as Int64)
            }
            return leaves
        }
    }

    /// How many Observations have a leaf.
    public func loggedObservationCount() throws(JournalError) -> Int {
        try journal.read { transaction in
            try Int.fetchOne(transaction.database, sql: "SELECT COUNT(*) FROM observation WHERE leaf_index IS NOT NULL") ?? 0
        }
    }

    /// Deletes, in the caller's transaction, the logged Observations below leaf `size` received
    /// before `cutoff` (retention of anchored readings: `Outbox.pruneAnchored`). Returns how many.
    package static func deleteLoggedObservations(below size: UInt64, receivedBefore cutoff: Date, in transaction: JournalTransaction) throws -> Int {
        try transaction.database.execute(
            sql: "DELETE FROM observation WHERE leaf_index IS NOT NULL AND leaf_index < ? AND issued_at_ms < ?",
            arguments: [Int64(size), Journal.milliseconds(cutoff)])
        return transaction.database.changesCount
    }
}
