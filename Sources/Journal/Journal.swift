import Foundation
import GRDB
import Synchronization

/// The gateway's durable store: a SQLite database in WAL mode in the state directory.
///
/// Writers are serialized by GRDB; readers run concurrently on WAL snapshots.
public final class Journal: Sendable {
    public static let fileName = "journal.sqlite"
    static let processingCursor = "observations"

    public let path: String
    public let durability: Durability
    public let maxBytes: Int64?
    /// Opened with `init(readingAt:)`: writes fail and `close()` does not checkpoint.
    public let isReadOnly: Bool
    /// The owners whose tables this journal was opened with (see `JournalTables`).
    public let tableOwners: [String]
    let pool: DatabasePool
    let quota: QuotaGauge
    private let recentDeliveries = Mutex(RecentDeliveries())
    /// Set once SQLite reports the file damaged: from then on every write is refused as
    /// corrupt, so nothing more is acknowledged that could not be processed.
    private let damage = Mutex<String?>(nil)
    /// The last write that failed for want of space or I/O, until an inbox commit succeeds (an
    /// empty probe transaction succeeds on a full disk too, so it does not count).
    private let writeFailure = Mutex<StorageFailure?>(nil)

    /// Opens (creating and migrating as needed) the journal in `directory`. `tables` are the
    /// other modules' tables kept in the same file; their migrations run after the journal's,
    /// in this order, in one migrator.
    public convenience init(directory: String, durability: Durability = .process, maxBytes: Int64? = nil, tables: [JournalTables] = []) throws(JournalError) {
        let path = (directory as NSString).appendingPathComponent(Journal.fileName)
        try JournalFiles.prepare(directory: directory, databasePath: path)
        let pool: DatabasePool
        do {
            var config = Configuration()
            config.busyMode = .timeout(10)
            pool = try DatabasePool(path: path, configuration: config)
            // Set on the writer after GRDB's own WAL setup (which chooses NORMAL); synchronous is
            // per connection and only the writer commits.
            try pool.writeWithoutTransaction { db in
                try db.execute(sql: "PRAGMA synchronous = \(durability.synchronousPragma)")
                // The writer touches random pages of the Observation id index on every commit;
                // an 8 MiB page cache (SQLite's default is 2 MiB) keeps most of them out of pread.
                try db.execute(sql: "PRAGMA cache_size = -8192")
            }
            try JournalMigrations.migrator(with: tables).migrate(pool)
        } catch {
            throw JournalError.opening(path: path, error)
        }
        self.init(path: path, pool: pool, durability: durability, maxBytes: maxBytes, tables: tables, readOnly: false)
    }

    /// Opens an existing journal for reading only (every CLI command that only looks): it never
    /// creates the file or its directory and never migrates. A missing file is `.missing`.
    public convenience init(readingAt directory: String, tables: [JournalTables] = []) throws(JournalError) {
        let path = (directory as NSString).appendingPathComponent(Journal.fileName)
        guard FileManager.default.fileExists(atPath: path) else { throw .missing(path: path) }
        let pool: DatabasePool
        do {
            var config = Configuration()
            config.readonly = true
            config.busyMode = .timeout(10)
            pool = try DatabasePool(path: path, configuration: config)
            let current = try pool.read { db in try JournalMigrations.migrator(with: tables).hasCompletedMigrations(db) }
            guard current else {
                throw JournalError.cannotOpen(path: path, reason: "it was written by an older wardgate and is not migrated yet; start the gateway once (it migrates at start)")
            }
        } catch let error as JournalError {
            throw error
        } catch {
            throw JournalError.opening(path: path, error)
        }
        self.init(path: path, pool: pool, durability: .process, maxBytes: nil, tables: tables, readOnly: true)
    }

    private init(path: String, pool: DatabasePool, durability: Durability, maxBytes: Int64?, tables: [JournalTables], readOnly: Bool) {
        self.path = path
        self.isReadOnly = readOnly
        self.pool = pool
        self.durability = durability
        self.maxBytes = maxBytes
        self.tableOwners = tables.map(\.owner)
        self.quota = QuotaGauge(walPath: path + "-wal") {
            // The pages the newest commit uses, whether or not a checkpoint has copied them into
            // the database file yet; pages SQLite freed (anchored batches drop their copy of the
            // leaves) are reused before the file grows, so they count as space that has returned.
            (try? pool.read { db in
                try Int64.fetchOne(db, sql: "SELECT (page_count - freelist_count) * page_size FROM pragma_page_count, pragma_freelist_count, pragma_page_size")
            }) ?? 0
        }
    }

    // MARK: Inbox

    /// Commits one message durably. Returns its sequence number. Throws, and must not be
    /// acknowledged, when the quota is exhausted or the disk refuses the write.
    @discardableResult
    public func appendInbox(topic: String, payload: [UInt8], qos: Int, receivedAt: Date) throws(JournalError) -> Int64 {
        try appendInbox([InboxMessage(topic: topic, payload: payload, qos: qos, receivedAt: receivedAt)])[0]
    }

    /// Commits several messages in one transaction (one fsync with durability `power`): all of
    /// them are durable, or none is and none may be acknowledged. Returns their sequence numbers.
    @discardableResult
    public func appendInbox(_ messages: [InboxMessage]) throws(JournalError) -> [Int64] {
        try append(messages).seqs
    }

    /// `appendInbox`, telling also how many messages were a broker's redelivery of one already
    /// journaled (same packet identifier, topic and payload on a resumed session): those are
    /// not journaled again, so nothing downstream (an 11073 session) sees them twice.
    public func append(_ messages: [InboxMessage]) throws(JournalError) -> InboxAppend {
        guard !messages.isEmpty else { return InboxAppend(seqs: [], redeliveries: 0) }
        try refuseIfCorrupt()
        if let maxBytes {
            let used = quota.usedBytes()
            if used >= maxBytes { throw .quotaExceeded(usedBytes: used, maxBytes: maxBytes) }
        }
        do {
            let appended = try pool.write { db in
                // Cached: this runs once per commit, and compiling it each time showed in profiles.
                let insert = try db.cachedStatement(sql: """
                    INSERT INTO inbox (topic, payload, qos, received_at_ms, packet_id, cut_kind, cut_reason, topic_bytes, topic_sha256, payload_bytes, payload_sha256)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """)
                var seqs: [Int64] = []
                seqs.reserveCapacity(messages.count)
                var redeliveries = 0
                try recentDeliveries.withLock { recent in
                    for message in messages {
                        if let original = try recent.original(of: message, in: db) {
                            seqs.append(original)
                            redeliveries += 1
                            continue
                        }
                        let receivedAtMs = Int64((message.receivedAt.timeIntervalSince1970 * 1000).rounded())
                        let cut = message.cut
                        try insert.execute(arguments: [
                            message.topic, Data(message.payload), message.qos, receivedAtMs, message.packetId,
                            cut?.kind, cut?.reason, cut?.topicBytes, cut?.topicSHA256, cut?.payloadBytes, cut?.payloadSHA256,
                        ])
                        seqs.append(db.lastInsertedRowID)
                        try recent.remember(message, seq: db.lastInsertedRowID, in: db)
                    }
                }
                return InboxAppend(seqs: seqs, redeliveries: redeliveries)
            }
            writeFailure.withLock { $0 = nil }
            quota.noteWritten(messages.reduce(0) { $0 + Int64($1.payload.count + $1.topic.utf8.count) })
            return appended
        } catch {
            throw failure(error)
        }
    }

    /// Messages not yet turned into Observations, oldest first: past the processing cursor, and
    /// past `seq` if given (the processor reads the next batch while the one before it commits).
    public func pendingInbox(after seq: Int64? = nil, limit: Int) throws(JournalError) -> [InboxRecord] {
        try readDatabase { db in
            let cursor = max(try Journal.cursor(db), seq ?? 0)
            return try InboxRecord.fetchAll(db, sql: "SELECT * FROM inbox WHERE seq > ? ORDER BY seq LIMIT ?", arguments: [cursor, limit])
        }
    }

    /// Records the outcome of processing inbox records up to `seq`, all at once.
    /// Observations already present (a broker redelivery) are skipped and counted.
    ///
    /// `onInserted` runs inside the same transaction with the Observations that were new (not
    /// duplicates), so a later stage (the Merkle log) commits or rolls back together with them.
    public func commitProcessed(
        upTo seq: Int64, observations: [ObservationEntry], deadLetters: [DeadLetter], now: Date = Date(),
        onInserted: ((JournalTransaction, [ObservationEntry]) throws -> Void)? = nil
    ) throws(JournalError) -> ProcessedOutcome {
        let nowMs = Int64(now.timeIntervalSince1970 * 1000)
        return try writeDatabase { db in
            let cursor = try Journal.cursor(db)
            guard seq > cursor else { return ProcessedOutcome(inserted: 0, duplicates: 0, alreadyProcessed: true) }
            var inserted: [ObservationEntry] = []
            // The compact form (CompactObservationsMigration): the JWS as header reference, iat and r‖s.
            let insert = try db.cachedStatement(sql: """
                INSERT OR IGNORE INTO observation
                (id, inbox_seq, device_id, metric_code, effective_at_ms, issued_at_ms, implausible, resource,
                 header_id, iat, signature, jws, signed_at_ms, quarantine_reason)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """)
            var headers = SignatureHeaders(db)
            for o in observations {
                let values: [DatabaseValue] = [
                    ObservationKey.value(o.id), o.inboxSeq.databaseValue, o.deviceId.databaseValue, Int64(o.metricCode).databaseValue,
                    o.effectiveAtMs.databaseValue, o.issuedAtMs.databaseValue, o.implausible.databaseValue, Data(o.resource).databaseValue,
                ]
                // As existentials: GRDB's init for a sequence of one type maps a key path, which profiled at 3 % of all samples.
                let row: [(any DatabaseValueConvertible)?] = try (values + headers.columns(o.signature) + [o.quarantineReason.databaseValue]).map { $0 }
                try insert.execute(arguments: StatementArguments(row))
                if db.changesCount > 0 { inserted.append(o) }
            }
            try onInserted?(JournalTransaction(db), inserted)
            for letter in deadLetters {
                try db.cachedStatement(sql: "INSERT INTO dead_letter (inbox_seq, topic, device_id, kind, reason, created_at_ms) VALUES (?, ?, ?, ?, ?, ?)")
                    .execute(arguments: [letter.inboxSeq, letter.topic, letter.deviceId, letter.kind, letter.reason, nowMs])
            }
            try db.cachedStatement(sql: "INSERT INTO cursor (name, seq) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET seq = excluded.seq")
                .execute(arguments: [Journal.processingCursor, seq])
            return ProcessedOutcome(inserted: inserted.count, duplicates: observations.count - inserted.count, alreadyProcessed: false)
        }
    }

    static func cursor(_ db: Database) throws -> Int64 {
        try Int64.fetchOne(db, sql: "SELECT seq FROM cursor WHERE name = ?", arguments: [processingCursor]) ?? 0
    }

    // MARK: Queries

    public func statistics() throws(JournalError) -> JournalStatistics {
        try readDatabase { db in
            let cursor = try Journal.cursor(db)
            return JournalStatistics(
                inboxRecords: try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM inbox") ?? 0,
                pendingRecords: try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM inbox WHERE seq > ?", arguments: [cursor]) ?? 0,
                observations: try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM observation") ?? 0,
                signed: try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM observation WHERE header_id IS NOT NULL") ?? 0,
                quarantined: try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM observation WHERE quarantine_reason IS NOT NULL") ?? 0,
                deadLetters: try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM dead_letter") ?? 0)
        }
    }

    /// Observations in the order they were journaled, optionally those received since a time.
    public func observations(issuedSince since: Date? = nil, deviceId: String? = nil, quarantinedOnly: Bool = false, limit: Int? = nil) throws(JournalError) -> [StoredObservation] {
        try readDatabase { db in
            var sql = "SELECT \(Journal.observationColumns) WHERE 1"
            var arguments: StatementArguments = []
            if let since {
                sql += " AND o.issued_at_ms >= ?"
                _ = arguments.append(contentsOf: [Int64(since.timeIntervalSince1970 * 1000)])
            }
            if let deviceId {
                sql += " AND o.device_id = ?"
                _ = arguments.append(contentsOf: [deviceId])
            }
            if quarantinedOnly { sql += " AND o.quarantine_reason IS NOT NULL" }
            sql += " ORDER BY o.seq"
            if let limit { sql += " LIMIT \(max(0, limit))" }
            return try Row.fetchAll(db, sql: sql, arguments: arguments).map(Journal.storedObservation)
        }
    }

    public func observation(id: String) throws(JournalError) -> StoredObservation? {
        try readDatabase { db in try Journal.observation(id: id, in: JournalTransaction(db)) }
    }

    /// One Observation by id, in the caller's transaction (the leaf index looks one up by leaf).
    package static func observation(id: String, in transaction: JournalTransaction) throws -> StoredObservation? {
        try Row.fetchOne(transaction.database, sql: "SELECT \(observationColumns) WHERE o.id = ?", arguments: [ObservationKey.value(id)])
            .map(Journal.storedObservation)
    }

    /// A row selected with `observationColumns`.
    package static func storedObservation(_ row: Row) -> StoredObservation {
        StoredObservation(
            id: ObservationKey.id(row["id"]), deviceId: row["device_id"], issuedAtMs: row["issued_at_ms"],
            implausible: row["implausible"], resource: Array((row["resource"] as Data?) ?? Data()),
            signature: signature(row), quarantineReason: row["quarantine_reason"])
    }

    public func deadLetters(limit: Int = 1000) throws(JournalError) -> [StoredDeadLetter] {
        try readDatabase { db in
            try Row.fetchAll(db, sql: "SELECT * FROM dead_letter ORDER BY id LIMIT ?", arguments: [limit]).map { row in
                StoredDeadLetter(
                    id: row["id"],
                    letter: DeadLetter(inboxSeq: row["inbox_seq"], topic: row["topic"], deviceId: row["device_id"], kind: row["kind"], reason: row["reason"]),
                    createdAtMs: row["created_at_ms"])
            }
        }
    }

    /// The raw payload of an inbox record, for auditing a dead letter.
    public func inboxRecord(seq: Int64) throws(JournalError) -> InboxRecord? {
        try readDatabase { db in try InboxRecord.fetchOne(db, sql: "SELECT * FROM inbox WHERE seq = ?", arguments: [seq]) }
    }

    /// How far ingest and processing have got, from one snapshot.
    public func progress() throws(JournalError) -> JournalProgress {
        try readDatabase { db in
            JournalProgress(
                lastInboxSeq: try Int64.fetchOne(db, sql: "SELECT IFNULL(MAX(seq), 0) FROM inbox") ?? 0,
                processedSeq: try Journal.cursor(db))
        }
    }

    /// Every inbox record in commit order, from one snapshot, without holding them all in memory.
    public func forEachInboxRecord(_ body: (InboxRecord) throws -> Void) throws(JournalError) {
        try readDatabase { db in
            let records = try InboxRecord.fetchCursor(db, sql: "SELECT * FROM inbox ORDER BY seq")
            while let record = try records.next() { try body(record) }
        }
    }

    /// How many Observations each reading (device, device time) became.
    public func observationCountsByReading() throws(JournalError) -> [ReadingKey: Int] {
        try readDatabase { db in
            var counts: [ReadingKey: Int] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT device_id, effective_at_ms, COUNT(*) AS n FROM observation GROUP BY device_id, effective_at_ms") {
                counts[ReadingKey(deviceId: row["device_id"], effectiveAtMs: row["effective_at_ms"])] = row["n"]
            }
            return counts
        }
    }

    // MARK: Quarantine

    /// Gives quarantined Observations the signatures they now have (`wardgate quarantine retry`),
    /// in one transaction: each row keeps its resource and gets the JWS, its quarantine reason
    /// cleared. `onSigned` runs in the same transaction with the rows that were still quarantined
    /// (the Merkle log appends them as leaves). Returns those rows.
    @discardableResult
    public func resignQuarantined(
        _ signatures: [String: ObservationSignature], onSigned: ((JournalTransaction, [ObservationEntry]) throws -> Void)? = nil
    ) throws(JournalError) -> [ObservationEntry] {
        try writeDatabase { db in
            var signed: [ObservationEntry] = []
            var headers = SignatureHeaders(db)
            for (id, signature) in signatures.sorted(by: { $0.key < $1.key }) {
                let key = ObservationKey.value(id)
                guard let row = try Row.fetchOne(db, sql: "SELECT * FROM observation WHERE id = ? AND quarantine_reason IS NOT NULL", arguments: [key]) else { continue }
                try db.execute(
                    sql: "UPDATE observation SET header_id = ?, iat = ?, signature = ?, jws = ?, signed_at_ms = ?, quarantine_reason = NULL WHERE id = ?",
                    arguments: StatementArguments(try headers.columns(signature) + [key]))
                signed.append(ObservationEntry(
                    id: id, inboxSeq: row["inbox_seq"], deviceId: row["device_id"], metricCode: UInt32(truncatingIfNeeded: row["metric_code"] as Int64),
                    effectiveAtMs: row["effective_at_ms"], issuedAtMs: row["issued_at_ms"], implausible: row["implausible"],
                    resource: Array((row["resource"] as Data?) ?? Data()), signature: signature))
            }
            try onSigned?(JournalTransaction(db), signed)
            return signed
        }
    }

    // MARK: Retention

    /// The newest time the journal recorded (a message received, an Observation signed, a dead
    /// letter written), in Unix ms; nil for an empty journal. Retention's clock check compares
    /// the wall clock with it.
    public func newestRecordedTimeMs() throws(JournalError) -> Int64? {
        try readDatabase { db in
            try Int64.fetchOne(db, sql: """
                SELECT MAX(t) FROM (
                  SELECT MAX(received_at_ms) AS t FROM inbox
                  UNION ALL SELECT MAX(signed_at_ms) FROM observation
                  UNION ALL SELECT MAX(created_at_ms) FROM dead_letter)
                """)
        }
    }

    /// Deletes, in the caller's transaction, the inbox messages received before `cutoff` that are
    /// processed, precede every remaining Observation and back no dead letter. Returns how many.
    /// (Which Observations go first is the ledger's rule: `Outbox.pruneAnchored`.)
    package static func pruneInbox(receivedBefore cutoff: Date, in transaction: JournalTransaction) throws -> Int {
        let db = transaction.database
        let cursor = try Journal.cursor(db)
        try db.execute(
            sql: """
                DELETE FROM inbox WHERE received_at_ms < ? AND seq <= ?
                AND seq < COALESCE((SELECT MIN(inbox_seq) FROM observation), ? + 1)
                AND seq NOT IN (SELECT inbox_seq FROM dead_letter)
                """,
            arguments: [milliseconds(cutoff), cursor, cursor])
        return db.changesCount
    }

    /// Unix milliseconds, as every `_ms` column of the journal file stores time.
    package static func milliseconds(_ date: Date) -> Int64 { Int64((date.timeIntervalSince1970 * 1000).rounded()) }

    // MARK: Device configurations

    public func saveDeviceConfiguration(systemId: String, configId: Int, encoded: [UInt8], now: Date = Date()) throws(JournalError) {
        try writeDatabase { db in
            try db.execute(
                sql: "INSERT OR REPLACE INTO device_configuration (system_id, config_id, encoded, learned_at_ms) VALUES (?, ?, ?, ?)",
                arguments: [systemId, configId, Data(encoded), Int64(now.timeIntervalSince1970 * 1000)])
        }
    }

    public func deviceConfiguration(systemId: String, configId: Int) throws(JournalError) -> [UInt8]? {
        try readDatabase { db in
            (try Data.fetchOne(db, sql: "SELECT encoded FROM device_configuration WHERE system_id = ? AND config_id = ?", arguments: [systemId, configId]))
                .map { Array($0) }
        }
    }

    /// Bytes the journal occupies as the quota counts them: the database pages in use (less the
    /// free pages) plus the WAL file (`QuotaGauge`).
    public func usedBytes() -> Int64 { quota.usedBytes(force: true) }

    /// Runs a write transaction for a module that keeps tables in the journal (`JournalTables`).
    package func write<T>(_ body: (JournalTransaction) throws -> T) throws(JournalError) -> T {
        try writeDatabase { db in try body(JournalTransaction(db)) }
    }

    /// Runs a read transaction (a WAL snapshot) for a module that keeps tables in the journal.
    package func read<T>(_ body: (JournalTransaction) throws -> T) throws(JournalError) -> T {
        try readDatabase { db in try body(JournalTransaction(db)) }
    }

    /// The database, for a table owner that reads and writes through GRDB itself (the log's tiles).
    package var databaseWriter: any DatabaseWriter { pool }

    /// Throws unless `owner`'s tables were among those this journal was opened with.
    package func requireTables(_ tables: JournalTables) throws(JournalError) {
        guard tableOwners.contains(tables.owner) else { throw .missingTables(owner: tables.owner) }
    }

    /// Whether a write transaction goes through now (it waits behind the writer, so a stuck
    /// writer shows): the watchdog's and the service's probe.
    public func checkWritable() throws(JournalError) {
        try writeDatabase { _ in }
    }

    func writeDatabase<T>(_ body: (Database) throws -> T) throws(JournalError) -> T {
        try refuseIfCorrupt()
        do { return try pool.write(body) } catch { throw failure(error) }
    }

    func readDatabase<T>(_ body: (Database) throws -> T) throws(JournalError) -> T {
        do { return try pool.read(body) } catch { throw failure(error) }
    }

    /// A storage failure, or `.corrupt` (remembered) when SQLite says the file is damaged.
    private func failure(_ error: any Error) -> JournalError {
        if let error = error as? JournalError { return error }
        guard JournalError.isCorruption(error) else {
            writeFailure.withLock { $0 = StorageFailure(error, directory: (path as NSString).deletingLastPathComponent) }
            return .storage("\(error)")
        }
        markCorrupt("\(error)")
        return .corrupt(path: path, detail: "\(error)")
    }

    private func markCorrupt(_ detail: String) {
        damage.withLock { if $0 == nil { $0 = detail } }
    }

    private func refuseIfCorrupt() throws(JournalError) {
        if let detail = damage.withLock({ $0 }) { throw .corrupt(path: path, detail: detail) }
    }

    /// Why the last write failed, while no inbox commit succeeded since (nil: none failed since).
    public var storageFailure: StorageFailure? { writeFailure.withLock { $0 } }

    /// What SQLite found wrong with the file, once it found something (nil: nothing so far).
    public var corruption: String? { damage.withLock { $0 } }

    // MARK: Integrity

    /// `PRAGMA quick_check(limit)`: SQLite's check of every page, b-tree and record format (it
    /// skips only the index-content cross-checks of `integrity_check`), reporting at most
    /// `limit` problems. Damage found latches the journal as corrupt: writes are refused and
    /// nothing more is acknowledged. Returns the problems (empty: the file is sound).
    @discardableResult
    public func quickCheck(limit: Int = 10) throws(JournalError) -> [String] {
        let problems: [String]
        do {
            problems = try pool.read { db in try String.fetchAll(db, sql: "PRAGMA quick_check(\(max(1, limit)))") }
        } catch {
            throw failure(error)
        }
        guard problems != ["ok"] else { return [] }
        markCorrupt(problems.joined(separator: "; "))
        return problems
    }

    /// Checkpoints the WAL into the database file, for a clean shutdown.
    public func close() throws(JournalError) {
        do {
            if !isReadOnly { _ = try pool.writeWithoutTransaction { db in try db.checkpoint(.truncate) } }
            try pool.close()
        } catch {
            throw failure(error)
        }
    }
}

public struct ProcessedOutcome: Sendable, Equatable {
    public let inserted: Int
    public let duplicates: Int
    /// Another processor already committed this range (nothing was written).
    public let alreadyProcessed: Bool
}

public struct JournalProgress: Sendable, Equatable {
    /// The sequence number of the last message committed to the inbox (0 before the first).
    public let lastInboxSeq: Int64
    /// The processing cursor: every inbox record up to it has been processed.
    public let processedSeq: Int64
}

public struct JournalStatistics: Sendable, Equatable {
    public let inboxRecords: Int
    public let pendingRecords: Int
    public let observations: Int
    public let signed: Int
    public let quarantined: Int
    public let deadLetters: Int
}

/// The journal's disk use as the quota counts it: the database pages the newest commit uses
/// (less the free pages) plus the WAL file, re-read at most every 100 ms (a look per message is
/// cheap but pointless at thousands of messages per second).
///
/// Not the database file's size: a checkpoint copies the WAL's pages into it at once while the
/// WAL file keeps its size, so the file sizes jump by the WAL's size with no message written.
/// A jump past the quota skipped the per-device shares' threshold (`journal.maxBytes / 2`) and
/// refused every device instead of the one flooding. Counted this way, the figure grows by at
/// most twice what each commit writes and never jumps; it is what the files hold once the WAL
/// is checkpointed, with the WAL's space on disk on top.
final class QuotaGauge: Sendable {
    private let walPath: String
    private let pagesInUseBytes: @Sendable () -> Int64
    private let cached = Mutex<(bytes: Int64, at: ContinuousClock.Instant)?>(nil)

    init(walPath: String, pagesInUseBytes: @escaping @Sendable () -> Int64) {
        self.walPath = walPath
        self.pagesInUseBytes = pagesInUseBytes
    }

    func usedBytes(force: Bool = false) -> Int64 {
        let now = ContinuousClock.now
        if !force, let cached = cached.withLock({ $0 }), now - cached.at < .milliseconds(100) {
            return cached.bytes
        }
        let walBytes = (try? FileManager.default.attributesOfItem(atPath: walPath)[.size] as? NSNumber)?.int64Value ?? 0
        let bytes = pagesInUseBytes() + walBytes
        cached.withLock { $0 = (bytes, now) }
        return bytes
    }

    /// Adds what a commit wrote to the cached size, so that a burst of large messages within
    /// 100 ms is seen before the next look (the look then replaces the estimate).
    func noteWritten(_ bytes: Int64) {
        cached.withLock { cached in
            if let current = cached { cached = (current.bytes + bytes, current.at) }
        }
    }
}
