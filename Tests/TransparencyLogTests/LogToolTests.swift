import Foundation
import HexEncoding
import Testing
@testable import TransparencyLog

/// The logic behind `wardgate log …`.
@Suite("log CLI")
struct LogToolTests {
    let vectors: RFC6962Vectors
    let leavesFile: String

    init() throws {
        vectors = try RFC6962Vectors()
        leavesFile = vectors.leaves.map { Hex.encode($0) + "\n" }.joined()
    }

    @Test func parsesLeavesFiles() throws {
        #expect(try LogTool.parseLeaves("") == [])
        #expect(try LogTool.parseLeaves("\n") == [[]])
        #expect(try LogTool.parseLeaves("00\n\nABcd") == [[0], [], [0xAB, 0xCD]])
        #expect(try LogTool.parseLeaves("0102\r\n03\r\n") == [[1, 2], [3]])
        #expect(try LogTool.parseLeaves(leavesFile) == vectors.leaves)
        #expect(throws: LogToolError("leaves file line 2: hex string has an odd number of digits (3)")) {
            try LogTool.parseLeaves("00\nabc\n")
        }
        #expect(throws: LogToolError.self) { try LogTool.parseLeaves("0x00\n") }
        #expect(throws: LogToolError.self) { try LogTool.parseLeaves(" 00\n") }
    }

    @Test func rootMatchesVectors() throws {
        let leaves = try LogTool.parseLeaves(leavesFile)
        #expect(try LogTool.root(leaves: leaves, size: nil) == vectors.root(8).hex)
        for size in 0...8 {
            #expect(try LogTool.root(leaves: leaves, size: UInt64(size)) == vectors.root(UInt64(size)).hex)
        }
        #expect(throws: LogToolError("tree size 9 is larger than the 8 leaves in the file")) {
            try LogTool.root(leaves: leaves, size: 9)
        }
    }

    @Test func inclusionMatchesVectors() throws {
        let leaves = try LogTool.parseLeaves(leavesFile)
        for proof in vectors.inclusion {
            let json = try LogTool.inclusion(leaves: leaves, index: proof.leafIndex, size: proof.treeSize)
            let expected = "{\"leafIndex\":\(proof.leafIndex),\"treeSize\":\(proof.treeSize),\"proof\":["
                + proof.hashes.map { "\"\($0.hex)\"" }.joined(separator: ",") + "]}"
            #expect(json == expected)
        }
        #expect(try LogTool.inclusion(leaves: leaves, index: 0, size: 1) == "{\"leafIndex\":0,\"treeSize\":1,\"proof\":[]}")
        #expect(throws: LogToolError("--index 5 must be smaller than the tree size 5")) {
            try LogTool.inclusion(leaves: leaves, index: 5, size: 5)
        }
        #expect(throws: LogToolError.self) { try LogTool.inclusion(leaves: [], index: 0, size: nil) }
    }

    @Test func consistencyMatchesVectors() throws {
        let leaves = try LogTool.parseLeaves(leavesFile)
        for proof in vectors.consistency {
            let json = try LogTool.consistency(leaves: leaves, from: proof.fromSize, to: proof.toSize)
            #expect(json == "{\"proof\":[" + proof.hashes.map { "\"\($0.hex)\"" }.joined(separator: ",") + "]}")
        }
        #expect(throws: LogToolError("--from 4 must not be larger than --to 3")) {
            try LogTool.consistency(leaves: leaves, from: 4, to: 3)
        }
        #expect(throws: LogToolError.self) { try LogTool.consistency(leaves: leaves, from: 1, to: 9) }
    }

    @Test func verifyInclusion() throws {
        let leafHashes = vectors.leafHashes
        for proof in vectors.inclusion {
            let list = proof.hashes.map(\.hex).joined(separator: ",")
            let root = try vectors.root(proof.treeSize).hex
            let leaf = leafHashes[Int(proof.leafIndex)].hex
            #expect(try LogTool.verifyInclusion(index: proof.leafIndex, size: proof.treeSize, leafHash: leaf, root: root, proof: list) == .valid)
            let wrongLeaf = leafHashes[Int(proof.leafIndex)].flippingBit(0).hex
            #expect(try LogTool.verifyInclusion(index: proof.leafIndex, size: proof.treeSize, leafHash: wrongLeaf, root: root, proof: list) != .valid)
        }
        // Size 1: the empty proof is written as "".
        let single = leafHashes[0].hex
        #expect(try LogTool.verifyInclusion(index: 0, size: 1, leafHash: single, root: single, proof: "") == .valid)
        #expect(try LogTool.verifyInclusion(index: 0, size: 2, leafHash: single, root: single, proof: "")
            == .invalid(reason: ProofVerificationError.proofTooShort.description))
        #expect(throws: LogToolError("--index 1 must be smaller than --size 1")) {
            try LogTool.verifyInclusion(index: 1, size: 1, leafHash: single, root: single, proof: "")
        }
        #expect(throws: LogToolError("--leaf-hash: hex string has an odd number of digits (3)")) {
            try LogTool.verifyInclusion(index: 0, size: 1, leafHash: "abc", root: single, proof: "")
        }
        #expect(throws: LogToolError("--root: expected 32 bytes (64 hex digits), got 2 bytes")) {
            try LogTool.verifyInclusion(index: 0, size: 1, leafHash: single, root: "abcd", proof: "")
        }
        #expect(throws: LogToolError.self) {
            try LogTool.verifyInclusion(index: 0, size: 2, leafHash: single, root: single, proof: "\(single),")
        }
        #expect(throws: LogToolError.self) {
            try LogTool.verifyInclusion(index: 0, size: 2, leafHash: single, root: single, proof: "zz")
        }
    }

    @Test func verifyConsistency() throws {
        for proof in vectors.consistency {
            let list = proof.hashes.map(\.hex).joined(separator: ",")
            let root1 = try vectors.root(proof.fromSize).hex, root2 = try vectors.root(proof.toSize).hex
            #expect(try LogTool.verifyConsistency(from: proof.fromSize, to: proof.toSize, root1: root1, root2: root2, proof: list) == .valid)
            if proof.fromSize < proof.toSize {
                let wrong = try vectors.root(proof.toSize).flippingBit(5).hex
                #expect(try LogTool.verifyConsistency(from: proof.fromSize, to: proof.toSize, root1: root1, root2: wrong, proof: list) != .valid)
            }
        }
        let root = try vectors.root(3).hex
        #expect(throws: LogToolError("--from 4 must not be larger than --to 3")) {
            try LogTool.verifyConsistency(from: 4, to: 3, root1: root, root2: root, proof: "")
        }
        #expect(try LogTool.verifyConsistency(from: 3, to: 3, root1: root, root2: root, proof: "") == .valid)
    }
}
