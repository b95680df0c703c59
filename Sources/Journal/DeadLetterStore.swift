import Foundation
import GRDB

/// Which dead letters a listing or a purge takes (every filter set must hold).
public struct DeadLetterFilter: Sendable, Hashable {
    public var deviceId: String?
    /// Only those written before this time.
    public var createdBefore: Date?

    public init(deviceId: String? = nil, createdBefore: Date? = nil) {
        self.deviceId = deviceId
        self.createdBefore = createdBefore
    }

    /// The WHERE clause over `dead_letter` and its arguments.
    func clause() -> (sql: String, arguments: StatementArguments) {
        var sql = "1"
        var arguments: StatementArguments = []
        if let deviceId {
            sql += " AND device_id = ?"
            _ = arguments.append(contentsOf: [deviceId])
        }
        if let createdBefore {
            sql += " AND created_at_ms < ?"
            _ = arguments.append(contentsOf: [Journal.milliseconds(createdBefore)])
        }
        return (sql, arguments)
    }
}

/// One dead letter with what the inbox still keeps of its message (`wardgate deadletters list`).
public struct DeadLetterSummary: Sendable, Hashable {
    public let id: Int64
    public let letter: DeadLetter
    public let createdAtMs: Int64
    /// When its message was received; nil once the inbox record is gone.
    public let receivedAtMs: Int64?
    /// Bytes of its payload the inbox keeps (0 once the record is gone).
    public let payloadBytesKept: Int
}

/// What a dead-letter purge removed.
public struct DeadLetterPurge: Sendable, Hashable {
    public let deadLetters: Int
    /// Inbox records that were evidence of those dead letters only (no Observation came of them).
    public let inboxRecords: Int
    public let payloadBytes: Int64

    public init(deadLetters: Int, inboxRecords: Int, payloadBytes: Int64) {
        self.deadLetters = deadLetters
        self.inboxRecords = inboxRecords
        self.payloadBytes = payloadBytes
    }
}

extension Journal {
    /// Payload bytes the inbox holds per topic (the quota's per-device fairness counts them).
    public func inboxBytesByTopic() throws(JournalError) -> [String: Int64] {
        try readDatabase { db in
            var bytes: [String: Int64] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT topic, SUM(LENGTH(payload)) AS bytes FROM inbox GROUP BY topic") {
                bytes[row["topic"]] = row["bytes"]
            }
            return bytes
        }
    }

    /// The journal's size as the quota last measured it (at most 100 ms old), without a new look.
    public var recentUsedBytes: Int64 { quota.usedBytes() }

    /// Dead letters in the order they were written, with what the inbox keeps of each message.
    public func deadLetterSummaries(_ filter: DeadLetterFilter = DeadLetterFilter(), limit: Int? = nil) throws(JournalError) -> [DeadLetterSummary] {
        let (clause, arguments) = filter.clause()
        var sql = """
            SELECT d.*, i.received_at_ms AS received_at_ms, IFNULL(LENGTH(i.payload), 0) AS kept
            FROM (SELECT * FROM dead_letter WHERE \(clause)) d LEFT JOIN inbox i ON i.seq = d.inbox_seq ORDER BY d.id
            """
        if let limit { sql += " LIMIT \(max(0, limit))" }
        return try readDatabase { db in
            try Row.fetchAll(db, sql: sql, arguments: arguments).map { row in
                DeadLetterSummary(
                    id: row["id"],
                    letter: DeadLetter(inboxSeq: row["inbox_seq"], topic: row["topic"], deviceId: row["device_id"], kind: row["kind"], reason: row["reason"]),
                    createdAtMs: row["created_at_ms"], receivedAtMs: row["received_at_ms"], payloadBytesKept: row["kept"])
            }
        }
    }

    /// Deletes the dead letters `filter` takes, in one transaction, and the inbox records that
    /// were evidence of nothing else: processed, no Observation came of them, and no other dead
    /// letter names them.
    @discardableResult
    public func purgeDeadLetters(_ filter: DeadLetterFilter) throws(JournalError) -> DeadLetterPurge {
        try writeDatabase { db in try Journal.purgeDeadLetters(filter, in: db) }
    }

    static func purgeDeadLetters(_ filter: DeadLetterFilter, in db: Database) throws -> DeadLetterPurge {
        let (clause, arguments) = filter.clause()
        let seqs = try Int64.fetchAll(db, sql: "SELECT DISTINCT inbox_seq FROM dead_letter WHERE \(clause)", arguments: arguments)
        try db.execute(sql: "DELETE FROM dead_letter WHERE \(clause)", arguments: arguments)
        let deadLetters = db.changesCount
        let cursor = try Journal.cursor(db)
        let onlyEvidence = """
            seq = ? AND seq <= ? AND NOT EXISTS (SELECT 1 FROM observation WHERE inbox_seq = ?)
            AND NOT EXISTS (SELECT 1 FROM dead_letter WHERE inbox_seq = ?)
            """
        let measure = try db.cachedStatement(sql: "SELECT LENGTH(payload) FROM inbox WHERE \(onlyEvidence)")
        let delete = try db.cachedStatement(sql: "DELETE FROM inbox WHERE \(onlyEvidence)")
        var records = 0
        var bytes: Int64 = 0
        for seq in seqs {
            let arguments: StatementArguments = [seq, cursor, seq, seq]
            guard let length = try Int64.fetchOne(measure, arguments: arguments) else { continue }
            try delete.execute(arguments: arguments)
            records += db.changesCount
            bytes += length
        }
        return DeadLetterPurge(deadLetters: deadLetters, inboxRecords: records, payloadBytes: bytes)
    }
}
