import Foundation
import GRDB

/// Signed checkpoints kept beside the tree, in `log_checkpoints`, so that a
/// restarted gateway knows the last checkpoint it signed.
extension SQLiteSubtreeHashStore {
    /// Stores a signed checkpoint in the caller's transaction. Storing the same
    /// size again keeps the first note; a different root for a stored size throws.
    public static func recordSignedCheckpoint(_ signed: SignedCheckpoint, in db: Database) throws {
        let checkpoint = signed.checkpoint
        guard let size = Int64(exactly: checkpoint.size) else { throw TransparencyLogError.treeFull }
        if let storedRoot = try Data.fetchOne(db, sql: "SELECT root_hash FROM log_checkpoints WHERE tree_size = ?", arguments: [size]) {
            guard let existing = MerkleHash(bytes: storedRoot), existing == checkpoint.rootHash else {
                throw CheckpointPolicyError.conflictingRoot(
                    size: checkpoint.size,
                    signedRoot: MerkleHash(bytes: storedRoot) ?? .zero,
                    currentRoot: checkpoint.rootHash)
            }
            return
        }
        try db.execute(
            sql: "INSERT INTO log_checkpoints (tree_size, root_hash, note) VALUES (?, ?, ?)",
            arguments: [size, Data(checkpoint.rootHash.bytes), signed.text])
    }

    /// Stores a signed checkpoint in its own transaction.
    public func recordSignedCheckpoint(_ signed: SignedCheckpoint) throws {
        try writer.write { db in try Self.recordSignedCheckpoint(signed, in: db) }
    }

    /// The note text of the largest signed checkpoint, if any.
    public static func latestSignedCheckpointNote(in db: Database) throws -> String? {
        try String.fetchOne(db, sql: "SELECT note FROM log_checkpoints ORDER BY tree_size DESC LIMIT 1")
    }

    public func latestSignedCheckpointNote() throws -> String? {
        try writer.read { db in try Self.latestSignedCheckpointNote(in: db) }
    }
}
