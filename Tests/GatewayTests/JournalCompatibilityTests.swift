import Crypto
import DeviceIdentity
import Evidence
import Foundation
import Gateway
import Journal
import Ledger
import Testing
import Transparency
import TransparencyLog

/// A journal written by the release before the outbox and the leaf index moved out of Journal
/// (Resources/journal-d4c666a, see its README) opens through the one composed migrator unchanged
/// and keeps every record: inbox, Observations, dead letters, leaves, batches, receipts, tiles.
@Suite("A journal written by d4c666a opens unchanged and keeps its data")
struct JournalCompatibilityTests {
    static let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Resources/journal-d4c666a").path

    /// A copy of the fixture's journal in a fresh state directory.
    static func copiedJournal() throws -> (journal: Journal, directory: String) {
        let directory = TestSupport.temporaryDirectory("compat")
        try FileManager.default.createDirectory(atPath: directory + "/state", withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: fixture + "/journal.sqlite", toPath: directory + "/state/journal.sqlite")
        return (try TestSupport.openJournal(directory + "/state"), directory)
    }

    @Test("no migration runs again, the shipped identifiers keep their names, and every record is there")
    func opensUnchanged() throws {
        let (journal, directory) = try Self.copiedJournal()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let applied = try journal.read { try String.fetchAll($0.database, sql: "SELECT identifier FROM grdb_migrations ORDER BY rowid") }
        // The shipped ones as they were, none run again; then those added since, once each (the
        // inbox's packet ids and cut evidence, the outbox's coalescing columns, the 11073 manager sessions), in the
        // composed migrator's order (the journal's own first, the compact observation table last).
        #expect(applied == [
            "v1-inbox-observations", "v2-signatures-quarantine", "v3-device-configurations", "v4-log-leaves", "v5-ledger-outbox", "transparencyLog.v1",
            "v7-inbox-packet-id", "v8-inbox-cut-evidence", "v6-ledger-outbox-coalescing", "ieee11073.v1-manager-sessions",
            "v9-compact-observations",
        ])

        let stats = try journal.statistics()
        #expect(stats.inboxRecords == 38 && stats.pendingRecords == 0 && stats.deadLetters == 1)
        #expect(stats.observations == 86 && stats.signed == 85 && stats.quarantined == 1)
        #expect(try journal.deadLetters().map(\.letter.kind) == ["invalid_json"])
        #expect(try journal.observations(quarantinedOnly: true).map(\.deviceId) == ["visitor"])

        // The leaf index: every leaf has its Observation, and back.
        let leaves = try LeafIndex(journal: journal)
        #expect(try leaves.loggedObservationCount() == 85)
        for leaf in UInt64(0)..<85 {
            let observation = try #require(try leaves.observation(leafIndex: leaf), "no Observation at leaf \(leaf)")
            #expect(try leaves.leafIndex(ofObservation: observation.id) == leaf)
            #expect(observation.signature != nil)
        }
        #expect(try leaves.observation(leafIndex: 85) == nil)

        // The tree and its checkpoints: the last signed checkpoint commits to the stored tree.
        let tree = try leaves.tree()
        #expect(try tree.size == 85)
        let note = try #require(try tree.store.latestSignedCheckpointNote())
        let checkpoint = try Checkpoint(parsing: SignedNote(parsing: note).text)
        #expect(checkpoint.size == 85)
        #expect(checkpoint.rootHash == (try tree.rootHash(atSize: 85)))

        // The outbox: nine batches, all anchored with their receipts, in order up to the tree size.
        let outbox = try Outbox(journal: journal)
        let batches = try outbox.batches()
        #expect(batches.count == 9)
        #expect(batches.allSatisfy { $0.state == .anchored && $0.receipt != nil })
        #expect(batches.allSatisfy { $0.anchoredBy == nil && $0.submittedAtMs == nil }, "rows from before the coalescing window each anchor themselves")
        #expect(batches.map(\.treeSize).last == 85)
        #expect(zip(batches, batches.dropFirst()).allSatisfy { $0.treeSize == $1.firstLeaf })
        let status = try outbox.status()
        #expect(status.anchoredSize == 85 && status.pendingBatches == 0)
    }

    @Test("a proof bundle built from the old journal (no iat) verifies offline, every check, as it did before")
    func oldReadingsStillProve() async throws {
        let (journal, directory) = try Self.copiedJournal()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try FileManager.default.copyItem(atPath: Self.fixture + "/keystore", toPath: directory + "/keystore")
        let bundle = try ProofBundle.build(.leafIndex(42), journal: journal, keystore: Keystore(directory: directory + "/keystore"))
        let ledgerKey = try P256.Signing.PublicKey(pemRepresentation: String(contentsOfFile: Self.fixture + "/ledger.pub", encoding: .utf8))
        let checks = await ProofVerification.verify(
            bundle: bundle, ca: try CertificateCoding.loadCertificate(Self.fixture + "/ca.pem"),
            gatewayCertificate: try CertificateCoding.loadCertificate(Self.fixture + "/gateway.pem"), ledgerKey: ledgerKey)
        #expect(checks.map(\.name) == ProofVerification.checkNames)
        let failed = checks.filter { !$0.passed }
        #expect(failed.isEmpty, "\(failed)")
        // Signed before the JWS carried iat: judged, as it always was, at the reading's effectiveDateTime.
        #expect(try JWSVerifier.parse(try #require(bundle["jws"]?.stringValue)).header.signedAt == nil)
        #expect(checks.first { $0.name == "device-certificate" }?.detail.contains("effectiveDateTime") == true)
    }
}
