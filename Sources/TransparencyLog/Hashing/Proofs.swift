/// Why a proof did not verify.
public enum ProofVerificationError: Error, Equatable, Sendable, CustomStringConvertible {
    case leafIndexOutOfRange(leafIndex: UInt64, treeSize: UInt64)
    case sizesOutOfOrder(fromSize: UInt64, toSize: UInt64)
    /// The proof has more hashes than the tree shape allows.
    case proofTooLong
    /// The proof ran out of hashes before reaching the root.
    case proofTooShort
    /// A consistency proof between different non-empty sizes cannot be empty.
    case emptyProof
    case rootMismatch

    public var description: String {
        switch self {
        case .leafIndexOutOfRange(let index, let size):
            "leaf index \(index) is not smaller than the tree size \(size)"
        case .sizesOutOfOrder(let from, let to):
            "the first tree size \(from) is larger than the second \(to)"
        case .proofTooLong:
            "the proof has more hashes than a tree of this size needs"
        case .proofTooShort:
            "the proof has fewer hashes than a tree of this size needs"
        case .emptyProof:
            "the consistency proof is empty but the sizes differ"
        case .rootMismatch:
            "the proof does not lead to the given root hash"
        }
    }
}

/// RFC 9162 §2.1.3 inclusion proof: the audit path for one leaf in a tree
/// of `treeSize` leaves, ordered from the leaf's sibling upwards.
public struct InclusionProof: Hashable, Sendable {
    public var leafIndex: UInt64
    public var treeSize: UInt64
    public var hashes: [MerkleHash]

    public init(leafIndex: UInt64, treeSize: UInt64, hashes: [MerkleHash]) {
        self.leafIndex = leafIndex
        self.treeSize = treeSize
        self.hashes = hashes
    }

    /// The root implied by the proof for `leafHash` (RFC 9162 §2.1.3.2 steps 1–5,
    /// without the final comparison).
    public func impliedRoot(forLeafHash leafHash: MerkleHash) throws(ProofVerificationError) -> MerkleHash {
        guard leafIndex < treeSize else {
            throw .leafIndexOutOfRange(leafIndex: leafIndex, treeSize: treeSize)
        }
        var fn = leafIndex
        var sn = treeSize - 1
        var result = leafHash
        for sibling in hashes {
            guard sn != 0 else { throw .proofTooLong }
            if fn & 1 == 1 || fn == sn {
                result = RFC9162.nodeHash(sibling, result)
                // Skip the levels where this node has no right sibling.
                while fn & 1 == 0 && fn != 0 {
                    fn >>= 1
                    sn >>= 1
                }
            } else {
                result = RFC9162.nodeHash(result, sibling)
            }
            fn >>= 1
            sn >>= 1
        }
        guard sn == 0 else { throw .proofTooShort }
        return result
    }

    /// RFC 9162 §2.1.3.2: throws unless `leafHash` is at `leafIndex` in the tree with `rootHash`.
    public func verify(leafHash: MerkleHash, rootHash: MerkleHash) throws(ProofVerificationError) {
        guard try impliedRoot(forLeafHash: leafHash) == rootHash else { throw .rootMismatch }
    }

    public func isValid(leafHash: MerkleHash, rootHash: MerkleHash) -> Bool {
        (try? verify(leafHash: leafHash, rootHash: rootHash)) != nil
    }
}

/// RFC 9162 §2.1.4 consistency proof between the tree heads of two sizes.
public struct ConsistencyProof: Hashable, Sendable {
    public var fromSize: UInt64
    public var toSize: UInt64
    public var hashes: [MerkleHash]

    public init(fromSize: UInt64, toSize: UInt64, hashes: [MerkleHash]) {
        self.fromSize = fromSize
        self.toSize = toSize
        self.hashes = hashes
    }

    /// RFC 9162 §2.1.4.2, plus the two cases it leaves out: equal sizes need an
    /// empty proof and equal roots; an empty first tree needs an empty proof and
    /// the empty-tree root as `fromRoot` (the empty tree is a prefix of every tree).
    public func verify(fromRoot: MerkleHash, toRoot: MerkleHash) throws(ProofVerificationError) {
        guard fromSize <= toSize else { throw .sizesOutOfOrder(fromSize: fromSize, toSize: toSize) }
        if fromSize == toSize {
            guard hashes.isEmpty else { throw .proofTooLong }
            guard fromRoot == toRoot else { throw .rootMismatch }
            return
        }
        if fromSize == 0 {
            guard hashes.isEmpty else { throw .proofTooLong }
            guard fromRoot == RFC9162.emptyTreeRoot else { throw .rootMismatch }
            return
        }
        guard !hashes.isEmpty else { throw .emptyProof }

        // Step 2: a power-of-two first tree is itself a node of the second one.
        var path = hashes[...]
        let seed: MerkleHash
        if fromSize & (fromSize - 1) == 0 {
            seed = fromRoot
        } else {
            seed = path.removeFirst()
        }
        var fn = fromSize - 1
        var sn = toSize - 1
        while fn & 1 == 1 {
            fn >>= 1
            sn >>= 1
        }
        var fromResult = seed
        var toResult = seed
        for hash in path {
            guard sn != 0 else { throw .proofTooLong }
            if fn & 1 == 1 || fn == sn {
                fromResult = RFC9162.nodeHash(hash, fromResult)
                toResult = RFC9162.nodeHash(hash, toResult)
                while fn & 1 == 0 && fn != 0 {
                    fn >>= 1
                    sn >>= 1
                }
            } else {
                toResult = RFC9162.nodeHash(toResult, hash)
            }
            fn >>= 1
            sn >>= 1
        }
        guard sn == 0 else { throw .proofTooShort }
        guard fromResult == fromRoot, toResult == toRoot else { throw .rootMismatch }
    }

    public func isValid(fromRoot: MerkleHash, toRoot: MerkleHash) -> Bool {
        (try? verify(fromRoot: fromRoot, toRoot: toRoot)) != nil
    }
}
