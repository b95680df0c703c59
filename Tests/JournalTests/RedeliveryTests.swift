import Foundation
import Journal
import Testing

/// A broker's redelivery of a journaled message (same packet identifier, topic and payload, on a
/// resumed session) is not journaled again, so no later stage sees it twice.
@Suite("Journal: a broker's redelivery is recognised by its packet identifier")
struct RedeliveryTests {
    func message(_ payload: String, packetId: Int?, resumed: Bool, topic: String = "phd/00aa000000000001/agent") -> InboxMessage {
        InboxMessage(topic: topic, payload: Array(payload.utf8), qos: 1, receivedAt: Date(), packetId: packetId, mayBeRedelivery: resumed)
    }

    @Test("the same packet id, topic and payload on a resumed session is the journaled record; anything else is new")
    func rules() throws {
        let dir = NSTemporaryDirectory() + "wardgate-redelivery-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let journal = try Journal(directory: dir)
        let first = try journal.append([message("aarq", packetId: 7, resumed: false), message("report-1", packetId: 8, resumed: false)])
        #expect(first.redeliveries == 0 && first.seqs.count == 2)

        // The broker resends both on the resumed session, then a new message follows.
        let again = try journal.append([message("aarq", packetId: 7, resumed: true), message("report-1", packetId: 8, resumed: true), message("report-2", packetId: 9, resumed: true)])
        #expect(again.redeliveries == 2)
        #expect(Array(again.seqs.prefix(2)) == first.seqs)
        #expect(try journal.statistics().inboxRecords == 3)

        // Not a redelivery: a new session (identifiers start over), another payload, another
        // topic, another identifier, or QoS 0 (no identifier).
        let new = try journal.append([
            message("aarq", packetId: 7, resumed: false),
            message("aarq-other", packetId: 7, resumed: true),
            message("aarq", packetId: 7, resumed: true, topic: "phd/00bb000000000002/agent"),
            message("aarq", packetId: 10, resumed: true),
            message("aarq", packetId: nil, resumed: true),
        ])
        #expect(new.redeliveries == 0)
        #expect(try journal.statistics().inboxRecords == 8)
    }

    @Test("after a restart the journal recognises a redelivery of what the previous run journaled")
    func acrossRestart() throws {
        let dir = NSTemporaryDirectory() + "wardgate-redelivery-restart-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let seqs = try Journal(directory: dir).append([message("report-1", packetId: 41, resumed: false), message("report-2", packetId: 42, resumed: false)]).seqs
        let reopened = try Journal(directory: dir)
        let redelivered = try reopened.append([message("report-2", packetId: 42, resumed: true)])
        #expect(redelivered.redeliveries == 1)
        #expect(redelivered.seqs == [seqs[1]])
        #expect(try reopened.pendingInbox(limit: 10).map(\.seq) == seqs)
    }
}
