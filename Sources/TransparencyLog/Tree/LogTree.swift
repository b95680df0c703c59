import Foundation
import Synchronization

/// The size and root hash of the tree at one moment.
public struct TreeHead: Hashable, Sendable {
    public let size: UInt64
    public let rootHash: MerkleHash

    public init(size: UInt64, rootHash: MerkleHash) {
        self.size = size
        self.rootHash = rootHash
    }
}

/// An append-only RFC 9162 Merkle tree persisted in a `SubtreeHashStore`.
///
/// - Appending a leaf costs O(1) amortized hashing (O(log n) worst case): the
///   tree keeps its right frontier in memory. A batch is written in one
///   storage transaction.
/// - The root at any size, and inclusion and consistency proofs for any
///   sizes, read O(log n) stored hashes; leaves are never rehashed.
/// - Opening a tree on a store rebuilds the frontier from storage, so the
///   re-opened tree gives exactly the same roots and proofs.
///
/// Use one `LogTree` per store: it assumes it is the only writer. Queries see
/// the last committed append; appends inside a caller's transaction become
/// visible when that transaction commits.
public final class LogTree<Store: SubtreeHashStore>: Sendable {
    public let store: Store
    private let state: Mutex<State>

    private struct State: Sendable {
        /// What storage holds as of the last commit this tree saw.
        var committed: TreeSnapshot
        /// Appends of a transaction still open (nil outside one).
        var pending: TreeSnapshot?
        /// Set when storage turned out to differ from `committed`.
        var needsReload = false
    }

    /// Opens the tree stored in `store` (an empty store gives an empty tree).
    public init(store: Store) throws {
        self.store = store
        let snapshot = try store.read { reader in
            try TreeSnapshot.load(size: reader.persistedSize(), from: reader)
        }
        state = Mutex(State(committed: snapshot))
    }

    // MARK: - Appending

    /// Appends one leaf hash; returns its index.
    @discardableResult
    public func append(_ leafHash: MerkleHash) throws -> UInt64 {
        try append(contentsOf: CollectionOfOne(leafHash)).lowerBound
    }

    /// Appends leaf hashes in one storage transaction; returns their indices.
    @discardableResult
    public func append(contentsOf leafHashes: some Collection<MerkleHash>) throws -> Range<UInt64> {
        try store.write { transaction in
            try append(contentsOf: leafHashes, using: transaction)
        }
    }

    /// Hashes each leaf (RFC 9162 leaf hash) and appends them in one transaction.
    @discardableResult
    public func append<Leaves: Collection>(leafData leaves: Leaves) throws -> Range<UInt64>
    where Leaves.Element: DataProtocol & Sendable {
        try append(contentsOf: RFC9162.leafHashes(leaves))
    }

    /// Appends inside an open storage transaction. The new leaves become
    /// visible to queries when the transaction commits; on rollback they are
    /// dropped. Several calls may share one transaction.
    func append(
        contentsOf leafHashes: some Collection<MerkleHash>,
        using transaction: any TreeStorageTransaction
    ) throws -> Range<UInt64> {
        try state.withLock { state in
            if state.needsReload && state.pending == nil {
                state.committed = try TreeSnapshot.load(size: transaction.persistedSize(), from: transaction)
                state.needsReload = false
            }
            let isFirstAppendOfTransaction = state.pending == nil
            var next = state.pending ?? state.committed
            let update = try next.append(contentsOf: leafHashes)
            do {
                try transaction.persist(update)
            } catch TransparencyLogError.storeOutOfSync(let expected, let stored) {
                // Storage changed under this tree (a failed commit rolled back): re-read it next time.
                if isFirstAppendOfTransaction { state.needsReload = true }
                throw TransparencyLogError.storeOutOfSync(expectedSize: expected, storedSize: stored)
            }
            state.pending = next
            if isFirstAppendOfTransaction {
                transaction.onCompletion { [self] committed, storedSize in
                    finishTransaction(committed: committed, storedSize: storedSize)
                }
            }
            return update.previousSize..<update.newSize
        }
    }

    private func finishTransaction(committed: Bool, storedSize: UInt64?) {
        state.withLock { state in
            guard let pending = state.pending else { return }
            state.pending = nil
            guard committed else { return }  // rolled back: storage is still `committed`
            if storedSize == pending.size {
                state.committed = pending
            } else {
                // E.g. a savepoint around the append was rolled back: trust storage.
                state.needsReload = true
            }
        }
    }

    // MARK: - Queries

    /// Size of the tree as of the last committed append.
    public var size: UInt64 {
        get throws { try committedSnapshot().size }
    }

    /// Size and root of the tree as of the last committed append (no storage read).
    public func treeHead() throws -> TreeHead {
        let snapshot = try committedSnapshot()
        return TreeHead(size: snapshot.size, rootHash: snapshot.rootHash)
    }

    /// Root of the first `size` leaves, for any size up to the current one.
    public func rootHash(atSize size: UInt64) throws -> MerkleHash {
        let snapshot = try committedSnapshot()
        guard size <= snapshot.size else {
            throw TransparencyLogError.treeSizeOutOfRange(requested: size, currentSize: snapshot.size)
        }
        if size == snapshot.size { return snapshot.rootHash }
        return try readNodes(snapshot) { nodes in try nodes.subtreeHash(begin: 0, end: size) }
    }

    /// The stored leaf hash at `index`.
    public func leafHash(at index: UInt64) throws -> MerkleHash {
        let snapshot = try committedSnapshot()
        guard index < snapshot.size else {
            throw TransparencyLogError.leafIndexOutOfRange(leafIndex: index, treeSize: snapshot.size)
        }
        return try readNodes(snapshot) { nodes in try nodes.perfectNode(level: 0, index: index) }
    }

    /// Inclusion proof of leaf `leafIndex` in the tree of `treeSize` leaves (default: current size).
    public func inclusionProof(leafIndex: UInt64, treeSize: UInt64? = nil) throws -> InclusionProof {
        let snapshot = try committedSnapshot()
        let size = treeSize ?? snapshot.size
        guard size <= snapshot.size else {
            throw TransparencyLogError.treeSizeOutOfRange(requested: size, currentSize: snapshot.size)
        }
        guard leafIndex < size else {
            throw TransparencyLogError.leafIndexOutOfRange(leafIndex: leafIndex, treeSize: size)
        }
        let path = try readNodes(snapshot) { nodes in
            try ProofConstruction.inclusionPath(leafIndex: leafIndex, treeSize: size) { begin, end in
                try nodes.subtreeHash(begin: begin, end: end)
            }
        }
        return InclusionProof(leafIndex: leafIndex, treeSize: size, hashes: path)
    }

    /// Consistency proof from the tree of `fromSize` leaves to the tree of
    /// `toSize` leaves (default: current size).
    public func consistencyProof(fromSize: UInt64, toSize: UInt64? = nil) throws -> ConsistencyProof {
        let snapshot = try committedSnapshot()
        let size = toSize ?? snapshot.size
        guard fromSize <= size, size <= snapshot.size else {
            throw TransparencyLogError.invalidConsistencyRange(fromSize: fromSize, toSize: size)
        }
        let path = try readNodes(snapshot) { nodes in
            try ProofConstruction.consistencyPath(fromSize: fromSize, toSize: size) { begin, end in
                try nodes.subtreeHash(begin: begin, end: end)
            }
        }
        return ConsistencyProof(fromSize: fromSize, toSize: size, hashes: path)
    }

    // MARK: - Internals

    private func readNodes<Result>(
        _ snapshot: TreeSnapshot,
        _ body: (inout NodeReader) throws -> Result
    ) throws -> Result {
        try store.read { reader in
            var nodes = NodeReader(snapshot: snapshot, storage: reader)
            return try body(&nodes)
        }
    }

    private func committedSnapshot() throws -> TreeSnapshot {
        let (snapshot, needsReload) = state.withLock { ($0.committed, $0.needsReload) }
        guard needsReload else { return snapshot }
        // Read outside the lock: a commit handler may need the lock meanwhile.
        let reloaded = try store.read { reader in
            try TreeSnapshot.load(size: reader.persistedSize(), from: reader)
        }
        state.withLock { state in
            if state.needsReload && state.pending == nil {
                state.committed = reloaded
                state.needsReload = false
            }
        }
        return reloaded
    }
}
