import Crypto
import EmbeddedLedger
import Foundation
import Journal
@testable import Ledger
import Logging
import Synchronization
import Testing
import Transparency
import TransparencyLog

/// Wraps a real ledger and loses its answer to the first `lost` submissions after the ledger
/// has anchored them, as a timeout on a commit that did go through would.
final class LostAnswerLedger: LedgerClient {
    let wrapped: any LedgerClient
    private let remaining: Mutex<Int>
    let submitted = Mutex<[BatchKey]>([])

    init(wrapping ledger: any LedgerClient, lost: Int) {
        wrapped = ledger
        remaining = Mutex(lost)
    }

    var kind: String { wrapped.kind }

    func submit(_ batch: LedgerBatch) async -> SubmitOutcome {
        submitted.withLock { $0.append(batch.key) }
        let outcome = await wrapped.submit(batch)
        let lose = remaining.withLock { count in
            defer { count = max(0, count - 1) }
            return count > 0
        }
        return lose ? .retryable("the answer was lost (simulated commit timeout)") : outcome
    }

    func health() async -> LedgerHealth { await wrapped.health() }
    func receipt(for key: BatchKey) async throws -> LedgerReceipt? { try await wrapped.receipt(for: key) }
}

@Suite("Ledger forwarder: the coalescing window")
struct ForwarderWindowTests {
    static let origin = "wardgate/test.example/ward"

    /// A journal with a real Merkle log in it, an outbox, and an embedded ledger that trusts the log's key.
    struct Setup {
        let directory: String
        let journal: Journal
        let outbox: Outbox
        let tree: LogTree<SQLiteSubtreeHashStore>
        let signer: ECDSAP256NoteSigner
        let ledger: EmbeddedLedger

        init() throws {
            directory = NSTemporaryDirectory() + "wardgate-forwarder-\(UUID().uuidString.prefix(8))"
            journal = try Journal(directory: directory, tables: [LeafIndex.tables, Outbox.tables])
            outbox = try Outbox(journal: journal)
            tree = try LeafIndex(journal: journal).tree()
            signer = try ECDSAP256NoteSigner(keyName: ForwarderWindowTests.origin, privateKey: P256.Signing.PrivateKey())
            ledger = try EmbeddedLedger(path: directory + "/ledger.sqlite", trustedGateways: [ForwarderWindowTests.origin: signer.verifier], logger: Logger(label: "test"))
        }

        /// Appends `count` leaves and cuts them as one batch with a signed checkpoint; `alongside`
        /// runs in the cut's transaction, as the batcher runs it; `thenFail` rolls the cut back.
        func cut(_ count: Int, alongside: LedgerForwarder.AlongsideCut? = nil, thenFail: Bool = false) throws {
            let first = try tree.size
            _ = try tree.append(contentsOf: (0..<count).map { RFC9162.leafHash(Array("leaf \(first + UInt64($0))".utf8)) })
            let note = try SignedNote(signing: Checkpoint(origin: ForwarderWindowTests.origin, treeHead: tree.treeHead()).body, with: [signer]).serialized
            let size = try tree.size
            try journal.write { transaction in
                try outbox.enqueueBatch(origin: ForwarderWindowTests.origin, firstLeaf: first, treeSize: size, checkpointNote: note, entries: [], now: Date(), in: transaction)
                try alongside?(transaction)
                if thenFail { throw CancellationError() }
            }
        }

        func forwarder(_ client: any LedgerClient, cutBeforeAnchor: (@Sendable (@escaping LedgerForwarder.AlongsideCut) throws -> Void)? = nil,
                       admit: (@Sendable () async -> LedgerForwarder.Admission)? = nil,
                       events: @escaping @Sendable (ForwarderEvent) -> Void = { _ in }) -> LedgerForwarder {
            LedgerForwarder(outbox: outbox, tree: tree, client: client, window: .coalescing, cutBeforeAnchor: cutBeforeAnchor, admit: admit,
                            logger: Logger(label: "test"), events: events)
        }

        func remove() { try? FileManager.default.removeItem(atPath: directory) }
    }

    @Test("every pending batch goes in one anchor of the newest checkpoint; the others are marked anchored by it, and proofs use its checkpoint")
    func coalescesPendingBatches() async throws {
        let setup = try Setup()
        defer { setup.remove() }
        for count in [100, 50, 30] { try setup.cut(count) }
        let events = Mutex<[ForwarderEvent]>([])
        let forwarder = setup.forwarder(setup.ledger, events: { event in events.withLock { $0.append(event) } })
        #expect(await forwarder.forwardNext() == .anchored(180))
        let batches = try setup.outbox.batches()
        #expect(batches.map(\.state) == [.anchored, .anchored, .anchored])
        #expect(batches.map(\.anchoredBy) == [180, 180, nil])
        #expect(batches.map { $0.receipt != nil } == [false, false, true], "only the anchor's own batch holds the receipt")
        #expect(try setup.ledger.verifyChain().blocks == 1)
        // A leaf of a coalesced batch is proven by the checkpoint that anchored it, with its receipt.
        #expect(try setup.outbox.anchoringBatch(forLeaf: 3)?.treeSize == 180)
        #expect(try setup.outbox.anchoringBatch(forLeaf: 179)?.treeSize == 180)
        guard case .anchored(let size, let leaves, let count, _) = events.withLock({ $0 }).first else { throw CancellationError() }
        #expect(size == 180 && leaves == 180 && count == 3)

        // The next anchor carries a proof from 180: the window grows again from there.
        try setup.cut(20)
        try setup.cut(5)
        #expect(await forwarder.forwardNext() == .anchored(205))
        #expect(try setup.ledger.verifyChain().blocks == 2)
        #expect(try setup.outbox.status().anchoredSize == 205)
        #expect(await forwarder.forwardNext() == .idle)
    }

    @Test("admission: nothing is offered while the check waits (the ledger counts as unavailable) or refuses; once it proceeds, the batch is anchored")
    func anchorsOnlyWhenAdmitted() async throws {
        let setup = try Setup()
        defer { setup.remove() }
        try setup.cut(10)
        let counting = LostAnswerLedger(wrapping: setup.ledger, lost: 0)
        let answer = Mutex<LedgerForwarder.Admission>(.wait("the peer cannot be reached"))
        let events = Mutex<[ForwarderEvent]>([])
        let forwarder = setup.forwarder(counting, admit: { answer.withLock { $0 } }, events: { event in events.withLock { $0.append(event) } })
        #expect(await forwarder.forwardNext() == .retryLater(0))
        #expect(events.withLock { $0.contains { if case .availability(false) = $0 { true } else { false } } })
        answer.withLock { $0 = .refuse("the channel is ahead of the journal") }
        #expect(await forwarder.forwardNext() == .refused)
        #expect(counting.submitted.withLock { $0.isEmpty })
        #expect(try setup.outbox.status().anchoredSize == 0)
        answer.withLock { $0 = .proceed }
        #expect(await forwarder.forwardNext() == .anchored(10))
    }

    @Test("a checkpoint offered and not answered is offered again unchanged before the window grows, so a commit whose answer was lost is not refused")
    func unansweredAnchorIsResentUnchanged() async throws {
        let setup = try Setup()
        defer { setup.remove() }
        try setup.cut(100)
        try setup.cut(100)
        let lossy = LostAnswerLedger(wrapping: setup.ledger, lost: 1)
        let forwarder = setup.forwarder(lossy)
        // The ledger anchors 200, but the answer is lost; meanwhile a third batch is cut.
        #expect(await forwarder.forwardNext() == .retryLater(200))
        try setup.cut(50)
        // Resent unchanged: the ledger answers with the receipt it issued, no refusal.
        #expect(await forwarder.forwardNext() == .anchored(200))
        #expect(await forwarder.forwardNext() == .anchored(250))
        #expect(lossy.submitted.withLock { $0.map(\.treeSize) } == [200, 200, 250])
        #expect(try setup.outbox.batches().allSatisfy { $0.state == .anchored })
        let report = try setup.ledger.verifyChain()
        #expect(report.isIntact && report.blocks == 2 && report.checkpoints == 2)
    }

    @Test("the coalescing window cuts what is logged before choosing its anchor, so the anchor does not wait for batch.maxAge")
    func cutsBeforeEachAnchor() async throws {
        let setup = try Setup()
        defer { setup.remove() }
        let cuts = Mutex(0)
        let forwarder = setup.forwarder(setup.ledger, cutBeforeAnchor: { _ in
            // Stands for the batcher: leaves were logged and are cut only when the forwarder asks.
            try cuts.withLock { count in
                count += 1
                if count <= 2 { try setup.cut(10) }
            }
        })
        #expect(await forwarder.forwardNext() == .anchored(10))
        #expect(await forwarder.forwardNext() == .anchored(20))
        #expect(await forwarder.forwardNext() == .idle)
        // Before each anchor and after each receipt (the next anchor's cut, stored with the receipt).
        #expect(cuts.withLock { $0 } == 5)
    }

    @Test("the receipt, the next cut and the next anchor's choice commit in one transaction; a cut that rolls back takes the choice with it, and the receipt is stored on its own")
    func choosesInTheCutsTransaction() async throws {
        let setup = try Setup()
        defer { setup.remove() }
        let counting = LostAnswerLedger(wrapping: setup.ledger, lost: 0)
        let rounds = Mutex(0)
        let forwarder = setup.forwarder(counting, cutBeforeAnchor: { alongside in
            let round = rounds.withLock { count in count += 1; return count }
            switch round {
            case 1: try setup.cut(10, alongside: alongside)
            // After receipt 10: leaves logged, then the cut fails after the choice (a full disk): batch 25 never existed.
            case 2: try setup.cut(15, alongside: alongside, thenFail: true)
            case 4: try setup.cut(5, alongside: alongside)
            default: try setup.journal.write { transaction in try alongside(transaction) }  // nothing due
            }
        })
        #expect(await forwarder.forwardNext() == .anchored(10))
        #expect(try setup.outbox.batches().map(\.state) == [.anchored], "receipt 10 stored on its own after the rollback")
        try setup.cut(5)
        // The rolled-back cut chose 25, which the outbox never held: the forwarder anchors 30.
        #expect(await forwarder.forwardNext() == .anchored(30))
        // Receipt 30 committed with the cut of 35, already chosen and marked for the next anchor.
        let afterThirty = try setup.outbox.batches()
        #expect(afterThirty.map(\.treeSize) == [10, 30, 35])
        #expect(afterThirty.map(\.state) == [.anchored, .anchored, .pending] && afterThirty[2].submittedAtMs != nil)
        #expect(await forwarder.forwardNext() == .anchored(35))
        #expect(await forwarder.forwardNext() == .idle)
        #expect(rounds.withLock { $0 } == 6, "the chosen 35 was anchored without a cut of its own")
        #expect(counting.submitted.withLock { $0.map(\.treeSize) } == [10, 30, 35])
        #expect(try setup.outbox.batches().allSatisfy { $0.state == .anchored && $0.submittedAtMs != nil })
        #expect(try setup.ledger.verifyChain().isIntact)
    }
}
