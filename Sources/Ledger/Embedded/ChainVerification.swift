import Crypto
import Foundation
import GRDB
import Ledger
import TransparencyLog

/// What `wardgate ledger verify` found.
public struct ChainReport: Sendable, Equatable {
    public struct Fault: Sendable, Equatable, CustomStringConvertible {
        public let height: UInt64
        public let reason: String
        public var description: String { "block \(height): \(reason)" }
    }

    public let blocks: UInt64
    public let checkpoints: UInt64
    /// The first bad block, if any; nothing after it is trusted.
    public let fault: Fault?

    public var isIntact: Bool { fault == nil }
}

extension EmbeddedLedger {
    /// Re-walks the whole chain from block 1: heights contiguous, each previous hash the hash
    /// of the block before, each hash recomputed from the block's fields and its entries, each
    /// signature valid under this ledger's key (from the key file, not from the ledger file,
    /// which an attacker could rewrite), and each entry's columns equal to its signed note.
    public func verifyChain() throws -> ChainReport {
        let publicKey = try P256.Signing.PublicKey(derRepresentation: publicKeyDER)
        return try databaseQueue.read { db in
            var expectedPrevious = [UInt8](repeating: 0, count: 32)
            var expectedHeight: UInt64 = 1
            var checkpoints: UInt64 = 0
            let blocks = try Row.fetchCursor(db, sql: "SELECT * FROM block ORDER BY height")
            while let row = try blocks.next() {
                let height = UInt64(row["height"] as Int64)
                func fault(_ reason: String) -> ChainReport {
                    ChainReport(blocks: expectedHeight - 1, checkpoints: checkpoints, fault: .init(height: height, reason: reason))
                }
                guard height == expectedHeight else { return fault("expected height \(expectedHeight): a block is missing or out of place") }
                let previous = Array(row["previous_hash"] as Data)
                guard previous == expectedPrevious else { return fault("its previous hash is not the hash of block \(height - 1)") }
                let entries = try Row.fetchAll(db, sql: "SELECT * FROM block_entry WHERE height = ? ORDER BY idx", arguments: [Int64(height)])
                var notes: [String] = []
                for (position, entry) in entries.enumerated() {
                    guard (entry["idx"] as Int64) == Int64(position) else { return fault("entry indexes are not 0, 1, 2…") }
                    let note: String = entry["checkpoint"]
                    guard let checkpoint = try? Checkpoint(parsing: SignedNote(parsing: note).text) else {
                        return fault("entry \(position): the checkpoint note does not parse")
                    }
                    guard checkpoint.origin == (entry["origin"] as String), checkpoint.size == UInt64(entry["tree_size"] as Int64),
                        checkpoint.rootHash.bytes == Array(entry["root_hash"] as Data)
                    else { return fault("entry \(position): origin, size or root differs from its signed checkpoint") }
                    notes.append(note)
                }
                guard (row["entry_count"] as Int64) == Int64(notes.count) else { return fault("entry count \(row["entry_count"] as Int64) but \(notes.count) entries") }
                let block = LedgerBlock(height: height, previousHash: previous, timeMs: UInt64(row["time_ms"] as Int64), checkpointNotes: notes)
                guard try block.entriesRoot.bytes == Array(row["entries_root"] as Data) else { return fault("the entries root does not match its entries") }
                let hash = try block.hash
                guard hash == Array(row["hash"] as Data) else { return fault("the stored hash does not match the block's contents") }
                guard let signature = try? P256.Signing.ECDSASignature(derRepresentation: Array(row["signature"] as Data)),
                    publicKey.isValidSignature(signature, for: hash)
                else { return fault("the signature does not verify with ledger key \(keyID)") }
                expectedPrevious = hash
                expectedHeight += 1
                checkpoints += UInt64(notes.count)
            }
            let orphans = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM block_entry WHERE height NOT IN (SELECT height FROM block)") ?? 0
            if orphans > 0 {
                return ChainReport(blocks: expectedHeight - 1, checkpoints: checkpoints, fault: .init(height: expectedHeight, reason: "\(orphans) entries belong to no block"))
            }
            return ChainReport(blocks: expectedHeight - 1, checkpoints: checkpoints, fault: nil)
        }
    }
}
