/// The RFC 9162 §2.1.3.1 PATH and §2.1.4.1 SUBPROOF recursions, written as
/// loops. `subtreeHash(begin, end)` must return MTH(D[begin:end]); the loops
/// only ask for ranges the RFC recursion produces, whose `begin` is aligned to
/// a power of two at least as large as the range.
enum ProofConstruction {
    /// Callers guarantee `leafIndex < treeSize`.
    static func inclusionPath(
        leafIndex: UInt64,
        treeSize: UInt64,
        subtreeHash: (UInt64, UInt64) throws -> MerkleHash
    ) rethrows -> [MerkleHash] {
        var topDown: [MerkleHash] = []
        var begin: UInt64 = 0
        var end = treeSize
        var index = leafIndex
        while end - begin > 1 {
            let split = RFC9162.splitPoint(end - begin)
            if index < split {
                topDown.append(try subtreeHash(begin + split, end))
                end = begin + split
            } else {
                topDown.append(try subtreeHash(begin, begin + split))
                begin += split
                index -= split
            }
        }
        return topDown.reversed()
    }

    /// Callers guarantee `fromSize <= toSize`. Equal sizes and an empty first
    /// tree give the empty proof (see `ConsistencyProof.verify`).
    static func consistencyPath(
        fromSize: UInt64,
        toSize: UInt64,
        subtreeHash: (UInt64, UInt64) throws -> MerkleHash
    ) rethrows -> [MerkleHash] {
        guard fromSize > 0, fromSize < toSize else { return [] }
        var topDown: [MerkleHash] = []
        var begin: UInt64 = 0
        var end = toSize
        var remaining = fromSize
        var isWholeFirstTree = true
        while remaining != end - begin {
            let split = RFC9162.splitPoint(end - begin)
            if remaining <= split {
                topDown.append(try subtreeHash(begin + split, end))
                end = begin + split
            } else {
                topDown.append(try subtreeHash(begin, begin + split))
                begin += split
                remaining -= split
                isWholeFirstTree = false
            }
        }
        // SUBPROOF(m, D[m], false) = [MTH(D[m])]; with the flag still true the
        // verifier already knows this hash: it is the first tree's root.
        if !isWholeFirstTree {
            topDown.append(try subtreeHash(begin, end))
        }
        return topDown.reversed()
    }
}

extension RFC9162 {
    /// MTH over a list of leaf hashes, computed directly from the RFC 9162
    /// definition (O(n)). The persisted `LogTree` is the efficient way; this is
    /// the plain reference for small lists, tools and tests.
    public static func rootHash(ofLeafHashes leafHashes: [MerkleHash]) -> MerkleHash {
        referenceSubtreeHash(leafHashes[...])
    }

    /// Inclusion proof for `leafIndex` in the tree made of all `leafHashes` (O(n)).
    public static func inclusionProof(
        leafIndex: UInt64,
        leafHashes: [MerkleHash]
    ) throws(TransparencyLogError) -> InclusionProof {
        let size = UInt64(leafHashes.count)
        guard leafIndex < size else { throw .leafIndexOutOfRange(leafIndex: leafIndex, treeSize: size) }
        let path = ProofConstruction.inclusionPath(leafIndex: leafIndex, treeSize: size) { begin, end in
            referenceSubtreeHash(leafHashes[Int(begin)..<Int(end)])
        }
        return InclusionProof(leafIndex: leafIndex, treeSize: size, hashes: path)
    }

    /// Consistency proof from the first `fromSize` leaves to all `leafHashes` (O(n)).
    public static func consistencyProof(
        fromSize: UInt64,
        leafHashes: [MerkleHash]
    ) throws(TransparencyLogError) -> ConsistencyProof {
        let size = UInt64(leafHashes.count)
        guard fromSize <= size else { throw .invalidConsistencyRange(fromSize: fromSize, toSize: size) }
        let path = ProofConstruction.consistencyPath(fromSize: fromSize, toSize: size) { begin, end in
            referenceSubtreeHash(leafHashes[Int(begin)..<Int(end)])
        }
        return ConsistencyProof(fromSize: fromSize, toSize: size, hashes: path)
    }

    private static func referenceSubtreeHash(_ leafHashes: ArraySlice<MerkleHash>) -> MerkleHash {
        switch leafHashes.count {
        case 0:
            return emptyTreeRoot
        case 1:
            return leafHashes[leafHashes.startIndex]
        default:
            let split = Int(splitPoint(UInt64(leafHashes.count)))
            let middle = leafHashes.startIndex + split
            return nodeHash(
                referenceSubtreeHash(leafHashes[..<middle]),
                referenceSubtreeHash(leafHashes[middle...])
            )
        }
    }
}
