import Crypto
import DeviceIdentity
import Foundation
import GRDB
import JSONDocument
import Journal
import Logging
import SigningKeys
import Synchronization
import TransparencyLog

/// The gateway's RFC 9162 log and its batcher: every signed Observation becomes a leaf, in the
/// same transaction that journals it. A checkpoint is signed and a batch cut for the ledger
/// when `batch.maxLeaves` leaves wait or the oldest has waited `batch.maxAge`; the checkpoint
/// and the batch commit together, so the outbox never holds a batch without its checkpoint.
final class GatewayLog: Sendable {
    let tree: LogTree<SQLiteSubtreeHashStore>
    let origin: String
    let batch: GatewayConfig.BatchSettings
    private let signer: CheckpointSigner?
    private let journal: Journal
    private let logger: Logger
    private let state: Mutex<BatcherState>
    /// One cut at a time (the batcher loop, shutdown and tests may all ask).
    private let cutting = Mutex<Void>(())
    /// Leaf bytes of committed, not yet batched leaves, by leaf index, so cutting a batch does
    /// not re-parse and re-canonicalize every Observation (it was an eighth of the CPU). Filled
    /// only on commit; after a restart the missing ones are rebuilt from the journal.
    private let unbatchedLeafData = Mutex<[UInt64: [UInt8]]>([:])

    struct BatcherState {
        var batchedSize: UInt64
        /// When the batcher first saw the oldest leaf that is still unbatched.
        var oldestUnbatchedSeen: ContinuousClock.Instant?
    }

    init(journal: Journal, settings: GatewayConfig.LogSettings?, batch: GatewayConfig.BatchSettings = .init(), gatewayId: String, logger: Logger) throws(GatewayError) {
        self.journal = journal
        self.logger = logger
        self.batch = batch
        origin = settings?.origin ?? "wardgate/\(gatewayId)"
        do {
            var migrator = DatabaseMigrator()
            SQLiteSubtreeHashStore.registerMigrations(&migrator)
            try migrator.migrate(journal.databaseWriter)
            tree = try LogTree(writer: journal.databaseWriter)
            if let settings {
                let key = try PrivateKeyFile.loadP256(settings.gatewayKey)
                let noteSigner = try ECDSAP256NoteSigner(keyName: origin, privateKey: key)
                // Refuses to start if the stored tree is not consistent with the last checkpoint we signed.
                signer = try CheckpointSigner(origin: origin, signer: noteSigner, lastSignedNote: try tree.store.latestSignedCheckpointNote())
            } else {
                signer = nil
                logger.warning("no log section: leaves are appended but no checkpoint is signed and nothing is anchored")
            }
            state = Mutex(BatcherState(batchedSize: try journal.lastBatchedSize(), oldestUnbatchedSeen: nil))
        } catch {
            throw .log("\(error)")
        }
    }

    /// The key that verifies this gateway's checkpoints (what a ledger trusts for `origin`).
    var checkpointVerifier: (any NoteVerifier)? { signer?.signer.verifier }

    /// Appends the new signed Observations as leaves; runs inside the journal's commit.
    /// `canonicalObservations` are the signed payloads by Observation id; an entry without one
    /// is canonicalized from its stored JSON.
    func appendLeaves(_ entries: [ObservationEntry], canonicalObservations: [String: [UInt8]] = [:], in db: Database) throws {
        let signed = entries.compactMap { entry -> (ObservationEntry, ObservationSignature)? in entry.signature.map { (entry, $0) } }
        guard !signed.isEmpty else { return }
        var hashes: [MerkleHash] = []
        var leaves: [[UInt8]] = []
        hashes.reserveCapacity(signed.count)
        for (entry, signature) in signed {
            let canonical = try canonicalObservations[entry.id] ?? JCS.canonicalize(JSONParser.parse(entry.resource))
            let leaf = try LeafEncoding.leafData(canonicalObservation: canonical, jws: signature.jws, certificateThumbprint: signature.certificateThumbprint)
            hashes.append(RFC9162.leafHash(leaf))
            // Kept only for the batches a checkpoint signer cuts.
            if signer != nil { leaves.append(leaf) }
        }
        let range = try tree.append(contentsOf: hashes, in: db)
        for (offset, (entry, _)) in signed.enumerated() {
            try Journal.recordLeafIndex(range.lowerBound + UInt64(offset), observationId: entry.id, in: db)
        }
        if signer != nil {
            let first = range.lowerBound
            let leaves = leaves
            db.afterNextTransaction(onCommit: { [self] _ in
                unbatchedLeafData.withLock { cache in
                    for (offset, leaf) in leaves.enumerated() { cache[first + UInt64(offset)] = leaf }
                }
            })
        }
    }

    /// Cuts every batch that is due: full batches of `maxLeaves` first, then (once the oldest
    /// unbatched leaf is `maxAge` old, or when `force`) one with whatever is left.
    /// Returns the tree sizes cut.
    @discardableResult
    func cutDueBatches(now: ContinuousClock.Instant = .now, force: Bool = false) throws -> [UInt64] {
        try cutting.withLock { _ in try cutDueBatchesLocked(now: now, force: force) }
    }

    private func cutDueBatchesLocked(now: ContinuousClock.Instant, force: Bool) throws -> [UInt64] {
        guard let signer else { return [] }
        let size = try tree.size
        var cut: [UInt64] = []
        while true {
            let (batched, seen) = state.withLock { state -> (UInt64, ContinuousClock.Instant) in
                if state.oldestUnbatchedSeen == nil { state.oldestUnbatchedSeen = now }
                return (state.batchedSize, state.oldestUnbatchedSeen ?? now)
            }
            guard size > batched else {
                state.withLock { $0.oldestUnbatchedSeen = nil }
                return cut
            }
            let end: UInt64
            if size - batched >= UInt64(batch.maxLeaves) {
                end = batched + UInt64(batch.maxLeaves)
            } else if force || now - seen >= batch.maxAge {
                end = size
            } else {
                return cut
            }
            // A checkpoint signed before batching existed may lie past `end`; never sign below it.
            let target = min(size, max(end, signer.lastSigned?.size ?? 0))
            try cutBatch(from: batched, to: target, signer: signer)
            state.withLock { state in
                state.batchedSize = target
                if target == size { state.oldestUnbatchedSeen = nil }
            }
            cut.append(target)
        }
    }

    private func cutBatch(from first: UInt64, to size: UInt64, signer: CheckpointSigner) throws {
        let signed = try signer.signCheckpoint(for: tree, atSize: size)
        let cached = unbatchedLeafData.withLock { cache in
            (first..<size).map { cache[$0] }
        }
        var entries: [OutboxEntry]
        if cached.allSatisfy({ $0 != nil }) {
            entries = zip(first..<size, cached).map { OutboxEntry(leafIndex: $0, leafData: $1 ?? []) }
        } else {
            let logged = try journal.read { db in try Journal.loggedObservations(leaves: first..<size, in: db) }
            guard logged.count == Int(size - first) else {
                throw GatewayError.log("leaves \(first)..<\(size) have \(logged.count) journaled Observations; refusing to cut an incomplete batch")
            }
            entries = try logged.map { leaf in
                OutboxEntry(leafIndex: leaf.leafIndex, leafData: try LeafEncoding.leafData(
                    observation: JSONParser.parse(leaf.resource), jws: leaf.jws, certificateThumbprint: leaf.thumbprint))
            }
        }
        try journal.write { db in
            try SQLiteSubtreeHashStore.recordSignedCheckpoint(signed, in: db)
            try Journal.enqueueBatch(origin: origin, firstLeaf: first, treeSize: size, checkpointNote: signed.text, entries: entries, now: Date(), in: db)
        }
        unbatchedLeafData.withLock { cache in
            for index in first..<size { cache[index] = nil }
        }
    }

    func latestCheckpointNote() throws -> String? { try tree.store.latestSignedCheckpointNote() }

    /// Cuts batches until cancelled.
    func run(metrics: GatewayMetrics) async {
        let tick = min(batch.maxAge / 5, .milliseconds(50))
        var lastStatus = ContinuousClock.now - .seconds(1)
        while !Task.isCancelled {
            try? await Task.sleep(for: tick)
            do {
                let cut = try cutDueBatches()
                if !cut.isEmpty {
                    metrics.checkpointsSigned.increment(by: cut.count)
                    metrics.batchesCut.increment(by: cut.count)
                    logger.debug("batches cut", metadata: ["sizes": "\(cut)"])
                }
            } catch {
                logger.error("ALARM: no checkpoint signed, no batch cut", metadata: ["reason": "\(error)"])
            }
            if ContinuousClock.now - lastStatus >= .milliseconds(500) {
                lastStatus = .now
                if let status = try? journal.outboxStatus() { metrics.recordOutbox(status, treeSize: (try? tree.size) ?? 0) }
            }
        }
    }
}
