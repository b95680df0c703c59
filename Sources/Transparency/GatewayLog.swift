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

    /// Where the last signed checkpoint is kept outside the journal (nil: only in the journal).
    public let lastCheckpointFile: LastCheckpointFile?

    /// `journal` must have been opened with `LeafIndex.tables`. Without `gatewayKeyPath` leaves
    /// are appended but no checkpoint is signed (and nothing can be anchored).
    ///
    /// With a key, it refuses to open (`LogDivergence`) when the journal's tree is behind or
    /// differs from the last checkpoint signed, as the journal or `lastCheckpointFile` records it.
    public init(journal: Journal, origin: String, gatewayKeyPath: String?, lastCheckpointFile: LastCheckpointFile? = nil, logger: Logger) throws {
        self.logger = logger
        self.origin = origin
        self.lastCheckpointFile = lastCheckpointFile
        leafIndex = try LeafIndex(journal: journal)
        tree = try leafIndex.tree()
        if let gatewayKeyPath {
            let key = try PrivateKeyFile.loadP256(gatewayKeyPath)
            let noteSigner = try ECDSAP256NoteSigner(keyName: origin, privateKey: key)
            let inJournal = try tree.store.latestSignedCheckpointNote().map { try SignedCheckpoint(verifying: $0, using: [noteSigner.verifier]) }
            let inFile = try lastCheckpointFile?.read(verifyingWith: noteSigner.verifier)
            if let inJournal { try GatewayLog.requireExtends(tree, inJournal.checkpoint, source: "the last checkpoint signed, as the journal records it") }
            if let inFile, let file = lastCheckpointFile {
                try GatewayLog.requireExtends(tree, inFile.checkpoint, source: "the last checkpoint this gateway signed, kept in \(file.path)")
            }
            // The signer checks every new checkpoint against the later of the two.
            let lastSigned = [inJournal, inFile].compactMap { $0?.checkpoint }.max { $0.size < $1.size }
            signer = try CheckpointSigner(origin: origin, signer: noteSigner, lastSigned: lastSigned)
        } else {
            signer = nil
            logger.warning("no transparencyLog section: leaves are appended but no checkpoint is signed and nothing is anchored")
        }
    }

    /// Throws `LogDivergence` unless the journal's tree contains `reference`: at least its size,
    /// and the same root at that size. `source` says where the reference comes from.
    public func requireExtends(_ reference: Checkpoint, source: String) throws {
        try GatewayLog.requireExtends(tree, reference, source: source)
    }

    static func requireExtends(_ tree: LogTree<SQLiteSubtreeHashStore>, _ reference: Checkpoint, source: String) throws {
        let head = try tree.treeHead()
        if reference.size > head.size {
            throw LogDivergence(treeSize: head.size, treeRoot: head.rootHash, referenceSize: reference.size, referenceRoot: reference.rootHash, source: source, behind: true)
        }
        let root = try tree.rootHash(atSize: reference.size)
        if root != reference.rootHash {
            throw LogDivergence(treeSize: head.size, treeRoot: head.rootHash, referenceSize: reference.size, referenceRoot: reference.rootHash, source: source, behind: false)
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

    /// Signs a checkpoint of the tree at `size` with the gateway key, after the signer checked
    /// it is consistent with every checkpoint signed before, and stores it in
    /// `lastCheckpointFile` (fsynced) before returning it: no checkpoint is used that the file
    /// does not hold.
    public func signCheckpoint(atSize size: UInt64) throws -> SignedCheckpoint {
        guard let signer else { throw GatewayLogError("no gateway key: this log signs no checkpoints") }
        let signed = try signer.signCheckpoint(for: tree, atSize: size)
        try lastCheckpointFile?.write(signed)
        return signed
    }

    /// Stores a signed checkpoint in the caller's transaction (with the batch it commits).
    public func recordCheckpoint(_ signed: SignedCheckpoint, in transaction: JournalTransaction) throws {
        try SQLiteSubtreeHashStore.recordSignedCheckpoint(signed, in: transaction.database)
    }

    public func latestCheckpointNote() throws -> String? { try tree.store.latestSignedCheckpointNote() }
}

/// The journal's tree is behind, or differs from, a checkpoint that was signed or anchored
/// before: the journal lost or changed committed leaves. The gateway refuses to run.
public struct LogDivergence: Error, Sendable, CustomStringConvertible {
    public let treeSize: UInt64
    public let treeRoot: MerkleHash
    public let referenceSize: UInt64
    public let referenceRoot: MerkleHash
    public let source: String
    /// true: the tree is smaller than the reference; false: it has another root at that size.
    public let behind: Bool

    public var description: String {
        let state = "the journal's Merkle log has size \(treeSize) (root \(treeRoot.hex))"
        let reference = "\(source) has size \(referenceSize) (root \(referenceRoot.hex))"
        let relation = behind ? "is behind" : "differs from"
        return "\(state) and \(relation) \(reference): the journal lost or changed committed readings "
            + "(a damaged, rolled-back or replaced journal.sqlite or journal.sqlite-wal). "
            + "Refusing to run, so that no checkpoint contradicting one already signed is ever signed. "
            + "Recover as docs/deployment.md \"Faults and recovery\" says: keep the damaged files, restore the journal from a backup "
            + "that holds at least size \(referenceSize), or start a new log (a new transparencyLog.origin) and keep the old journal for audit."
    }
}

/// Why the log refused to do something; the message says what.
public struct GatewayLogError: Error, Sendable, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}
