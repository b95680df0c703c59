import Crypto
import Foundation
import GRDB
import Simulation
import Testing
@testable import TransparencyLog
import WardgateTestSupport

@Suite("Checkpoint signing policy")
struct CheckpointSignerTests {
    static let origin = "ward7.example.org/log"

    static func makeSigner(_ key: P256.Signing.PrivateKey) throws -> ECDSAP256NoteSigner {
        try ECDSAP256NoteSigner(keyName: origin, privateKey: key)
    }

    @Test func signsAGrowingTreeAndVerifies() throws {
        let key = P256.Signing.PrivateKey()
        let tree = try LogTree(store: InMemorySubtreeHashStore())
        let signer = try CheckpointSigner(origin: Self.origin, signer: Self.makeSigner(key), lastSigned: nil)
        var random = SeededGenerator(seed: 10)
        var previous: SignedCheckpoint?
        for _ in 0..<5 {
            try tree.append(contentsOf: random.leafHashes(Int(random.next() % 300)))
            let signed = try signer.signCheckpoint(for: tree)
            #expect(signed.checkpoint.treeHead == (try tree.treeHead()))
            let verified = try SignedCheckpoint(verifying: signed.text, using: [Self.makeSigner(key).verifier])
            #expect(verified.checkpoint == signed.checkpoint)
            if let previous {
                let proof = try tree.consistencyProof(fromSize: previous.checkpoint.size, toSize: signed.checkpoint.size)
                try proof.verify(fromRoot: previous.checkpoint.rootHash, toRoot: signed.checkpoint.rootHash)
            }
            previous = signed
        }
        // Signing again at the same size is fine: same root.
        #expect(try signer.signCheckpoint(for: tree).checkpoint == previous?.checkpoint)
    }

    @Test func refusesASecondRootForASignedSize() throws {
        let key = P256.Signing.PrivateKey()
        var random = SeededGenerator(seed: 11)
        let original = try LogTree(store: InMemorySubtreeHashStore())
        try original.append(contentsOf: random.leafHashes(50))
        let signed = try CheckpointSigner(origin: Self.origin, signer: Self.makeSigner(key), lastSigned: nil)
            .signCheckpoint(for: original)

        // Another history of the same size: e.g. a journal restored from the wrong backup.
        let forked = try LogTree(store: InMemorySubtreeHashStore())
        try forked.append(contentsOf: random.leafHashes(50))
        let signer = try CheckpointSigner(origin: Self.origin, signer: Self.makeSigner(key), lastSigned: signed.checkpoint)
        #expect(throws: CheckpointPolicyError.conflictingRoot(
            size: 50, signedRoot: signed.checkpoint.rootHash, currentRoot: try forked.treeHead().rootHash)
        ) {
            try signer.signCheckpoint(for: forked)
        }
        #expect(signer.lastSigned == signed.checkpoint)
    }

    @Test func policyRejectsSmallerTreesAndBadProofs() throws {
        var random = SeededGenerator(seed: 12)
        let last = try Checkpoint(origin: Self.origin, size: 10, rootHash: random.hash())
        #expect(throws: CheckpointPolicyError.treeSmallerThanLastCheckpoint(treeSize: 9, checkpointSize: 10)) {
            try CheckpointPolicy.check(candidate: TreeHead(size: 9, rootHash: random.hash()), lastSigned: last) { _, _ in
                Issue.record("no proof is needed for a smaller tree")
                return ConsistencyProof(fromSize: 0, toSize: 0, hashes: [])
            }
        }
        #expect(throws: CheckpointPolicyError.self) {
            try CheckpointPolicy.check(candidate: TreeHead(size: 11, rootHash: random.hash()), lastSigned: last) { from, to in
                ConsistencyProof(fromSize: from, toSize: to, hashes: [random.hash(), random.hash()])
            }
        }
        // A proof that is valid, but for other sizes, is not accepted either.
        #expect(throws: CheckpointPolicyError.self) {
            try CheckpointPolicy.check(candidate: TreeHead(size: 11, rootHash: last.rootHash), lastSigned: last) { _, _ in
                ConsistencyProof(fromSize: 11, toSize: 11, hashes: [])
            }
        }
        let foreignOrigin = try Checkpoint(origin: "other.example/log", size: 1, rootHash: random.hash())
        #expect(throws: CheckpointPolicyError.originMismatch(expected: Self.origin, found: "other.example/log")) {
            try CheckpointSigner(origin: Self.origin, signer: Self.makeSigner(P256.Signing.PrivateKey()), lastSigned: foreignOrigin)
        }
    }

    /// After a restart the signer starts from the stored last checkpoint and
    /// proves the re-opened tree extends it before signing.
    @Test func restartRequiresConsistencyWithTheLastCheckpoint() throws {
        let key = P256.Signing.PrivateKey()
        let directory = try TemporaryDirectory()
        let path = directory.file("journal.sqlite")
        var random = SeededGenerator(seed: 13)

        // First run: append, sign, store the checkpoint, append more, stop.
        do {
            let pool = try openJournal(at: path)
            let tree = try LogTree(writer: pool)
            try tree.append(contentsOf: random.leafHashes(700))
            let signer = try CheckpointSigner(origin: Self.origin, signer: Self.makeSigner(key), lastSignedNote: nil)
            let signed = try signer.signCheckpoint(for: tree)
            try tree.store.recordSignedCheckpoint(signed)
            try tree.append(contentsOf: random.leafHashes(300))
            try pool.close()
        }

        // Second run, healthy storage: the proof from 700 to 1000 verifies.
        do {
            let pool = try openJournal(at: path)
            let tree = try LogTree(writer: pool)
            let lastNote = try #require(try tree.store.latestSignedCheckpointNote())
            let signer = try CheckpointSigner(origin: Self.origin, signer: Self.makeSigner(key), lastSignedNote: lastNote)
            #expect(signer.lastSigned?.size == 700)
            let signed = try signer.signCheckpoint(for: tree)
            #expect(signed.checkpoint.size == 1000)
            try tree.store.recordSignedCheckpoint(signed)
            try tree.append(contentsOf: random.leafHashes(24))
            try pool.close()
        }

        // Damage a stored interior hash behind the tree's back (bit rot, a bad
        // restore): the subtree of leaves 0..<256 at level 8.
        do {
            let pool = try openJournal(at: path)
            try pool.write { db in
                let blob = try #require(try Data.fetchOne(db, sql: "SELECT hashes FROM log_tiles WHERE level = 8 AND tile_index = 0"))
                var bytes = [UInt8](blob)
                bytes[0] ^= 0x01
                try db.execute(sql: "UPDATE log_tiles SET hashes = ? WHERE level = 8 AND tile_index = 0", arguments: [Data(bytes)])
            }
            try pool.close()
        }

        // Third run: the signer must refuse.
        let pool = try openJournal(at: path)
        let tree = try LogTree(writer: pool)
        let lastNote = try #require(try tree.store.latestSignedCheckpointNote())
        let signer = try CheckpointSigner(origin: Self.origin, signer: Self.makeSigner(key), lastSignedNote: lastNote)
        #expect(signer.lastSigned?.size == 1000)
        do {
            _ = try signer.signCheckpoint(for: tree)
            Issue.record("signed a checkpoint for a tree inconsistent with the last one")
        } catch let error as CheckpointPolicyError {
            guard case .inconsistentWithLastCheckpoint(1000, 1024, _) = error else {
                Issue.record("unexpected refusal: \(error)")
                return
            }
        }
        #expect(signer.lastSigned?.size == 1000)
        try pool.close()
    }

    /// A journal restored from an older backup and refilled with other
    /// readings: same size range, different history.
    @Test func forkedHistoryAfterRestartIsRefused() throws {
        let key = P256.Signing.PrivateKey()
        let directory = try TemporaryDirectory()
        var random = SeededGenerator(seed: 15)
        let leaves = random.leafHashes(900)
        var lastNote = ""
        do {
            let pool = try openJournal(at: directory.file("original.sqlite"))
            let tree = try LogTree(writer: pool)
            try tree.append(contentsOf: leaves[0..<800])
            let signed = try CheckpointSigner(origin: Self.origin, signer: Self.makeSigner(key), lastSigned: nil).signCheckpoint(for: tree)
            lastNote = signed.text
            try pool.close()
        }
        let pool = try openJournal(at: directory.file("restored.sqlite"))
        let tree = try LogTree(writer: pool)
        try tree.append(contentsOf: leaves[0..<650])
        try tree.append(contentsOf: random.leafHashes(250))
        let signer = try CheckpointSigner(origin: Self.origin, signer: Self.makeSigner(key), lastSignedNote: lastNote)
        #expect(throws: CheckpointPolicyError.self) { try signer.signCheckpoint(for: tree) }
        // Not even at the signed size itself.
        let shorter = try LogTree(store: InMemorySubtreeHashStore())
        try shorter.append(contentsOf: leaves[0..<650] + random.leafHashes(150))
        #expect(throws: CheckpointPolicyError.self) { try signer.signCheckpoint(for: shorter) }
        try pool.close()
    }

    @Test func storedNoteMustVerifyWithTheSigningKey() throws {
        let key = P256.Signing.PrivateKey()
        let tree = try LogTree(store: InMemorySubtreeHashStore())
        try tree.append(RFC9162.leafHash([1]))
        let signed = try CheckpointSigner(origin: Self.origin, signer: Self.makeSigner(key), lastSigned: nil).signCheckpoint(for: tree)
        #expect(throws: SignedNoteError.noTrustedSignature) {
            try CheckpointSigner(origin: Self.origin, signer: Self.makeSigner(P256.Signing.PrivateKey()), lastSignedNote: signed.text)
        }
    }

    @Test func archiveRefusesAConflictingCheckpoint() throws {
        let key = P256.Signing.PrivateKey()
        let directory = try TemporaryDirectory()
        let pool = try openJournal(at: directory.file("journal.sqlite"))
        let store = SQLiteSubtreeHashStore(writer: pool)
        var random = SeededGenerator(seed: 14)
        let first = try LogTree(store: InMemorySubtreeHashStore())
        try first.append(contentsOf: random.leafHashes(8))
        let second = try LogTree(store: InMemorySubtreeHashStore())
        try second.append(contentsOf: random.leafHashes(8))
        let signedFirst = try CheckpointSigner(origin: Self.origin, signer: Self.makeSigner(key), lastSigned: nil).signCheckpoint(for: first)
        let signedSecond = try CheckpointSigner(origin: Self.origin, signer: Self.makeSigner(key), lastSigned: nil).signCheckpoint(for: second)
        try store.recordSignedCheckpoint(signedFirst)
        try store.recordSignedCheckpoint(signedFirst)  // idempotent
        #expect(throws: CheckpointPolicyError.self) { try store.recordSignedCheckpoint(signedSecond) }
        #expect(try store.latestSignedCheckpointNote() == signedFirst.text)
        try pool.close()
    }
}
