import Foundation
import GRDB
import IEEE11073
import Journal

/// The 11073 manager's sessions and recent replies in the journal file, written in the
/// processor's commit with the cursor, so that after a crash each session is exactly the one
/// the records past the cursor would have met, and a reply the crash cut off can be sent again.
public struct ManagerSessionStore: Sendable {
    let journal: Journal

    /// One row per device: its latest committed snapshot (`ManagerSession.snapshot(now:)`).
    /// The replies of each commit, kept as long as an agent may still wait for one of them.
    public static let tables = JournalTables(owner: "IEEE 11073 manager sessions") { migrator in
        migrator.registerMigration("ieee11073.v1-manager-sessions") { db in
            try db.execute(sql: """
                CREATE TABLE manager_session (
                    device_key TEXT PRIMARY KEY,
                    reply_topic TEXT,
                    snapshot BLOB NOT NULL,
                    committed_at_ms INTEGER NOT NULL
                );
                CREATE TABLE manager_reply (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    committed_at_ms INTEGER NOT NULL,
                    replies BLOB NOT NULL
                );
                """)
        }
    }

    /// `journal` must have been opened with `ManagerSessionStore.tables`.
    public init(journal: Journal) throws(JournalError) {
        try journal.requireTables(ManagerSessionStore.tables)
        self.journal = journal
    }

    /// A session as committed, with the topic its manager answers on (for the timers' aborts).
    public struct StoredSession: Sendable, Equatable {
        public let deviceKey: String
        public let replyTopic: String?
        public let snapshot: [UInt8]
        public let committedAt: Date
    }

    /// A session to commit.
    struct ChangedSession: Sendable {
        let deviceKey: String
        let replyTopic: String?
        let snapshot: [UInt8]
    }

    /// A reply as committed, to a topic.
    public struct StoredReply: Sendable, Equatable {
        public let topic: String
        public let payload: [UInt8]
        public let committedAt: Date
    }

    public func sessions() throws(JournalError) -> [StoredSession] {
        try journal.read { transaction in
            try Row.fetchAll(transaction.database, sql: "SELECT device_key, reply_topic, snapshot, committed_at_ms FROM manager_session ORDER BY device_key").map { row in
                StoredSession(
                    deviceKey: row["device_key"], replyTopic: row["reply_topic"], snapshot: Array(row["snapshot"] as Data),
                    committedAt: Self.date(row["committed_at_ms"]))
            }
        }
    }

    /// Replies committed at or after `since`, oldest first.
    public func replies(committedSince since: Date) throws(JournalError) -> [StoredReply] {
        try journal.read { transaction in
            var replies: [StoredReply] = []
            let rows = try Row.fetchAll(
                transaction.database, sql: "SELECT committed_at_ms, replies FROM manager_reply WHERE committed_at_ms >= ? ORDER BY id",
                arguments: [Journal.milliseconds(since)])
            for row in rows {
                let committedAt = Self.date(row["committed_at_ms"])
                for (topic, payload) in try ReplyEncoding.decode(Array(row["replies"] as Data)) {
                    replies.append(StoredReply(topic: topic, payload: payload, committedAt: committedAt))
                }
            }
            return replies
        }
    }

    /// Writes changed sessions and a commit's replies inside `transaction`, and forgets replies
    /// committed before `keepRepliesSince` (no agent still waits for them).
    static func write(
        sessions: [ChangedSession], replies: [(topic: String, payload: [UInt8])], now: Date, keepRepliesSince: Date,
        in transaction: JournalTransaction
    ) throws {
        let db = transaction.database
        let nowMs = Journal.milliseconds(now)
        if !sessions.isEmpty {
            let upsert = try db.cachedStatement(sql: """
                INSERT INTO manager_session (device_key, reply_topic, snapshot, committed_at_ms) VALUES (?, ?, ?, ?)
                ON CONFLICT(device_key) DO UPDATE SET
                    reply_topic = excluded.reply_topic, snapshot = excluded.snapshot, committed_at_ms = excluded.committed_at_ms
                """)
            for session in sessions { try upsert.execute(arguments: [session.deviceKey, session.replyTopic, Data(session.snapshot), nowMs]) }
        }
        try db.cachedStatement(sql: "DELETE FROM manager_reply WHERE committed_at_ms < ?").execute(arguments: [Journal.milliseconds(keepRepliesSince)])
        if !replies.isEmpty {
            try db.cachedStatement(sql: "INSERT INTO manager_reply (committed_at_ms, replies) VALUES (?, ?)")
                .execute(arguments: [nowMs, Data(try ReplyEncoding.encode(replies))])
        }
    }

    /// Writes changed sessions alone (after the 20601 timers ran), in a transaction of its own.
    func write(sessions: [ChangedSession], now: Date) throws(JournalError) {
        try journal.write { transaction in
            try Self.write(sessions: sessions, replies: [], now: now, keepRepliesSince: .distantPast, in: transaction)
        }
    }

    static func date(_ milliseconds: Int64) -> Date { Date(timeIntervalSince1970: Double(milliseconds) / 1000) }
}

/// One commit's replies as one blob, so the steady state adds one row per commit, not one per
/// reply: per reply the topic (UTF-8) and the APDU, each an MDER octet string.
enum ReplyEncoding {
    static func encode(_ replies: [(topic: String, payload: [UInt8])]) throws(EncodeError) -> [UInt8] {
        var writer = MDERWriter()
        for reply in replies {
            try writer.octetString(Array(reply.topic.utf8), "reply topic")
            try writer.octetString(reply.payload, "reply")
        }
        return writer.bytes
    }

    static func decode(_ bytes: [UInt8]) throws(DecodeError) -> [(topic: String, payload: [UInt8])] {
        var reader = MDERReader(bytes, path: "manager_reply")
        var replies: [(String, [UInt8])] = []
        while !reader.isAtEnd {
            let topic = String(decoding: try reader.octetString("topic"), as: UTF8.self)
            replies.append((topic, try reader.octetString("reply")))
        }
        return replies
    }
}
