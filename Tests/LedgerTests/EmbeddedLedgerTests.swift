import Crypto
@testable import EmbeddedLedger
import Foundation
import GRDB
import JSONDocument
@testable import Ledger
import Logging
import Testing
import TransparencyLog

/// A log the tests grow and sign, with the real RFC 9162 tree and C2SP notes.
struct TestLog {
    let origin: String
    let tree: LogTree<InMemorySubtreeHashStore>
    let signer: ECDSAP256NoteSigner
    let signerKeyBytes: [UInt8]
    private var appended: UInt64 = 0

    init(origin: String = "wardgate/test.example/ward", key: P256.Signing.PrivateKey = P256.Signing.PrivateKey(), salt: String = "") throws {
        self.origin = origin
        tree = try LogTree(store: InMemorySubtreeHashStore())
        signer = try ECDSAP256NoteSigner(keyName: origin, privateKey: key)
        signerKeyBytes = Array(key.rawRepresentation)
        self.salt = salt
    }

    let salt: String

    /// Appends `count` leaves and returns a batch for them, with the proof from `anchored`.
    mutating func batch(adding count: Int, anchored: UInt64) throws -> LedgerBatch {
        let first = appended
        let leaves = (0..<count).map { Array("leaf \(first + UInt64($0))\(salt)".utf8) }
        _ = try tree.append(contentsOf: leaves.map(RFC9162.leafHash))
        appended += UInt64(count)
        let note = try SignedNote(signing: Checkpoint(origin: origin, treeHead: tree.treeHead()).body, with: [signer]).serialized
        let proof = anchored == 0 ? ConsistencyProof(fromSize: 0, toSize: appended, hashes: []) : try tree.consistencyProof(fromSize: anchored, toSize: appended)
        return LedgerBatch(
            key: BatchKey(origin: origin, treeSize: appended), checkpointNote: note, consistencyProof: proof,
            entries: leaves.enumerated().map { LedgerEntry(leafIndex: first + UInt64($0.offset), leafData: $0.element) })
    }
}

@Suite("Embedded ledger: signed hash-chained blocks, idempotent anchoring, fork refusal, tamper detection")
struct EmbeddedLedgerTests {
    static let logger: Logger = {
        var logger = Logger(label: "test.ledger")
        logger.logLevel = .critical
        return logger
    }()

    static func directory() -> String {
        let path = NSTemporaryDirectory() + "wardgate-ledger-\(UUID().uuidString.prefix(8))"
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    static func open(_ directory: String, log: TestLog) throws -> EmbeddedLedger {
        try EmbeddedLedger(path: directory + "/ledger.sqlite", trustedGateways: [log.origin: log.signer.verifier], logger: logger)
    }

    static func receipt(_ outcome: SubmitOutcome, sourceLocation: SourceLocation = #_sourceLocation) throws -> LedgerReceipt {
        guard case .anchored(let receipt) = outcome else {
            Issue.record("expected a receipt, got \(outcome)", sourceLocation: sourceLocation)
            throw CancellationError()
        }
        return receipt
    }

    static func permanentReason(_ outcome: SubmitOutcome) -> String? {
        if case .permanent(let reason) = outcome { return reason }
        return nil
    }

    @Test("anchors batches in hash-chained signed blocks whose receipts verify offline; a resent batch gets the same receipt")
    func anchorAndIdempotency() async throws {
        let dir = EmbeddedLedgerTests.directory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var log = try TestLog()
        let ledger = try EmbeddedLedgerTests.open(dir, log: log)
        let key = try P256.Signing.PublicKey(pemRepresentation: ledger.publicKeyPEM)

        let first = try log.batch(adding: 7, anchored: 0)
        let r1 = try EmbeddedLedgerTests.receipt(await ledger.submit(first))
        let second = try log.batch(adding: 13, anchored: 7)
        let r2 = try EmbeddedLedgerTests.receipt(await ledger.submit(second))
        #expect(r1.key == first.key && r2.key == second.key)
        #expect(r1.document["height"]?.numberLexeme == "1" && r2.document["height"]?.numberLexeme == "2")
        #expect(r2.document["previousBlockHash"] == r1.document["blockHash"])

        let parsed = try EmbeddedReceipt(document: r2.document)
        #expect(try parsed.verify(checkpointNote: second.checkpointNote, ledgerKey: key).contains("block 2"))
        // The receipt is for this checkpoint only, and only under this ledger key.
        #expect(throws: EmbeddedReceipt.Invalid.self) { try parsed.verify(checkpointNote: first.checkpointNote, ledgerKey: key) }
        #expect(throws: EmbeddedReceipt.Invalid.self) { try parsed.verify(checkpointNote: second.checkpointNote, ledgerKey: P256.Signing.PrivateKey().publicKey) }

        // Resending (a crash before the receipt was stored) is idempotent: same receipt, no new block.
        let again = try EmbeddedLedgerTests.receipt(await ledger.submit(second))
        #expect(again == r2)
        #expect(try await ledger.receipt(for: second.key) == r2)
        #expect(try await ledger.receipt(for: BatchKey(origin: log.origin, treeSize: 999)) == nil)
        let report = try ledger.verifyChain()
        #expect(report == ChainReport(blocks: 2, checkpoints: 2, fault: nil))
        #expect(await ledger.health() == .available)
    }

    @Test("refuses for good: a forked log, a proof from the wrong size, a bad or untrusted signature, an older checkpoint")
    func refusals() async throws {
        let dir = EmbeddedLedgerTests.directory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var log = try TestLog()
        let ledger = try EmbeddedLedgerTests.open(dir, log: log)
        _ = try EmbeddedLedgerTests.receipt(await ledger.submit(try log.batch(adding: 10, anchored: 0)))

        // Same origin and key, different leaves: the same size with another root is a fork…
        var forked = try TestLog(key: try P256.Signing.PrivateKey(rawRepresentation: ledgerKeyBytes(log)), salt: "-forked")
        let sameSize = try forked.batch(adding: 10, anchored: 0)
        #expect(EmbeddedLedgerTests.permanentReason(await ledger.submit(sameSize))?.hasPrefix("fork") == true)
        // …and so is a larger tree that does not extend the anchored one.
        let larger = try forked.batch(adding: 5, anchored: 10)
        #expect(EmbeddedLedgerTests.permanentReason(await ledger.submit(larger))?.hasPrefix("fork") == true)

        // A proof that does not start at the ledger's last anchor.
        var wrongStart = try log.batch(adding: 5, anchored: 10)
        wrongStart = LedgerBatch(key: wrongStart.key, checkpointNote: wrongStart.checkpointNote,
                                 consistencyProof: try log.tree.consistencyProof(fromSize: 3, toSize: 15), entries: wrongStart.entries)
        #expect(EmbeddedLedgerTests.permanentReason(await ledger.submit(wrongStart))?.contains("needs 10→15") == true)

        // Signed by a key the ledger does not trust for the origin.
        var impostor = try TestLog()
        let unsigned = try impostor.batch(adding: 20, anchored: 0)
        #expect(EmbeddedLedgerTests.permanentReason(await ledger.submit(unsigned))?.contains("does not verify") == true)
        // An origin nobody configured.
        var stranger = try TestLog(origin: "wardgate/other.example/ward")
        #expect(EmbeddedLedgerTests.permanentReason(await ledger.submit(try stranger.batch(adding: 1, anchored: 0)))?.contains("not trusted") == true)

        // The honest continuation still anchors after all that.
        let next = try log.batch(adding: 10, anchored: 10)
        _ = try EmbeddedLedgerTests.receipt(await ledger.submit(next))
        #expect(try ledger.verifyChain() == ChainReport(blocks: 2, checkpoints: 2, fault: nil))
    }

    /// The raw private key behind a test log's signer, to forge a fork with the gateway's own key.
    func ledgerKeyBytes(_ log: TestLog) throws -> [UInt8] { log.signerKeyBytes }

    @Test("the key is generated beside the file with mode 0600, reused on reopen, and a different key is refused")
    func keyHandling() async throws {
        let dir = EmbeddedLedgerTests.directory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let log = try TestLog()
        let ledger = try EmbeddedLedgerTests.open(dir, log: log)
        let keyPath = dir + "/ledger.key"
        #expect(ledger.keyPath == keyPath)
        let mode = try #require(try FileManager.default.attributesOfItem(atPath: keyPath)[.posixPermissions] as? NSNumber)
        #expect(mode.intValue == 0o600)
        let pem = ledger.publicKeyPEM
        try ledger.close()
        #expect(try EmbeddedLedgerTests.open(dir, log: log).publicKeyPEM == pem)

        // Another key file for the same ledger: refused rather than signing blocks with another key.
        try FileManager.default.removeItem(atPath: keyPath)
        #expect {
            try EmbeddedLedgerTests.open(dir, log: log)
        } throws: { error in
            guard let error = error as? LedgerError, case .keyMismatch = error else { return false }
            return true
        }
    }

    @Test("verifyChain names the first tampered block: a changed time, a changed byte in an anchored note, a missing block")
    func tamperDetection() async throws {
        let dir = EmbeddedLedgerTests.directory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var log = try TestLog()
        let ledger = try EmbeddedLedgerTests.open(dir, log: log)
        var anchored: UInt64 = 0
        for count in [3, 4, 5, 6] {
            let batch = try log.batch(adding: count, anchored: anchored)
            _ = try EmbeddedLedgerTests.receipt(await ledger.submit(batch))
            anchored = batch.key.treeSize
        }
        #expect(try ledger.verifyChain().isIntact)
        let queue = try DatabaseQueue(path: dir + "/ledger.sqlite")

        try await queue.write { db in try db.execute(sql: "UPDATE block SET time_ms = time_ms + 1 WHERE height = 3") }
        #expect(try ledger.verifyChain().fault?.height == 3)
        try await queue.write { db in try db.execute(sql: "UPDATE block SET time_ms = time_ms - 1 WHERE height = 3") }
        #expect(try ledger.verifyChain().isIntact)

        // One byte of block 2's anchored checkpoint (a digit of its tree size line).
        let note = try #require(try await queue.read { db in try String.fetchOne(db, sql: "SELECT checkpoint FROM block_entry WHERE height = 2") })
        var bytes = Array(note.utf8)
        let sizeLine = try #require(bytes.firstIndex(of: 0x0A)) + 1
        bytes[sizeLine] = bytes[sizeLine] == UInt8(ascii: "9") ? UInt8(ascii: "8") : bytes[sizeLine] + 1
        let tampered = String(decoding: bytes, as: UTF8.self)
        try await queue.write { db in try db.execute(sql: "UPDATE block_entry SET checkpoint = ? WHERE height = 2", arguments: [tampered]) }
        let fault = try #require(try ledger.verifyChain().fault)
        #expect(fault.height == 2)
        #expect(fault.description.hasPrefix("block 2:"))
        try await queue.write { db in try db.execute(sql: "UPDATE block_entry SET checkpoint = ? WHERE height = 2", arguments: [note]) }

        try await queue.write { db in
            try db.execute(sql: "DELETE FROM block_entry WHERE height = 3")
            try db.execute(sql: "DELETE FROM block WHERE height = 3")
        }
        #expect(try ledger.verifyChain().fault?.height == 4)
    }
}
