import Foundation
import Simulation
import Testing
@testable import TransparencyLog

/// Random trees (seeded) checked against independent reference computations.
@Suite("Proof properties")
struct ProofPropertyTests {
    /// Appends in random batch sizes, as the gateway's batches would arrive.
    static func buildTree(_ leafHashes: [MerkleHash], random: inout SeededGenerator) throws -> LogTree<InMemorySubtreeHashStore> {
        let tree = try LogTree(store: InMemorySubtreeHashStore())
        var position = 0
        while position < leafHashes.count {
            let batch = min(Int(random.next() % 700) + 1, leafHashes.count - position)
            try tree.append(contentsOf: leafHashes[position..<(position + batch)])
            position += batch
        }
        return tree
    }

    /// Every size, index and pair of a small tree, against the RFC definitions.
    @Test func smallTreesMatchTheReferenceExhaustively() throws {
        var random = SeededGenerator(seed: 0xA11CE)
        let leaves = random.leafHashes(40)
        let tree = try Self.buildTree(leaves, random: &random)
        let roots = (0...leaves.count).map { RFC9162.rootHash(ofLeafHashes: Array(leaves[0..<$0])) }
        for size in 0...leaves.count {
            let prefix = Array(leaves[0..<size])
            let root = roots[size]
            #expect(try tree.rootHash(atSize: UInt64(size)) == root)
            for index in 0..<size {
                let proof = try tree.inclusionProof(leafIndex: UInt64(index), treeSize: UInt64(size))
                #expect(proof == (try RFC9162.inclusionProof(leafIndex: UInt64(index), leafHashes: prefix)))
                #expect(proof.isValid(leafHash: leaves[index], rootHash: root))
            }
            for older in 0...size {
                let proof = try tree.consistencyProof(fromSize: UInt64(older), toSize: UInt64(size))
                #expect(proof == (try RFC9162.consistencyProof(fromSize: UInt64(older), leafHashes: prefix)))
                #expect(proof.isValid(fromRoot: roots[older], toRoot: root))
            }
        }
    }

    /// A tree across several tile boundaries: proofs equal the reference ones.
    @Test func mediumTreeMatchesTheReference() throws {
        var random = SeededGenerator(seed: 0xB0B)
        let leaves = random.leafHashes(4_500)
        let tree = try Self.buildTree(leaves, random: &random)
        let sizes: [Int] = [1, 2, 255, 256, 257, 511, 512, 4_095, 4_096, 4_097, 4_500] + (0..<6).map { _ in Int(random.next() % 4_500) + 1 }
        for size in sizes {
            let prefix = Array(leaves[0..<size])
            for index in [0, size - 1, Int(random.next() % UInt64(size)), Int(random.next() % UInt64(size))] {
                #expect(try tree.inclusionProof(leafIndex: UInt64(index), treeSize: UInt64(size))
                    == RFC9162.inclusionProof(leafIndex: UInt64(index), leafHashes: prefix))
            }
            let older = Int(random.next() % UInt64(size)) + 1
            #expect(try tree.consistencyProof(fromSize: UInt64(older), toSize: UInt64(size))
                == RFC9162.consistencyProof(fromSize: UInt64(older), leafHashes: prefix))
        }
    }

    /// 100,003 leaves: proofs verify against roots computed independently, and
    /// every single-bit change of leaf, path, index, size or root breaks them.
    ///
    /// A changed size is checked together with the genuine root of that size,
    /// as an auditor holding signed checkpoints would: an RFC 9162 root does
    /// not commit to the tree size by itself (the verifier cannot tell a leaf
    /// hash from a node hash in the path), which is why checkpoints sign the
    /// size and the root together.
    @Test func largeTreeProofsVerifyAndTamperingFails() throws {
        var random = SeededGenerator(seed: 0xC0FFEE)
        let leaves = random.leafHashes(100_003)
        let tree = try Self.buildTree(leaves, random: &random)

        var sizes: Set<Int> = [1, 2, 3, 256, 257, 65_536, 65_537, 100_002, 100_003]
        while sizes.count < 30 { sizes.insert(Int(random.next() % 100_003) + 1) }
        let roots = prefixRoots(of: leaves, sizes: sizes)
        #expect(try tree.treeHead() == TreeHead(size: 100_003, rootHash: roots[100_003] ?? .zero))
        let signedHeads = TamperChecks(tree: tree, knownRoots: roots)

        let sortedSizes = sizes.sorted()
        for size in sortedSizes {
            let root = try #require(roots[size])
            #expect(try tree.rootHash(atSize: UInt64(size)) == root)
            for _ in 0..<4 {
                let index = Int(random.next() % UInt64(size))
                let proof = try tree.inclusionProof(leafIndex: UInt64(index), treeSize: UInt64(size))
                try proof.verify(leafHash: leaves[index], rootHash: root)
                try signedHeads.expectInclusionTamperingFails(proof, leaf: leaves[index], root: root, random: &random)
            }
        }
        for _ in 0..<80 {
            let pair = (sortedSizes.randomElement(using: &random) ?? 1, sortedSizes.randomElement(using: &random) ?? 1)
            let (older, newer) = (min(pair.0, pair.1), max(pair.0, pair.1))
            let fromRoot = try #require(roots[older]), toRoot = try #require(roots[newer])
            let proof = try tree.consistencyProof(fromSize: UInt64(older), toSize: UInt64(newer))
            try proof.verify(fromRoot: fromRoot, toRoot: toRoot)
            if older < newer {
                try signedHeads.expectConsistencyTamperingFails(proof, fromRoot: fromRoot, toRoot: toRoot, random: &random)
            }
        }
        #expect(signedHeads.checkedSizeChanges > 1_000)
    }

    /// Tampering checks; a changed size is paired with that size's genuine root.
    final class TamperChecks {
        let tree: LogTree<InMemorySubtreeHashStore>
        let knownRoots: [Int: MerkleHash]
        var checkedSizeChanges = 0

        init(tree: LogTree<InMemorySubtreeHashStore>, knownRoots: [Int: MerkleHash]) {
            self.tree = tree
            self.knownRoots = knownRoots
        }

        /// The genuine root of `size`, or nil beyond the tree.
        func genuineRoot(ofSize size: UInt64) throws -> MerkleHash? {
            guard size <= 100_003 else { return nil }
            return try knownRoots[Int(size)] ?? tree.rootHash(atSize: size)
        }

        func expectInclusionTamperingFails(
            _ proof: InclusionProof, leaf: MerkleHash, root: MerkleHash, random: inout SeededGenerator
        ) throws {
            let bit = Int(random.next() % 256)
            #expect(!proof.isValid(leafHash: leaf.flippingBit(bit), rootHash: root))
            #expect(!proof.isValid(leafHash: leaf, rootHash: root.flippingBit(bit)))
            if !proof.hashes.isEmpty {
                var tampered = proof
                let position = Int(random.next() % UInt64(proof.hashes.count))
                tampered.hashes[position] = proof.hashes[position].flippingBit(bit)
                #expect(!tampered.isValid(leafHash: leaf, rootHash: root))
            }
            for indexBit in 0..<17 {
                var tampered = proof
                tampered.leafIndex ^= 1 << indexBit
                #expect(!tampered.isValid(leafHash: leaf, rootHash: root), "index bit \(indexBit)")
            }
            // A larger claimed size fails even with the same root: the path is too short for it.
            var larger = proof
            larger.treeSize |= 1 << 40
            #expect(!larger.isValid(leafHash: leaf, rootHash: root))
            for sizeBit in 0..<17 {
                var tampered = proof
                tampered.treeSize ^= 1 << sizeBit
                guard let otherRoot = try genuineRoot(ofSize: tampered.treeSize) else { continue }
                #expect(!tampered.isValid(leafHash: leaf, rootHash: otherRoot), "size bit \(sizeBit)")
                checkedSizeChanges += 1
            }
        }

        func expectConsistencyTamperingFails(
            _ proof: ConsistencyProof, fromRoot: MerkleHash, toRoot: MerkleHash, random: inout SeededGenerator
        ) throws {
            let bit = Int(random.next() % 256)
            #expect(!proof.isValid(fromRoot: fromRoot.flippingBit(bit), toRoot: toRoot))
            #expect(!proof.isValid(fromRoot: fromRoot, toRoot: toRoot.flippingBit(bit)))
            var tampered = proof
            let position = Int(random.next() % UInt64(proof.hashes.count))
            tampered.hashes[position] = proof.hashes[position].flippingBit(bit)
            #expect(!tampered.isValid(fromRoot: fromRoot, toRoot: toRoot))
            var larger = proof
            larger.toSize |= 1 << 40
            #expect(!larger.isValid(fromRoot: fromRoot, toRoot: toRoot))
            for sizeBit in 0..<17 {
                var older = proof
                older.fromSize ^= 1 << sizeBit
                if let olderRoot = try genuineRoot(ofSize: older.fromSize) {
                    #expect(!older.isValid(fromRoot: olderRoot, toRoot: toRoot), "from-size bit \(sizeBit)")
                }
                var newer = proof
                newer.toSize ^= 1 << sizeBit
                if let newerRoot = try genuineRoot(ofSize: newer.toSize) {
                    #expect(!newer.isValid(fromRoot: fromRoot, toRoot: newerRoot), "to-size bit \(sizeBit)")
                    checkedSizeChanges += 1
                }
            }
        }
    }

    @Test func queriesOutsideTheTreeThrow() throws {
        let tree = try LogTree(store: InMemorySubtreeHashStore())
        try tree.append(contentsOf: SeededGenerator.leafHashes(seed: 5, count: 10))
        #expect(throws: TransparencyLogError.treeSizeOutOfRange(requested: 11, currentSize: 10)) {
            try tree.rootHash(atSize: 11)
        }
        #expect(throws: TransparencyLogError.leafIndexOutOfRange(leafIndex: 10, treeSize: 10)) {
            try tree.inclusionProof(leafIndex: 10)
        }
        #expect(throws: TransparencyLogError.leafIndexOutOfRange(leafIndex: 4, treeSize: 4)) {
            try tree.inclusionProof(leafIndex: 4, treeSize: 4)
        }
        #expect(throws: TransparencyLogError.invalidConsistencyRange(fromSize: 5, toSize: 4)) {
            try tree.consistencyProof(fromSize: 5, toSize: 4)
        }
        #expect(throws: TransparencyLogError.invalidConsistencyRange(fromSize: 5, toSize: 11)) {
            try tree.consistencyProof(fromSize: 5, toSize: 11)
        }
    }
}
