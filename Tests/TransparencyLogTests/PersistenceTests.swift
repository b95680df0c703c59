import Foundation
import GRDB
import Simulation
import Testing
@testable import TransparencyLog
import WardgateTestSupport

@Suite("SQLite persistence")
struct PersistenceTests {
    /// Appends in random batches to a SQLite tree, closing and re-opening the
    /// database several times; after each restart the re-opened tree must give
    /// the same roots and proofs as an in-memory tree built from the same leaves.
    @Test func reopenedTreeMatchesInMemoryTree() throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("journal.sqlite")
        var random = SeededGenerator(seed: 0x5EED)
        let leaves = random.leafHashes(20_000)
        let reference = try LogTree(store: InMemorySubtreeHashStore())
        let restartPoints = [1, 255, 4_097, 9_999, 15_000, 20_000]

        var appended = 0
        for restartPoint in restartPoints {
            // One "process lifetime": open, append up to the restart point, close.
            let pool = try openJournal(at: path)
            let tree = try LogTree(writer: pool)
            #expect(try tree.size == UInt64(appended))
            try expectSameTree(tree, reference, random: &random)
            while appended < restartPoint {
                let batch = min(Int(random.next() % 1_500) + 1, restartPoint - appended)
                try tree.append(contentsOf: leaves[appended..<(appended + batch)])
                try reference.append(contentsOf: leaves[appended..<(appended + batch)])
                appended += batch
            }
            #expect(try tree.treeHead() == reference.treeHead())
            try pool.close()
        }
        let pool = try openJournal(at: path)
        let reopened = try LogTree(writer: pool)
        try expectSameTree(reopened, reference, random: &random)
        #expect(try reopened.treeHead().rootHash == RFC9162.rootHash(ofLeafHashes: leaves))
        for index in [0, 1, 255, 256, 19_999] {
            #expect(try reopened.leafHash(at: UInt64(index)) == leaves[index])
        }
        try pool.close()
    }

    private func expectSameTree(
        _ tree: LogTree<SQLiteSubtreeHashStore>,
        _ reference: LogTree<InMemorySubtreeHashStore>,
        random: inout SeededGenerator
    ) throws {
        let size = try reference.size
        #expect(try tree.treeHead() == reference.treeHead())
        guard size > 0 else { return }
        for _ in 0..<25 {
            let treeSize = random.next() % size + 1
            let index = random.next() % treeSize
            let older = random.next() % (treeSize + 1)
            #expect(try tree.rootHash(atSize: treeSize) == reference.rootHash(atSize: treeSize))
            #expect(try tree.inclusionProof(leafIndex: index, treeSize: treeSize)
                == reference.inclusionProof(leafIndex: index, treeSize: treeSize))
            #expect(try tree.consistencyProof(fromSize: older, toSize: treeSize)
                == reference.consistencyProof(fromSize: older, toSize: treeSize))
        }
    }

    /// The journal commits its own rows and the tree in one transaction.
    @Test func appendInsideCallerTransactionCommitsAtomically() throws {
        let directory = try TemporaryDirectory()
        let pool = try openJournal(at: directory.file("journal.sqlite"))
        let tree = try LogTree(writer: pool)
        let payloads: [[UInt8]] = (0..<5).map { [UInt8($0), 0xAB] }

        let range = try pool.write { db -> Range<UInt64> in
            for payload in payloads {
                try db.execute(sql: "INSERT INTO journal_entries (payload) VALUES (?)", arguments: [Data(payload)])
            }
            let first = try tree.append(contentsOf: payloads[0..<2].map { RFC9162.leafHash($0) }, in: db)
            let second = try tree.append(contentsOf: payloads[2...].map { RFC9162.leafHash($0) }, in: db)
            // Not visible before the commit.
            #expect(try tree.size == 0)
            return first.lowerBound..<second.upperBound
        }
        #expect(range == 0..<5)
        #expect(try tree.size == 5)
        #expect(try tree.treeHead().rootHash == RFC9162.rootHash(ofLeafHashes: payloads.map { RFC9162.leafHash($0) }))
        #expect(try LogTree(writer: pool).treeHead() == tree.treeHead())
        try pool.close()
    }

    @Test func rolledBackTransactionLeavesTreeUnchanged() throws {
        let directory = try TemporaryDirectory()
        let pool = try openJournal(at: directory.file("journal.sqlite"))
        let tree = try LogTree(writer: pool)
        var random = SeededGenerator(seed: 77)
        try tree.append(contentsOf: random.leafHashes(300))
        let before = try tree.treeHead()

        struct Abort: Error {}
        #expect(throws: Abort.self) {
            try pool.write { db in
                try db.execute(sql: "INSERT INTO journal_entries (payload) VALUES (x'00')")
                try tree.append(contentsOf: random.leafHashes(40), in: db)
                throw Abort()
            }
        }
        #expect(try tree.treeHead() == before)
        #expect(try LogTree(writer: pool).treeHead() == before)
        #expect(try pool.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM journal_entries") } == 0)

        // The tree keeps working after the rollback.
        let more = random.leafHashes(10)
        try tree.append(contentsOf: more)
        #expect(try tree.size == 310)
        #expect(try LogTree(writer: pool).treeHead() == tree.treeHead())
        try pool.close()
    }

    /// A savepoint rolled back around an append, inside a transaction that
    /// commits: storage does not have the leaves, so the tree must not either.
    @Test func rolledBackSavepointIsDetected() throws {
        let directory = try TemporaryDirectory()
        let pool = try openJournal(at: directory.file("journal.sqlite"))
        let tree = try LogTree(writer: pool)
        var random = SeededGenerator(seed: 78)
        let kept = random.leafHashes(20)
        try pool.write { db in
            try tree.append(contentsOf: kept, in: db)
            try db.inSavepoint {
                try tree.append(contentsOf: random.leafHashes(7), in: db)
                return .rollback
            }
        }
        #expect(try tree.size == 20)
        #expect(try tree.treeHead().rootHash == RFC9162.rootHash(ofLeafHashes: kept))
        let next = random.leafHashes(3)
        try tree.append(contentsOf: next)
        #expect(try tree.treeHead().rootHash == RFC9162.rootHash(ofLeafHashes: kept + next))
        try pool.close()
    }

    @Test func appendOutsideTransactionIsRefused() throws {
        let directory = try TemporaryDirectory()
        let pool = try openJournal(at: directory.file("journal.sqlite"))
        let tree = try LogTree(writer: pool)
        #expect(throws: TransparencyLogError.notInTransaction) {
            try pool.writeWithoutTransaction { db in
                try tree.append(contentsOf: [RFC9162.leafHash([1])], in: db)
            }
        }
        #expect(try tree.size == 0)
        try pool.close()
    }

    /// A second writer behind the tree's back is detected, and a new tree sees storage.
    @Test func foreignWriterIsDetected() throws {
        let directory = try TemporaryDirectory()
        let pool = try openJournal(at: directory.file("journal.sqlite"))
        let first = try LogTree(writer: pool)
        let second = try LogTree(writer: pool)
        try first.append(contentsOf: SeededGenerator.leafHashes(seed: 1, count: 5))
        #expect(throws: TransparencyLogError.storeOutOfSync(expectedSize: 0, storedSize: 5)) {
            try second.append(RFC9162.leafHash([9]))
        }
        #expect(try LogTree(writer: pool).treeHead() == first.treeHead())
        // Then it re-reads storage on its next append instead of failing for ever (after a
        // commit rolled back behind it, a full disk, #18).
        #expect(try second.append(RFC9162.leafHash([9])) == 5)
        #expect(try LogTree(writer: pool).treeHead() == second.treeHead())
        try pool.close()
    }

    /// Damaged storage gives errors, never a crash or a wrong answer.
    @Test func damagedTilesAreReported() throws {
        let directory = try TemporaryDirectory()
        let pool = try openJournal(at: directory.file("journal.sqlite"))
        let tree = try LogTree(writer: pool)
        try tree.append(contentsOf: SeededGenerator.leafHashes(seed: 2, count: 600))
        try pool.write { db in
            try db.execute(sql: "DELETE FROM log_tiles WHERE level = 0 AND tile_index = 0")
        }
        #expect(throws: TransparencyLogError.missingTile(level: 0, tileIndex: 0)) {
            try tree.inclusionProof(leafIndex: 3)
        }
        try pool.write { db in
            // Bypass the CHECK constraints to plant a truncated blob.
            try db.execute(sql: "PRAGMA ignore_check_constraints = ON")
            try db.execute(sql: "INSERT INTO log_tiles (level, tile_index, hashes) VALUES (0, 0, x'0102')")
            try db.execute(sql: "PRAGMA ignore_check_constraints = OFF")
        }
        #expect(throws: TransparencyLogError.self) {
            try tree.inclusionProof(leafIndex: 3)
        }
        try pool.close()
    }
}
