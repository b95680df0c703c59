import Foundation
import Journal
@testable import Ledger
import Testing
@testable import Transparency

@Suite("Ledger outbox: batches, receipts, space given back, retention")
struct OutboxTests {
    /// A journal with the log's and the outbox's tables, as the gateway opens it.
    func journal() throws -> (Journal, Outbox, LeafIndex, String) {
        let dir = NSTemporaryDirectory() + "wardgate-outbox-\(UUID().uuidString.prefix(8))"
        let journal = try Journal(directory: dir, tables: [LeafIndex.tables, Outbox.tables])
        return (journal, try Outbox(journal: journal), try LeafIndex(journal: journal), dir)
    }

    /// Journals `count` signed Observations received at `receivedAt`, as leaves `first..<first+count`.
    func addLeaves(_ journal: Journal, first: UInt64, count: Int, receivedAt: Date) throws {
        var entries: [ObservationEntry] = []
        for i in 0..<count {
            let seq = try journal.appendInbox(topic: "t", payload: Array("{}".utf8), qos: 1, receivedAt: receivedAt)
            entries.append(ObservationEntry(
                id: "obs-\(first + UInt64(i))", inboxSeq: seq, deviceId: "d", metricCode: 1, effectiveAtMs: Int64(first) + Int64(i),
                issuedAtMs: Int64(receivedAt.timeIntervalSince1970 * 1000), implausible: false, resource: Array(repeating: UInt8(ascii: "x"), count: 800),
                signature: ObservationSignature(jws: "jws", signedAtMs: 0, certificateThumbprint: "t")))
            _ = try journal.commitProcessed(upTo: seq, observations: [entries[i]], deadLetters: []) { transaction, inserted in
                for entry in inserted { try LeafIndex.record(first + UInt64(i), observationId: entry.id, in: transaction) }
            }
        }
    }

    func cut(_ outbox: Outbox, _ leaves: LeafIndex, from first: UInt64, to size: UInt64) throws {
        let entries = try leaves.loggedObservations(leaves: first..<size).map { OutboxEntry(leafIndex: $0.leafIndex, leafData: $0.resource) }
        try outbox.journal.write { transaction in
            try outbox.enqueueBatch(origin: "o", firstLeaf: first, treeSize: size, checkpointNote: "note \(size)\n", entries: entries, now: Date(), in: transaction)
        }
    }

    @Test("batches wait in order with their leaves; a receipt anchors one and frees its copy, which the quota counts as space returned")
    func lifecycle() throws {
        let (journal, outbox, leaves, dir) = try journal()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try addLeaves(journal, first: 0, count: 300, receivedAt: Date())
        try cut(outbox, leaves, from: 0, to: 100)
        try cut(outbox, leaves, from: 100, to: 300)
        #expect(try outbox.lastBatchedSize() == 300)
        #expect(try outbox.nextPendingBatch()?.treeSize == 100)
        let entries = try #require(try outbox.entries(ofBatch: 300))
        #expect(entries.map(\.leafIndex) == Array(100..<300))
        #expect(entries.allSatisfy { $0.leafData.count == 800 })
        let waiting = try outbox.status()
        #expect(waiting.batchedSize == 300 && waiting.anchoredSize == 0 && waiting.pendingBatches == 2 && waiting.pendingLeaves == 300)
        #expect(waiting.oldestPendingCutAtMs == (try outbox.nextPendingBatch()?.cutAtMs))

        // A refused batch is kept with its reason; the next one still goes.
        try outbox.markFailed(batch: 100, reason: "fork: test")
        #expect(try outbox.nextPendingBatch()?.treeSize == 300)
        let before = journal.usedBytes()
        try outbox.markAnchored(batch: 300, ledger: "embedded", receipt: Array("{\"ledger\":\"embedded\"}".utf8))
        #expect(try outbox.entries(ofBatch: 300) == nil)
        #expect(try outbox.entries(ofBatch: 100)?.count == 100, "the refused batch keeps its leaves for the operator")
        #expect(journal.usedBytes() < before - 100 * 800, "the anchored batch's copy of its leaves is space returned")
        let status = try outbox.status()
        #expect(status.anchoredSize == 300 && status.pendingBatches == 0 && status.failedBatches == 1)
        // Leaves of the refused batch are anchored by the next checkpoint, which covers them.
        #expect(try outbox.anchoringBatch(forLeaf: 42)?.treeSize == 300)
        #expect(try outbox.anchoringBatch(forLeaf: 299)?.receipt == Array("{\"ledger\":\"embedded\"}".utf8))
        #expect(try outbox.anchoringBatch(forLeaf: 300) == nil)
        #expect(try outbox.batches().map(\.state) == [.failed, .anchored])
    }

    @Test("retention prunes only anchored readings past it; unanchored ones and their inbox rows stay")
    func retention() throws {
        let (journal, outbox, leaves, dir) = try journal()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let old = Date().addingTimeInterval(-40 * 86400)
        try addLeaves(journal, first: 0, count: 50, receivedAt: old)
        try addLeaves(journal, first: 50, count: 50, receivedAt: old)
        try addLeaves(journal, first: 100, count: 20, receivedAt: Date())
        try cut(outbox, leaves, from: 0, to: 50)
        try cut(outbox, leaves, from: 50, to: 100)
        try outbox.markAnchored(batch: 50, ledger: "embedded", receipt: [])

        let outcome = try outbox.pruneAnchored(receivedBefore: Date().addingTimeInterval(-30 * 86400))
        #expect(outcome.observations == 50 && outcome.inboxRecords == 50)
        #expect(try leaves.observation(leafIndex: 10) == nil)
        #expect(try leaves.observation(leafIndex: 60) != nil, "old but not anchored: kept")
        #expect(try leaves.observation(leafIndex: 110) != nil, "anchored or not, too recent: kept")
        #expect(try journal.inboxRecord(seq: 51) != nil)
        // The receipt and checkpoint of the pruned readings stay.
        #expect(try outbox.anchoringBatch(forLeaf: 10)?.checkpointNote == "note 50\n")
        let again = try outbox.pruneAnchored(receivedBefore: Date().addingTimeInterval(-30 * 86400))
        #expect(again.observations == 0 && again.inboxRecords == 0)
    }
}
