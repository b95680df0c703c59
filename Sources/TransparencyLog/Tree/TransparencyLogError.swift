/// Errors from building, storing and querying the log tree.
public enum TransparencyLogError: Error, Equatable, Sendable, CustomStringConvertible {
    case leafIndexOutOfRange(leafIndex: UInt64, treeSize: UInt64)
    /// A size larger than the tree (or zero where a leaf is needed) was asked for.
    case treeSizeOutOfRange(requested: UInt64, currentSize: UInt64)
    case invalidConsistencyRange(fromSize: UInt64, toSize: UInt64)
    /// A hash the tree needs is not in storage: the store is damaged or not this tree's.
    case missingTile(level: Int, tileIndex: UInt64)
    case corruptTile(level: Int, tileIndex: UInt64, reason: String)
    /// Storage no longer matches this `LogTree` (another writer, or a rolled-back
    /// savepoint around an append). Open a new `LogTree` on the store.
    case storeOutOfSync(expectedSize: UInt64, storedSize: UInt64)
    /// `append(contentsOf:in:)` needs an open transaction so leaves and tree commit together.
    case notInTransaction
    /// The tree would exceed 2^63 − 1 leaves (SQLite integers are signed).
    case treeFull

    public var description: String {
        switch self {
        case .leafIndexOutOfRange(let index, let size):
            "leaf index \(index) is out of range for tree size \(size)"
        case .treeSizeOutOfRange(let requested, let current):
            "tree size \(requested) is out of range (the log has \(current) leaves)"
        case .invalidConsistencyRange(let from, let to):
            "no consistency proof from size \(from) to size \(to): need from ≤ to ≤ tree size"
        case .missingTile(let level, let index):
            "storage has no hashes for tile \(index) at level \(level); the store is damaged or belongs to another tree"
        case .corruptTile(let level, let index, let reason):
            "tile \(index) at level \(level) is corrupt: \(reason)"
        case .storeOutOfSync(let expected, let stored):
            "the journal's Merkle log holds \(stored) leaves where the gateway expected \(expected): a write that failed "
                + "(disk full or an I/O error) was rolled back. The gateway re-reads the log and retries; if this repeats, "
                + "stop it and run `wardgate journal check` (\"Faults and recovery\" in docs/deployment.md)"
        case .notInTransaction:
            "appending inside a caller's database needs an open transaction"
        case .treeFull:
            "the tree cannot grow past 2^63 - 1 leaves"
        }
    }
}
