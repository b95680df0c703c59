import Foundation
import GRDB
import Journal
import Testing

@Suite("Journal outbox: batches, receipts, space given back, retention")
struct OutboxTests {
    func journal() throws -> (Journal, String) {
        let dir = NSTemporaryDirectory() + "wardgate-outbox-\(UUID().uuidString.prefix(8))"
        return (try Journal(directory: dir), dir)
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
            _ = try journal.commitProcessed(upTo: seq, observations: [entries[i]], deadLetters: []) { db, inserted in
                for entry in inserted { try Journal.recordLeafIndex(first + UInt64(i), observationId: entry.id, in: db) }
            }
        }
    }

    func cut(_ journal: Journal, from first: UInt64, to size: UInt64) throws {
        try journal.write { db in
            let entries = try Journal.loggedObservations(leaves: first..<size, in: db).map { OutboxEntry(leafIndex: $0.leafIndex, leafData: $0.resource) }
            try Journal.enqueueBatch(origin: "o", firstLeaf: first, treeSize: size, checkpointNote: "note \(size)\n", entries: entries, now: Date(), in: db)
        }
    }

    @Test("batches wait in order with their leaves; a receipt anchors one and frees its copy, which the quota counts as space returned")
    func lifecycle() throws {
        let (journal, dir) = try journal()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try addLeaves(journal, first: 0, count: 300, receivedAt: Date())
        try cut(journal, from: 0, to: 100)
        try cut(journal, from: 100, to: 300)
        #expect(try journal.lastBatchedSize() == 300)
        #expect(try journal.nextPendingBatch()?.treeSize == 100)
        let entries = try #require(try journal.entries(ofBatch: 300))
        #expect(entries.map(\.leafIndex) == Array(100..<300))
        #expect(entries.allSatisfy { $0.leafData.count == 800 })
        let waiting = try journal.outboxStatus()
        #expect(waiting.batchedSize == 300 && waiting.anchoredSize == 0 && waiting.pendingBatches == 2 && waiting.pendingLeaves == 300)
        #expect(waiting.oldestPendingCutAtMs == (try journal.nextPendingBatch()?.cutAtMs))

        // A refused batch is kept with its reason; the next one still goes.
        try journal.markFailed(batch: 100, reason: "fork: test")
        #expect(try journal.nextPendingBatch()?.treeSize == 300)
        let before = journal.usedBytes()
        try journal.markAnchored(batch: 300, ledger: "embedded", receipt: Array("{\"ledger\":\"embedded\"}".utf8))
        #expect(try journal.entries(ofBatch: 300) == nil)
        #expect(try journal.entries(ofBatch: 100)?.count == 100, "the refused batch keeps its leaves for the operator")
        #expect(journal.usedBytes() < before - 100 * 800, "the anchored batch's copy of its leaves is space returned")
        let status = try journal.outboxStatus()
        #expect(status.anchoredSize == 300 && status.pendingBatches == 0 && status.failedBatches == 1)
        // Leaves of the refused batch are anchored by the next checkpoint, which covers them.
        #expect(try journal.anchoringBatch(forLeaf: 42)?.treeSize == 300)
        #expect(try journal.anchoringBatch(forLeaf: 299)?.receipt == Array("{\"ledger\":\"embedded\"}".utf8))
        #expect(try journal.anchoringBatch(forLeaf: 300) == nil)
        #expect(try journal.outboxBatches().map(\.state) == [.failed, .anchored])
    }

    @Test("retention prunes only anchored readings past it; unanchored ones and their inbox rows stay")
    func retention() throws {
        let (journal, dir) = try journal()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let old = Date().addingTimeInterval(-40 * 86400)
        try addLeaves(journal, first: 0, count: 50, receivedAt: old)
        try addLeaves(journal, first: 50, count: 50, receivedAt: old)
        try addLeaves(journal, first: 100, count: 20, receivedAt: Date())
        try cut(journal, from: 0, to: 50)
        try cut(journal, from: 50, to: 100)
        try journal.markAnchored(batch: 50, ledger: "embedded", receipt: [])

        let outcome = try journal.pruneAnchored(receivedBefore: Date().addingTimeInterval(-30 * 86400))
        #expect(outcome.observations == 50 && outcome.inboxRecords == 50)
        #expect(try journal.observation(leafIndex: 10) == nil)
        #expect(try journal.observation(leafIndex: 60) != nil, "old but not anchored: kept")
        #expect(try journal.observation(leafIndex: 110) != nil, "anchored or not, too recent: kept")
        #expect(try journal.inboxRecord(seq: 51) != nil)
        // The receipt and checkpoint of the pruned readings stay.
        #expect(try journal.anchoringBatch(forLeaf: 10)?.checkpointNote == "note 50\n")
        let again = try journal.pruneAnchored(receivedBefore: Date().addingTimeInterval(-30 * 86400))
        #expect(again.observations == 0 && again.inboxRecords == 0)
    }
}
