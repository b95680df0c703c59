/// Identifies one stored tile: up to 256 consecutive node hashes of one
/// stored tree level (see `TileLayout`).
public struct TileID: Hashable, Sendable, CustomStringConvertible {
    /// Tree level of the hashes in the tile (0 = leaf hashes); a multiple of `TileLayout.levelStride`.
    public let level: Int
    /// Tile number within the level: the tile holds node indices `index*256 ..< index*256+256`.
    public let index: UInt64

    public init(level: Int, index: UInt64) {
        self.level = level
        self.index = index
    }

    public var description: String { "tile(level: \(level), index: \(index))" }
}

/// The writes of one batch of appends: every tile whose content changed (its
/// full new content) and the new tree size. Applied atomically.
public struct TreeUpdate: Sendable {
    /// The size the store must hold before this update (guards against lost updates).
    public let previousSize: UInt64
    public let newSize: UInt64
    public let tiles: [(id: TileID, hashes: [MerkleHash])]

    public init(previousSize: UInt64, newSize: UInt64, tiles: [(id: TileID, hashes: [MerkleHash])]) {
        self.previousSize = previousSize
        self.newSize = newSize
        self.tiles = tiles
    }
}

/// Read access to stored tiles, valid only inside the store's `read` or `write` call.
public protocol TreeStorageReader {
    func persistedSize() throws -> UInt64
    /// The tile's hashes (1...256 of them), or nil if it was never written.
    func tile(_ id: TileID) throws -> [MerkleHash]?
}

/// One write transaction of a store.
public protocol TreeStorageTransaction: TreeStorageReader {
    /// Writes `update` in this transaction. Throws `TransparencyLogError.storeOutOfSync`
    /// if the stored size is not `update.previousSize`.
    func persist(_ update: TreeUpdate) throws
    /// Runs `handler` once the transaction ends: with the size then stored if it
    /// committed (nil if that could not be read), or `committed: false` if it rolled back.
    func onCompletion(_ handler: @escaping @Sendable (_ committed: Bool, _ storedSize: UInt64?) -> Void)
}

/// Storage of a log tree's subtree hashes, as tiles.
///
/// Tiles only grow at their end and complete tiles never change, so a reader
/// may see a newer version of a tile than the tree size it works with; the
/// hashes it needs are the same in every version.
public protocol SubtreeHashStore: Sendable {
    func read<Result>(_ body: (any TreeStorageReader) throws -> Result) throws -> Result
    func write<Result: Sendable>(_ body: (any TreeStorageTransaction) throws -> Result) throws -> Result
}
