import Foundation
import GRDB

/// The packet identifiers of the messages journaled last, to recognise a broker's redelivery.
///
/// A broker resends a QoS 1 message it holds no PUBACK for with its original packet identifier
/// when our session resumes (MQTT 3.1.1 4.4, MQTT 5 4.4). The gateway journals a read phase
/// before it writes the PUBACKs, so a crash or a dropped connection between the two brings back
/// messages that are already in the inbox. Identifiers of one session count up and wrap after
/// 65,535 messages, and the broker keeps at most its inflight window unacknowledged, so among
/// the last `capacity` records the same identifier, topic and payload on a resumed session is
/// that message again, never a new one.
struct RecentDeliveries {
    static let capacity = 1024

    private struct Entry {
        let packetId: Int
        let seq: Int64
        let digest: Int
    }

    private var entries: [Entry] = []
    private var next = 0
    private var loaded = false

    static func digest(topic: String, payload: [UInt8]) -> Int {
        var hasher = Hasher()
        hasher.combine(topic)
        hasher.combine(payload)
        return hasher.finalize()
    }

    /// The inbox record this message is a redelivery of, if any.
    mutating func original(of message: InboxMessage, in db: Database) throws -> Int64? {
        guard message.mayBeRedelivery, let packetId = message.packetId else { return nil }
        try loadIfNeeded(db)
        let digest = Self.digest(topic: message.topic, payload: message.payload)
        for entry in entries where entry.packetId == packetId && entry.digest == digest {
            // Confirmed against the stored bytes: a hash collision or a pruned or rolled-back
            // record is not a match.
            guard let row = try Row.fetchOne(db, sql: "SELECT topic, payload FROM inbox WHERE seq = ?", arguments: [entry.seq]) else { continue }
            if (row["topic"] as String) == message.topic, Array((row["payload"] as Data?) ?? Data()) == message.payload { return entry.seq }
        }
        return nil
    }

    mutating func remember(_ message: InboxMessage, seq: Int64, in db: Database) throws {
        guard let packetId = message.packetId else { return }
        try loadIfNeeded(db)
        add(Entry(packetId: packetId, seq: seq, digest: Self.digest(topic: message.topic, payload: message.payload)))
    }

    private mutating func add(_ entry: Entry) {
        if entries.count < Self.capacity {
            entries.append(entry)
        } else {
            entries[next] = entry
            next = (next + 1) % Self.capacity
        }
    }

    /// The last records of an earlier run: what a broker may redeliver after a crash.
    private mutating func loadIfNeeded(_ db: Database) throws {
        guard !loaded else { return }
        loaded = true
        let rows = try Row.fetchAll(
            db, sql: "SELECT seq, packet_id, topic, payload FROM inbox WHERE packet_id IS NOT NULL ORDER BY seq DESC LIMIT ?", arguments: [Self.capacity])
        for row in rows.reversed() {
            let payload = Array((row["payload"] as Data?) ?? Data())
            add(Entry(packetId: row["packet_id"], seq: row["seq"], digest: Self.digest(topic: row["topic"], payload: payload)))
        }
    }
}
