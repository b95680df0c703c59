import Crypto
import Foundation
import GRDB
import JSONDocument
import Journal
import Logging
import Processing
import SigningKeys
import Synchronization
import TransparencyLog

/// The gateway's RFC 9162 log: every signed Observation becomes a leaf, in the same transaction
/// that journals it, and the gateway key signs C2SP checkpoints of it. The ledger's batcher
/// (`LedgerBatcher`) decides when a checkpoint is signed and cuts the batch with it.
public final class GatewayLog: ObservationCommitHook, Sendable {
    public let tree: LogTree<SQLiteSubtreeHashStore>
    public let origin: String
    public let leafIndex: LeafIndex
    private let signer: CheckpointSigner?
    private let logger: Logger
    /// Leaf bytes of committed, not yet batched leaves, by leaf index, so cutting a batch does
    /// not re-parse and re-canonicalize every Observation (it was an eighth of the CPU). Filled
    /// only on commit; after a restart the missing ones are rebuilt from the journal.
    private let unbatchedLeafData = Mutex<[UInt64: [UInt8]]>([:])

    /// `journal` must have been opened with `LeafIndex.tables`. Without `gatewayKeyPath` leaves
    /// are appended but no checkpoint is signed (and nothing can be anchored).
    public init(journal: Journal, origin: String, gatewayKeyPath: String?, logger: Logger) throws {
        self.logger = logger
        self.origin = origin
        leafIndex = try LeafIndex(journal: journal)
        tree = try leafIndex.tree()
        if let gatewayKeyPath {
            let key = try PrivateKeyFile.loadP256(gatewayKeyPath)
            let noteSigner = try ECDSAP256NoteSigner(keyName: origin, privateKey: key)
            // Refuses to start if the stored tree is not consistent with the last checkpoint we signed.
            signer = try CheckpointSigner(origin: origin, signer: noteSigner, lastSignedNote: try tree.store.latestSignedCheckpointNote())
        } else {
            signer = nil
            logger.warning("no log section: leaves are appended but no checkpoint is signed and nothing is anchored")
        }
    }

    /// The key that verifies this gateway's checkpoints (what a ledger trusts for `origin`).
    public var checkpointVerifier: (any NoteVerifier)? { signer?.signer.verifier }

    public var signsCheckpoints: Bool { signer != nil }

    /// The size of the last checkpoint signed (nil before the first).
    public var lastSignedSize: UInt64? { signer?.lastSigned?.size }

    /// Appends the new signed Observations as leaves; runs inside the journal's commit.
    /// `canonicalObservations` are the signed payloads by Observation id; an entry without one
    /// is canonicalized from its stored JSON. Returns how many leaves it appended.
    public func committing(_ inserted: [ObservationEntry], canonicalObservations: [String: [UInt8]], in transaction: JournalTransaction) throws -> Int {
        let signed = inserted.compactMap { entry -> (ObservationEntry, ObservationSignature)? in entry.signature.map { (entry, $0) } }
        guard !signed.isEmpty else { return 0 }
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
        let db = transaction.database
        let range = try tree.append(contentsOf: hashes, in: db)
        for (offset, (entry, _)) in signed.enumerated() {
            try LeafIndex.record(range.lowerBound + UInt64(offset), observationId: entry.id, in: transaction)
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
        return signed.count
    }

    /// The leaf bytes of `range` (from the cache, or rebuilt from the journaled Observations),
    /// for the batch that carries them to the ledger.
    public func leafData(leaves range: Range<UInt64>) throws -> [(leafIndex: UInt64, leafData: [UInt8])] {
        let cached = unbatchedLeafData.withLock { cache in range.map { cache[$0] } }
        if cached.allSatisfy({ $0 != nil }) {
            return zip(range, cached).map { ($0, $1 ?? []) }
        }
        let logged = try leafIndex.loggedObservations(leaves: range)
        guard logged.count == range.count else {
            throw GatewayLogError("leaves \(range.lowerBound)..<\(range.upperBound) have \(logged.count) journaled Observations; refusing to cut an incomplete batch")
        }
        return try logged.map { leaf in
            (leaf.leafIndex, try LeafEncoding.leafData(observation: JSONParser.parse(leaf.resource), jws: leaf.jws, certificateThumbprint: leaf.thumbprint))
        }
    }

    /// Drops the cached leaf bytes of a range once its batch is in the outbox.
    public func forgetLeafData(_ range: Range<UInt64>) {
        unbatchedLeafData.withLock { cache in
            for index in range { cache[index] = nil }
        }
    }

    /// Signs a checkpoint of the tree at `size` with the gateway key.
    public func signCheckpoint(atSize size: UInt64) throws -> SignedCheckpoint {
        guard let signer else { throw GatewayLogError("no gateway key: this log signs no checkpoints") }
        return try signer.signCheckpoint(for: tree, atSize: size)
    }

    /// Stores a signed checkpoint in the caller's transaction (with the batch it commits).
    public func recordCheckpoint(_ signed: SignedCheckpoint, in transaction: JournalTransaction) throws {
        try SQLiteSubtreeHashStore.recordSignedCheckpoint(signed, in: transaction.database)
    }

    public func latestCheckpointNote() throws -> String? { try tree.store.latestSignedCheckpointNote() }
}

/// Why the log refused to do something; the message says what.
public struct GatewayLogError: Error, Sendable, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}
