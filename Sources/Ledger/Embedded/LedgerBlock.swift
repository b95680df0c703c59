import Crypto
import Foundation
import HexEncoding
import Ledger
import TransparencyLog

/// One block of the embedded ledger. The hash covers every field but the signature:
///
///     SHA-256( "wardgate-ledger-block/1\n" ‖ height (u64 BE) ‖ previous hash (32)
///              ‖ time in Unix ms (u64 BE) ‖ entry count (u64 BE) ‖ entries root (32) )
///
/// The entries root is the RFC 9162 Merkle root over the anchored checkpoints, each leaf being
/// the checkpoint's full signed note (origin, size, root and the gateway's signature). The
/// ledger key signs the block hash (ECDSA P-256, SHA-256, DER). Heights start at 1; block 1's
/// previous hash is 32 zero bytes.
public struct LedgerBlock: Sendable, Hashable {
    public static let domain = Array("wardgate-ledger-block/1\n".utf8)

    public let height: UInt64
    public let previousHash: [UInt8]
    public let timeMs: UInt64
    /// The signed checkpoint notes this block anchors, in order.
    public let checkpointNotes: [String]

    public init(height: UInt64, previousHash: [UInt8], timeMs: UInt64, checkpointNotes: [String]) {
        self.height = height
        self.previousHash = previousHash
        self.timeMs = timeMs
        self.checkpointNotes = checkpointNotes
    }

    public static func entryHash(checkpointNote: String) -> MerkleHash { RFC9162.leafHash(Array(checkpointNote.utf8)) }

    public var entriesRoot: MerkleHash {
        get throws { try EntryTree(notes: checkpointNotes).root }
    }

    public var hash: [UInt8] {
        get throws { LedgerBlock.hash(height: height, previousHash: previousHash, timeMs: timeMs, entryCount: UInt64(checkpointNotes.count), entriesRoot: try entriesRoot) }
    }

    static func hash(height: UInt64, previousHash: [UInt8], timeMs: UInt64, entryCount: UInt64, entriesRoot: MerkleHash) -> [UInt8] {
        var input = domain
        appendBigEndian(height, to: &input)
        input += previousHash
        appendBigEndian(timeMs, to: &input)
        appendBigEndian(entryCount, to: &input)
        input += entriesRoot.bytes
        return Array(SHA256.hash(data: input))
    }

    private static func appendBigEndian(_ value: UInt64, to bytes: inout [UInt8]) {
        for shift in stride(from: 56, through: 0, by: -8) { bytes.append(UInt8(truncatingIfNeeded: value >> UInt64(shift))) }
    }
}

/// The Merkle tree over a block's entries, for its root and each entry's inclusion path.
struct EntryTree {
    let tree: LogTree<InMemorySubtreeHashStore>

    init(notes: [String]) throws {
        tree = try LogTree(store: InMemorySubtreeHashStore())
        _ = try tree.append(contentsOf: notes.map(LedgerBlock.entryHash(checkpointNote:)))
    }

    var root: MerkleHash { get throws { try tree.treeHead().rootHash } }

    func path(index: UInt64) throws -> [MerkleHash] { try tree.inclusionProof(leafIndex: index).hashes }
}

/// An embedded-ledger key: the key id in receipts is the hex of SHA-256(SubjectPublicKeyInfo)[0..<8].
public enum LedgerKeyID {
    public static func of(_ key: P256.Signing.PublicKey) -> String {
        Hex.encode(SHA256.hash(data: key.derRepresentation).prefix(8))
    }
}
