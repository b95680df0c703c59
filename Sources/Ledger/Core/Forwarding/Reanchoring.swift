import Foundation
import JSONDocument
import Journal
import TransparencyLog

/// The recovery for a ledger that lost what it anchored (a deleted, replaced or restored-old
/// ledger file): every batch of the outbox that was anchored or refused, beyond what the ledger
/// still holds, is submitted again in tree order, each with a consistency proof computed from the
/// journal's tree (whose subtree hashes are never pruned), and its new receipt replaces the old
/// one. The checkpoints are the ones signed then: nothing is re-signed. Pending batches are left
/// to the forwarder. Run it with the gateway stopped (`wardgate ledger reanchor`).
public enum Reanchoring {
    public struct Outcome: Sendable, Equatable {
        /// Tree sizes anchored again, in order.
        public var anchored: [UInt64] = []
        /// Refused batches the ledger now accepted (they were refused because of the gap).
        public var recovered: [UInt64] = []
    }

    public struct Failure: Error, Sendable, CustomStringConvertible {
        public let treeSize: UInt64
        public let reason: String
        public let done: Outcome
        public var description: String {
            "re-anchoring stopped at the batch of size \(treeSize): \(reason) (\(done.anchored.count) batches re-anchored before it)"
        }
    }

    /// `ledgerSize` is the size of the last checkpoint the ledger holds for the origin (0: none).
    public static func run(outbox: Outbox, tree: LogTree<SQLiteSubtreeHashStore>, client: any LedgerClient, ledgerSize: UInt64) async throws -> Outcome {
        var outcome = Outcome()
        var from = ledgerSize
        for batch in try outbox.batches() where batch.state != .pending && batch.treeSize > ledgerSize {
            let proof = from == 0
                ? ConsistencyProof(fromSize: 0, toSize: batch.treeSize, hashes: [])
                : try tree.consistencyProof(fromSize: from, toSize: batch.treeSize)
            let entries = try outbox.entries(ofBatch: batch.treeSize) ?? []
            let ledgerBatch = LedgerBatch(
                key: BatchKey(origin: batch.origin, treeSize: batch.treeSize), checkpointNote: batch.checkpointNote, consistencyProof: proof,
                entries: entries.map { LedgerEntry(leafIndex: $0.leafIndex, leafData: $0.leafData) })
            switch await client.submit(ledgerBatch) {
            case .anchored(let receipt):
                try outbox.markAnchored(batch: batch.treeSize, ledger: client.kind, receipt: receipt.document.serializedBytes)
                outcome.anchored.append(batch.treeSize)
                if batch.state == .failed { outcome.recovered.append(batch.treeSize) }
                from = batch.treeSize
            case .retryable(let reason):
                throw Failure(treeSize: batch.treeSize, reason: "the ledger is not available: \(reason); run it again", done: outcome)
            case .permanent(let reason):
                // A batch refused for its own sake stays refused; the next one covers its leaves.
                guard batch.state == .failed else { throw Failure(treeSize: batch.treeSize, reason: reason, done: outcome) }
            }
        }
        return outcome
    }
}
