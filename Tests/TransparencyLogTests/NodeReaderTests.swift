import Foundation
import Simulation
import Testing
@testable import TransparencyLog

/// The node lookup under proofs: stored tiles, partial tiles and the frontier.
@Suite("Node reader")
struct NodeReaderTests {
    /// One query reading many tiles of the same level, in an order that
    /// starts with tile 0, must get each node from its own tile.
    @Test func readsNodesFromManyTilesInOneQuery() throws {
        var random = SeededGenerator(seed: 21)
        let leaves = random.leafHashes(5_000)
        let store = InMemorySubtreeHashStore()
        let tree = try LogTree(store: store)
        try tree.append(contentsOf: leaves)
        let indices: [UInt64] = [0, 300, 5, 4_999, 256, 1_000, 4_864, 1]
        try store.read { reader in
            let snapshot = try TreeSnapshot.load(size: try reader.persistedSize(), from: reader)
            var nodes = NodeReader(snapshot: snapshot, storage: reader)
            for index in indices {
                #expect(try nodes.perfectNode(level: 0, index: index) == leaves[Int(index)])
            }
            // Level 6 (rebuilt from stored level 4) and level 8 (stored), several tiles each.
            for (level, index) in [(6, 0), (6, 70), (6, 3), (8, 0), (8, 18), (8, 1)] {
                let first = index << level, count = 1 << level
                let expected = RFC9162.rootHash(ofLeafHashes: Array(leaves[first..<(first + count)]))
                #expect(try nodes.perfectNode(level: level, index: UInt64(index)) == expected, "level \(level) index \(index)")
            }
        }
    }

    @Test func snapshotRebuildsTheFrontier() throws {
        var random = SeededGenerator(seed: 22)
        for size in [0, 1, 15, 16, 17, 255, 256, 257, 4_095, 4_096, 4_097, 20_000] {
            let leaves = random.leafHashes(size)
            let store = InMemorySubtreeHashStore()
            let tree = try LogTree(store: store)
            try tree.append(contentsOf: leaves)
            let loaded = try store.read { reader in try TreeSnapshot.load(size: try reader.persistedSize(), from: reader) }
            #expect(loaded.size == UInt64(size))
            #expect(loaded.rootHash == (try tree.treeHead().rootHash))
            #expect(loaded.rootHash == RFC9162.rootHash(ofLeafHashes: leaves), "size \(size)")
        }
    }
}
