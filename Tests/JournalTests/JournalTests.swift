import Foundation
import GRDB
import Journal
import Testing

@Suite("Journal: durability, migrations, resumable processing, quota")
struct JournalTests {
    func directory(_ name: String) -> String {
        let path = NSTemporaryDirectory() + "wardgate-journal-\(name)-\(UUID().uuidString.prefix(8))"
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    @Test("durability sets WAL and the synchronous level it promises", arguments: [(Durability.process, 1), (.power, 2)])
    func durabilityPragmas(durability: Durability, synchronous: Int) throws {
        let dir = directory("durability")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let journal = try Journal(directory: dir, durability: durability)
        let mode = try journal.read { try String.fetchOne($0.database, sql: "PRAGMA journal_mode") }
        #expect(mode == "wal")
        let level = try journal.write { try Int.fetchOne($0.database, sql: "PRAGMA synchronous") }
        #expect(level == synchronous)
    }

    @Test("migrations are versioned and re-opening applies nothing twice")
    func migrations() throws {
        let dir = directory("migrations")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        _ = try Journal(directory: dir)
        let reopened = try Journal(directory: dir)
        let applied = try reopened.read { try String.fetchAll($0.database, sql: "SELECT identifier FROM grdb_migrations ORDER BY rowid") }
        #expect(applied == ["v1-inbox-observations", "v2-signatures-quarantine", "v3-device-configurations", "v7-inbox-packet-id", "v8-inbox-cut-evidence",
                            "v9-compact-observations"])
    }

    @Test("one migrator for the file: the owners' migrations run after the journal's, in the order given, once")
    func ownersMigrations() throws {
        let dir = directory("owners")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let first = JournalTables(owner: "first owner") { migrator in
            migrator.registerMigration("first.v1") { db in try db.execute(sql: "CREATE TABLE first_owner (id INTEGER PRIMARY KEY)") }
        }
        let second = JournalTables(owner: "second owner") { migrator in
            migrator.registerMigration("second.v1") { db in try db.execute(sql: "ALTER TABLE observation ADD COLUMN second_owner INTEGER") }
        }
        let journal = try Journal(directory: dir, tables: [first, second])
        try journal.requireTables(first)
        try journal.requireTables(second)
        #expect(journal.tableOwners == ["first owner", "second owner"])
        try journal.close()
        // Reopened with the same owners: nothing runs twice (the ALTER TABLE would fail).
        let reopened = try Journal(directory: dir, tables: [first, second])
        let applied = try reopened.read { try String.fetchAll($0.database, sql: "SELECT identifier FROM grdb_migrations ORDER BY rowid") }
        // The compact observation table (issue #16) comes last, and keeps the column an owner added.
        #expect(applied == ["v1-inbox-observations", "v2-signatures-quarantine", "v3-device-configurations", "v7-inbox-packet-id", "v8-inbox-cut-evidence", "first.v1", "second.v1",
                            "v9-compact-observations"])
        #expect(try reopened.read { try $0.database.columns(in: "observation").contains { $0.name == "second_owner" } })
        // Opened without an owner's tables, the journal says so when that owner asks.
        let withoutSecond = try Journal(directory: dir, tables: [first])
        #expect(throws: JournalError.self) { try withoutSecond.requireTables(second) }
    }

    @Test("the inbox keeps topic, bytes, QoS, receive time and a monotonic sequence, across a reopen")
    func inboxRecords() throws {
        let dir = directory("inbox")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let received = Date(timeIntervalSince1970: 1_763_719_200.123)
        var seqs: [Int64] = []
        do {
            let journal = try Journal(directory: dir)
            seqs.append(try journal.appendInbox(topic: "a/1", payload: [0, 1, 2, 255], qos: 1, receivedAt: received))
            seqs.append(try journal.appendInbox(topic: "a/2", payload: [], qos: 0, receivedAt: received))
        }
        let journal = try Journal(directory: dir)
        seqs.append(try journal.appendInbox(topic: "a/3", payload: [9], qos: 1, receivedAt: received))
        #expect(seqs == seqs.sorted() && Set(seqs).count == 3)
        let pending = try journal.pendingInbox(limit: 10)
        #expect(pending.map(\.topic) == ["a/1", "a/2", "a/3"])
        #expect(pending[0].payload == [0, 1, 2, 255])
        #expect(pending[0].qos == 1)
        #expect(pending[0].receivedAtMs == 1_763_719_200_123)
    }

    @Test("processing is resumable and never twice: the cursor moves with the Observations, duplicates are counted")
    func resumableProcessing() throws {
        let dir = directory("cursor")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let journal = try Journal(directory: dir)
        for i in 0..<3 { try journal.appendInbox(topic: "t", payload: [UInt8(i)], qos: 1, receivedAt: Date()) }
        let first = try journal.pendingInbox(limit: 2)
        func entry(_ id: String, seq: Int64) -> ObservationEntry {
            ObservationEntry(id: id, inboxSeq: seq, deviceId: "d", metricCode: 1, effectiveAtMs: 0, issuedAtMs: 0, implausible: false, resource: Array("{}".utf8))
        }
        let outcome = try journal.commitProcessed(upTo: first[1].seq, observations: [entry("a", seq: first[0].seq), entry("b", seq: first[1].seq)], deadLetters: [])
        #expect(outcome.inserted == 2 && outcome.duplicates == 0 && !outcome.alreadyProcessed)
        // The same range again (a second processor, a replay) writes nothing.
        let replay = try journal.commitProcessed(upTo: first[1].seq, observations: [entry("c", seq: first[0].seq)], deadLetters: [])
        #expect(replay.alreadyProcessed)
        #expect(try journal.pendingInbox(limit: 10).count == 1)
        // A redelivered message maps to an existing reading id: counted, not stored twice.
        let last = try journal.pendingInbox(limit: 10)[0]
        let redelivery = try journal.commitProcessed(upTo: last.seq, observations: [entry("a", seq: last.seq)],
                                                     deadLetters: [DeadLetter(inboxSeq: last.seq, topic: "t", deviceId: nil, kind: "k", reason: "r")])
        #expect(redelivery.inserted == 0 && redelivery.duplicates == 1 && !redelivery.alreadyProcessed)
        let stats = try journal.statistics()
        #expect(stats.observations == 2 && stats.pendingRecords == 0 && stats.deadLetters == 1)
    }

    @Test("at the quota the journal refuses the write (so the message is not acknowledged)")
    func quota() throws {
        let dir = directory("quota")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let journal = try Journal(directory: dir, maxBytes: 64 * 1024)
        var refused = false
        for _ in 0..<200 {
            do {
                try journal.appendInbox(topic: "t", payload: Array(repeating: 7, count: 4096), qos: 1, receivedAt: Date())
            } catch {
                if case .quotaExceeded = error { refused = true; break }
                Issue.record("unexpected error \(error)")
            }
            Thread.sleep(forTimeInterval: 0.002)
        }
        #expect(refused)
        #expect(journal.usedBytes() >= 64 * 1024)
    }

    @Test("a checkpoint moving the WAL into the database file does not make the quota's figure jump")
    func quotaFigureIgnoresCheckpoints() throws {
        let dir = directory("quota-checkpoint")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let journal = try Journal(directory: dir, maxBytes: 64 << 20)
        // 2 MiB, under SQLite's automatic checkpoint (1,000 pages), so it is all still in the WAL.
        for _ in 0..<32 { try journal.appendInbox(topic: "t", payload: Array(repeating: 7, count: 64 * 1024), qos: 1, receivedAt: Date()) }
        let fileBytes = { (try? FileManager.default.attributesOfItem(atPath: journal.path)[.size] as? Int) ?? 0 }
        let before = (used: journal.usedBytes(), file: fileBytes())
        try DatabaseQueue(path: journal.path).writeWithoutTransaction { try $0.execute(sql: "PRAGMA wal_checkpoint(PASSIVE)") }
        let after = (used: journal.usedBytes(), file: fileBytes())
        #expect(after.file - before.file >= 2 << 20, "the checkpoint copied the WAL into the file: \(before.file) → \(after.file) bytes")
        #expect(before.used >= 2 << 20, "the WAL's pages count before the checkpoint: \(before.used) bytes")
        #expect(after.used <= before.used, "quota figure \(before.used) → \(after.used) bytes across a checkpoint")
    }

    @Test("learned device configurations round-trip per (system id, config id)")
    func deviceConfigurations() throws {
        let dir = directory("configs")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let journal = try Journal(directory: dir)
        try journal.saveDeviceConfiguration(systemId: "0011223344556677", configId: 0x4000, encoded: [1, 2, 3])
        #expect(try journal.deviceConfiguration(systemId: "0011223344556677", configId: 0x4000) == [1, 2, 3])
        #expect(try journal.deviceConfiguration(systemId: "0011223344556677", configId: 0x4001) == nil)
        #expect(try journal.deviceConfiguration(systemId: "ffffffffffffffff", configId: 0x4000) == nil)
    }
}
