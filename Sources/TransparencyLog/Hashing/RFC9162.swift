import Crypto
import Dispatch
import Foundation
import Synchronization

/// RFC 9162 §2.1.1 Merkle Tree Hash with SHA-256.
///
/// Leaves are hashed with a 0x00 prefix and interior nodes with 0x01, so a
/// leaf can never be confused with a node. A tree of n leaves splits at the
/// largest power of two smaller than n; the last node is never duplicated
/// (the Bitcoin construction that allows CVE-2012-2459).
public enum RFC9162 {
    /// MTH of the empty tree: SHA-256 of the empty string.
    public static let emptyTreeRoot: MerkleHash = digestHash(SHA256.hash(data: [UInt8]()))

    /// SHA-256(0x00 ‖ data).
    public static func leafHash(_ data: some DataProtocol) -> MerkleHash {
        var hasher = SHA256()
        withUnsafeBytes(of: UInt8(0x00)) { hasher.update(bufferPointer: $0) }
        hasher.update(data: data)
        return digestHash(hasher.finalize())
    }

    /// SHA-256(0x01 ‖ left ‖ right).
    public static func nodeHash(_ left: MerkleHash, _ right: MerkleHash) -> MerkleHash {
        // One contiguous 65-byte input on the stack: one update call, no heap buffer.
        withUnsafeTemporaryAllocation(byteCount: 65, alignment: 8) { input in
            input[0] = 0x01
            left.withUnsafeBytes { UnsafeMutableRawBufferPointer(rebasing: input[1..<33]).copyMemory(from: $0) }
            right.withUnsafeBytes { UnsafeMutableRawBufferPointer(rebasing: input[33..<65]).copyMemory(from: $0) }
            var hasher = SHA256()
            hasher.update(bufferPointer: UnsafeRawBufferPointer(input))
            return digestHash(hasher.finalize())
        }
    }

    /// Leaf hashes of many leaves; large batches are split across cores.
    public static func leafHashes<Leaves: Collection>(_ leaves: Leaves) -> [MerkleHash]
    where Leaves.Element: DataProtocol & Sendable {
        let count = leaves.count
        let workers = min(ProcessInfo.processInfo.activeProcessorCount, 8)
        // Below a few hundred leaves the thread hand-off costs more than it saves.
        guard count >= 512, workers > 1 else { return leaves.map { leafHash($0) } }
        let leaves = Array(leaves)
        let parts = Mutex([[MerkleHash]](repeating: [], count: workers))
        DispatchQueue.concurrentPerform(iterations: workers) { worker in
            let hashes = leaves[(count * worker / workers)..<(count * (worker + 1) / workers)].map { leafHash($0) }
            parts.withLock { $0[worker] = hashes }
        }
        return parts.withLock { $0.flatMap { $0 } }
    }

    static func digestHash(_ digest: SHA256Digest) -> MerkleHash {
        digest.withUnsafeBytes { MerkleHash(loadingFrom: $0, atByteOffset: 0) }
    }

    /// The largest power of two strictly smaller than `count` (count ≥ 2).
    static func splitPoint(_ count: UInt64) -> UInt64 {
        precondition(count >= 2, "split needs at least two leaves")
        return 1 << (63 - (count - 1).leadingZeroBitCount)
    }
}
