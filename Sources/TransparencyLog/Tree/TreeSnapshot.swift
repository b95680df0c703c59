/// The in-memory state of a tree at one size: everything needed to append,
/// and the right edge of the tree, which is all the root needs.
struct TreeSnapshot: Sendable {
    private(set) var size: UInt64
    /// `frontier[level]` is the perfect subtree of 2^level leaves on the right
    /// edge; meaningful only where bit `level` of `size` is set.
    private(set) var frontier: [MerkleHash]
    /// The incomplete last tile of each stored level (`storedLevelIndex` = level / stride).
    private(set) var partialTiles: [[MerkleHash]]

    static let empty = TreeSnapshot(
        size: 0,
        frontier: Array(repeating: .zero, count: 64),
        partialTiles: Array(repeating: [], count: TileLayout.storedLevelCount)
    )

    /// Root of the tree at `size`, from the frontier alone.
    var rootHash: MerkleHash {
        guard size > 0 else { return RFC9162.emptyTreeRoot }
        var root: MerkleHash?
        for level in 0..<64 where size & (1 << level) != 0 {
            // Lower levels lie to the right: fold from the smallest subtree up.
            root = root.map { RFC9162.nodeHash(frontier[level], $0) } ?? frontier[level]
        }
        return root ?? RFC9162.emptyTreeRoot
    }

    /// The frontier node (level, index), if that node is on the right edge.
    func frontierNode(level: Int, index: UInt64) -> MerkleHash? {
        guard level < 64, size & (1 << level) != 0, index == (size >> level) - 1 else { return nil }
        return frontier[level]
    }

    /// A node of a stored level held in memory: in the incomplete last tile.
    func partialTileNode(level: Int, index: UInt64) -> MerkleHash? {
        let count = size >> level
        let tileStart = count - count % TileLayout.tileWidth
        guard index >= tileStart, index < count else { return nil }
        let tile = partialTiles[level / TileLayout.levelStride]
        let offset = Int(index - tileStart)
        return offset < tile.count ? tile[offset] : nil
    }

    /// Appends leaf hashes and returns the tiles to write (full content of each
    /// changed tile). Pure: storage is written by the caller.
    mutating func append(contentsOf leafHashes: some Collection<MerkleHash>) throws(TransparencyLogError) -> TreeUpdate {
        let previousSize = size
        guard UInt64(leafHashes.count) <= UInt64(Int64.max) - size else { throw .treeFull }
        var completedTiles: [(id: TileID, hashes: [MerkleHash])] = []
        var touchedLevels = [Bool](repeating: false, count: TileLayout.storedLevelCount)

        for leafHash in leafHashes {
            var carry = leafHash
            var level = 0
            let leafIndex = size
            store(carry, level: 0, index: leafIndex, completed: &completedTiles, touched: &touchedLevels)
            while size & (1 << level) != 0 {
                carry = RFC9162.nodeHash(frontier[level], carry)
                level += 1
                if TileLayout.isStored(level: level) {
                    store(carry, level: level, index: leafIndex >> level, completed: &completedTiles, touched: &touchedLevels)
                }
            }
            frontier[level] = carry
            size += 1
        }

        var tiles = completedTiles
        for storedIndex in 0..<TileLayout.storedLevelCount where touchedLevels[storedIndex] {
            let tile = partialTiles[storedIndex]
            guard !tile.isEmpty else { continue }
            let level = storedIndex * TileLayout.levelStride
            tiles.append((TileID(level: level, index: (size >> level) / TileLayout.tileWidth), tile))
        }
        return TreeUpdate(previousSize: previousSize, newSize: size, tiles: tiles)
    }

    private mutating func store(
        _ hash: MerkleHash,
        level: Int,
        index: UInt64,
        completed: inout [(id: TileID, hashes: [MerkleHash])],
        touched: inout [Bool]
    ) {
        let storedIndex = level / TileLayout.levelStride
        touched[storedIndex] = true
        partialTiles[storedIndex].append(hash)
        if partialTiles[storedIndex].count == Int(TileLayout.tileWidth) {
            completed.append((TileID(level: level, index: index / TileLayout.tileWidth), partialTiles[storedIndex]))
            partialTiles[storedIndex].removeAll(keepingCapacity: true)
        }
    }
}

extension TreeSnapshot {
    /// Rebuilds the snapshot of a stored tree of `size` leaves: reads the
    /// incomplete last tile of each stored level and the O(log n) frontier nodes.
    static func load(size: UInt64, from reader: any TreeStorageReader) throws -> TreeSnapshot {
        var snapshot = TreeSnapshot.empty
        snapshot.size = size
        for storedIndex in 0..<TileLayout.storedLevelCount {
            let level = storedIndex * TileLayout.levelStride
            let count = size >> level
            let partialCount = Int(count % TileLayout.tileWidth)
            guard partialCount > 0 else { continue }
            let id = TileID(level: level, index: count / TileLayout.tileWidth)
            guard let tile = try reader.tile(id) else {
                throw TransparencyLogError.missingTile(level: level, tileIndex: id.index)
            }
            // A tile may be longer than this size needs (a newer version); never shorter.
            guard tile.count >= partialCount else {
                throw TransparencyLogError.corruptTile(level: level, tileIndex: id.index, reason: "\(tile.count) hashes, expected at least \(partialCount)")
            }
            snapshot.partialTiles[storedIndex] = Array(tile[0..<partialCount])
        }
        // Frontier nodes come from the partial tiles just loaded, or from complete tiles.
        var nodes = NodeReader(snapshot: snapshot, storage: reader, consultsFrontier: false)
        for level in 0..<64 where size & (1 << level) != 0 {
            snapshot.frontier[level] = try nodes.perfectNode(level: level, index: (size >> level) - 1)
        }
        return snapshot
    }
}
