/// Resolves node hashes for one query (a root, a proof): from the in-memory
/// right edge first, then from stored tiles, each tile read at most once.
struct NodeReader {
    private let snapshot: TreeSnapshot
    private let storage: any TreeStorageReader
    private let consultsFrontier: Bool
    private var tileCache: [TileID: [MerkleHash]] = [:]

    /// `consultsFrontier` is false while the frontier itself is being loaded.
    init(snapshot: TreeSnapshot, storage: any TreeStorageReader, consultsFrontier: Bool = true) {
        self.snapshot = snapshot
        self.storage = storage
        self.consultsFrontier = consultsFrontier
    }

    /// Hash of the perfect subtree of 2^level leaves starting at leaf `index << level`.
    /// The caller guarantees the subtree lies within the snapshot's size.
    mutating func perfectNode(level: Int, index: UInt64) throws -> MerkleHash {
        if consultsFrontier, let node = snapshot.frontierNode(level: level, index: index) {
            return node
        }
        let depthBelowStored = level % TileLayout.levelStride
        let storedLevel = level - depthBelowStored
        let firstIndex = index << depthBelowStored
        var hashes = try storedNodes(level: storedLevel, from: firstIndex, count: 1 << depthBelowStored)
        // Rebuild the node from the stored level below it: pairwise, bottom up.
        while hashes.count > 1 {
            hashes = stride(from: 0, to: hashes.count, by: 2).map { RFC9162.nodeHash(hashes[$0], hashes[$0 + 1]) }
        }
        return hashes[0]
    }

    /// MTH(D[begin:end]) for a range whose `begin` is aligned to a power of two
    /// at least as large as the range (as in every RFC 9162 recursion).
    mutating func subtreeHash(begin: UInt64, end: UInt64) throws -> MerkleHash {
        guard end > begin else { return RFC9162.emptyTreeRoot }
        // Split into perfect subtrees, largest (leftmost) first…
        var pieces: [MerkleHash] = []
        var start = begin
        var remaining = end - begin
        while remaining > 0 {
            let level = 63 - remaining.leadingZeroBitCount
            pieces.append(try perfectNode(level: level, index: start >> level))
            start += 1 << level
            remaining -= 1 << level
        }
        // …then join them from the right, as the RFC split does.
        var hash = pieces[pieces.count - 1]
        for piece in pieces.dropLast().reversed() {
            hash = RFC9162.nodeHash(piece, hash)
        }
        return hash
    }

    /// `count` consecutive hashes of a stored level, all within one tile
    /// (count divides the tile width and `first` is aligned to it).
    private mutating func storedNodes(level: Int, from first: UInt64, count: Int) throws -> [MerkleHash] {
        if let node = snapshot.partialTileNode(level: level, index: first) {
            if count == 1 { return [node] }
            var nodes: [MerkleHash] = []
            nodes.reserveCapacity(count)
            for index in first..<(first + UInt64(count)) {
                guard let partialNode = snapshot.partialTileNode(level: level, index: index) else {
                    throw TransparencyLogError.missingTile(level: level, tileIndex: index / TileLayout.tileWidth)
                }
                nodes.append(partialNode)
            }
            return nodes
        }
        let (tileID, offset) = TileLayout.location(level: level, index: first)
        let tile: [MerkleHash]
        if let cached = tileCache[tileID] {
            tile = cached
        } else {
            guard let loaded = try storage.tile(tileID) else {
                throw TransparencyLogError.missingTile(level: level, tileIndex: tileID.index)
            }
            guard !loaded.isEmpty, loaded.count <= Int(TileLayout.tileWidth) else {
                throw TransparencyLogError.corruptTile(level: level, tileIndex: tileID.index, reason: "\(loaded.count) hashes")
            }
            tileCache[tileID] = loaded
            tile = loaded
        }
        guard offset + count <= tile.count else {
            throw TransparencyLogError.corruptTile(
                level: level, tileIndex: tileID.index,
                reason: "\(tile.count) hashes, need \(offset + count)")
        }
        return Array(tile[offset..<(offset + count)])
    }
}
