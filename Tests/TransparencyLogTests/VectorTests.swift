import Crypto
import Foundation
import GRDB
import HexEncoding
import Simulation
import Testing
@testable import TransparencyLog
import WardgateTestSupport

/// The RFC 6962 / 9162 vectors of shared/testdata/merkle-rfc6962.json.
struct RFC6962Vectors {
    let leaves: [[UInt8]]
    let roots: [UInt64: MerkleHash]
    let inclusion: [InclusionProof]
    let consistency: [ConsistencyProof]
    let hasher: [String: String]

    init() throws {
        let json = try TestData.json("merkle-rfc6962.json")
        guard let leavesHex = json["leavesHex"] as? [String],
              let rootsBySize = json["rootsBySize"] as? [String: String],
              let inclusionItems = json["inclusionProofs"] as? [[String: Any]],
              let consistencyItems = json["consistencyProofs"] as? [[String: Any]],
              let hasher = json["hasher"] as? [String: String]
        else { throw TestFailure("unexpected vector layout") }
        leaves = try leavesHex.map { try Hex.decode($0) }
        roots = try Dictionary(uniqueKeysWithValues: rootsBySize.map { key, value in
            guard let size = UInt64(key) else { throw TestFailure("bad size \(key)") }
            return (size, try MerkleHash(hex: value))
        })
        inclusion = try inclusionItems.map { item in
            guard let index = item["leafIndex"] as? Int, let size = item["treeSize"] as? Int,
                  let proof = item["proof"] as? [String]
            else { throw TestFailure("bad inclusion item") }
            return InclusionProof(leafIndex: UInt64(index), treeSize: UInt64(size), hashes: try proof.map { try MerkleHash(hex: $0) })
        }
        consistency = try consistencyItems.map { item in
            guard let from = item["size1"] as? Int, let to = item["size2"] as? Int, let proof = item["proof"] as? [String]
            else { throw TestFailure("bad consistency item") }
            return ConsistencyProof(fromSize: UInt64(from), toSize: UInt64(to), hashes: try proof.map { try MerkleHash(hex: $0) })
        }
        self.hasher = hasher
    }

    var leafHashes: [MerkleHash] { leaves.map { RFC9162.leafHash($0) } }

    func root(_ size: UInt64) throws -> MerkleHash {
        guard let root = roots[size] else { throw TestFailure("no root for size \(size)") }
        return root
    }
}

@Suite("RFC 6962 vectors")
struct VectorTests {
    let vectors: RFC6962Vectors

    init() throws {
        vectors = try RFC6962Vectors()
    }

    @Test func hasherVectors() throws {
        #expect(RFC9162.leafHash([UInt8]()) == (try MerkleHash(hex: vectors.hasher["leafHashOfEmpty"] ?? "")))
        #expect(RFC9162.leafHash(Array("L123456".utf8)) == (try MerkleHash(hex: vectors.hasher["leafHash_L123456"] ?? "")))
        // The node vector hashes two short strings; check the construction, then ours against it.
        let nodeVector = SHA256.hash(data: [0x01] + Array("N123".utf8) + Array("N456".utf8))
        #expect(Hex.encode(nodeVector) == vectors.hasher["nodeHash_N123_N456"])
        var random = SeededGenerator(seed: 1)
        let left = random.hash(), right = random.hash()
        let expected = SHA256.hash(data: [0x01] + left.bytes + right.bytes)
        #expect(RFC9162.nodeHash(left, right).bytes == Array(expected))
        #expect(RFC9162.emptyTreeRoot == (try vectors.root(0)))
    }

    @Test func referenceRootsMatch() throws {
        let hashes = vectors.leafHashes
        for size in 0...hashes.count {
            #expect(RFC9162.rootHash(ofLeafHashes: Array(hashes[0..<size])) == (try vectors.root(UInt64(size))), "size \(size)")
        }
    }

    @Test(arguments: ["memory", "sqlite"])
    func treeRootsAndProofsMatch(storage: String) throws {
        let directory = try TemporaryDirectory()
        let hashes = vectors.leafHashes
        let roots: (UInt64) throws -> MerkleHash
        let inclusion: (UInt64, UInt64) throws -> InclusionProof
        let consistency: (UInt64, UInt64) throws -> ConsistencyProof
        if storage == "memory" {
            let tree = try LogTree(store: InMemorySubtreeHashStore())
            for hash in hashes { try tree.append(hash) }
            roots = { try tree.rootHash(atSize: $0) }
            inclusion = { try tree.inclusionProof(leafIndex: $0, treeSize: $1) }
            consistency = { try tree.consistencyProof(fromSize: $0, toSize: $1) }
        } else {
            let tree = try LogTree(writer: openJournal(at: directory.file("vectors.sqlite")))
            try tree.append(leafData: vectors.leaves)
            roots = { try tree.rootHash(atSize: $0) }
            inclusion = { try tree.inclusionProof(leafIndex: $0, treeSize: $1) }
            consistency = { try tree.consistencyProof(fromSize: $0, toSize: $1) }
        }
        for size in 0...UInt64(hashes.count) {
            #expect(try roots(size) == vectors.root(size), "root at \(size)")
        }
        for expected in vectors.inclusion {
            let proof = try inclusion(expected.leafIndex, expected.treeSize)
            #expect(proof == expected, "inclusion \(expected.leafIndex) in \(expected.treeSize)")
            #expect(proof.isValid(leafHash: hashes[Int(expected.leafIndex)], rootHash: try vectors.root(expected.treeSize)))
        }
        for expected in vectors.consistency {
            let proof = try consistency(expected.fromSize, expected.toSize)
            #expect(proof == expected, "consistency \(expected.fromSize) → \(expected.toSize)")
        }
    }

    @Test func referenceProofsMatch() throws {
        let hashes = vectors.leafHashes
        for expected in vectors.inclusion {
            let proof = try RFC9162.inclusionProof(leafIndex: expected.leafIndex, leafHashes: Array(hashes[0..<Int(expected.treeSize)]))
            #expect(proof == expected)
        }
        for expected in vectors.consistency {
            let proof = try RFC9162.consistencyProof(fromSize: expected.fromSize, leafHashes: Array(hashes[0..<Int(expected.toSize)]))
            #expect(proof == expected)
        }
    }

    @Test func vectorProofsVerify() throws {
        let hashes = vectors.leafHashes
        for proof in vectors.inclusion {
            try proof.verify(leafHash: hashes[Int(proof.leafIndex)], rootHash: vectors.root(proof.treeSize))
        }
        for proof in vectors.consistency {
            try proof.verify(fromRoot: vectors.root(proof.fromSize), toRoot: vectors.root(proof.toSize))
        }
    }

    @Test func vectorProofsFailWhenTampered() throws {
        let hashes = vectors.leafHashes
        for proof in vectors.inclusion {
            let root = try vectors.root(proof.treeSize)
            let leaf = hashes[Int(proof.leafIndex)]
            #expect(!proof.isValid(leafHash: leaf.flippingBit(3), rootHash: root))
            #expect(!proof.isValid(leafHash: leaf, rootHash: root.flippingBit(200)))
            for position in proof.hashes.indices {
                var tampered = proof
                tampered.hashes[position] = tampered.hashes[position].flippingBit(position * 7)
                #expect(!tampered.isValid(leafHash: leaf, rootHash: root))
            }
            var extended = proof
            extended.hashes.append(leaf)
            #expect(!extended.isValid(leafHash: leaf, rootHash: root))
        }
        for proof in vectors.consistency where proof.fromSize < proof.toSize {
            let from = try vectors.root(proof.fromSize), to = try vectors.root(proof.toSize)
            #expect(!proof.isValid(fromRoot: from.flippingBit(1), toRoot: to))
            #expect(!proof.isValid(fromRoot: from, toRoot: to.flippingBit(1)))
            for position in proof.hashes.indices {
                var tampered = proof
                tampered.hashes[position] = tampered.hashes[position].flippingBit(9)
                #expect(!tampered.isValid(fromRoot: from, toRoot: to))
            }
        }
    }

    /// RFC 9162 behaviour the docs warn about: a root does not commit to the
    /// size, so "leaf 0 of 5" and "leaf 0 of 6" share a proof shape. Auditors
    /// must take the size from the signed checkpoint, never from the proof.
    @Test func sizeIsBoundByTheCheckpointNotByTheProof() throws {
        let proof = try #require(vectors.inclusion.first { $0.leafIndex == 0 && $0.treeSize == 5 })
        let leaf = vectors.leafHashes[0]
        var claimedSix = proof
        claimedSix.treeSize = 6
        #expect(claimedSix.isValid(leafHash: leaf, rootHash: try vectors.root(5)))
        #expect(!claimedSix.isValid(leafHash: leaf, rootHash: try vectors.root(6)))
    }

    @Test func edgeCasesOfConsistency() throws {
        let empty = RFC9162.emptyTreeRoot
        let root3 = try vectors.root(3)
        #expect(ConsistencyProof(fromSize: 0, toSize: 3, hashes: []).isValid(fromRoot: empty, toRoot: root3))
        #expect(!ConsistencyProof(fromSize: 0, toSize: 3, hashes: [root3]).isValid(fromRoot: empty, toRoot: root3))
        #expect(!ConsistencyProof(fromSize: 0, toSize: 3, hashes: []).isValid(fromRoot: root3, toRoot: root3))
        #expect(ConsistencyProof(fromSize: 3, toSize: 3, hashes: []).isValid(fromRoot: root3, toRoot: root3))
        #expect(!ConsistencyProof(fromSize: 3, toSize: 3, hashes: [root3]).isValid(fromRoot: root3, toRoot: root3))
        #expect(throws: ProofVerificationError.emptyProof) {
            try ConsistencyProof(fromSize: 2, toSize: 3, hashes: []).verify(fromRoot: root3, toRoot: root3)
        }
        #expect(throws: ProofVerificationError.sizesOutOfOrder(fromSize: 4, toSize: 3)) {
            try ConsistencyProof(fromSize: 4, toSize: 3, hashes: [root3]).verify(fromRoot: root3, toRoot: root3)
        }
        #expect(throws: ProofVerificationError.leafIndexOutOfRange(leafIndex: 3, treeSize: 3)) {
            try InclusionProof(leafIndex: 3, treeSize: 3, hashes: []).verify(leafHash: root3, rootHash: root3)
        }
    }
}
