import Synchronization

/// A checkpoint and the signed note that carries it.
public struct SignedCheckpoint: Hashable, Sendable {
    public let checkpoint: Checkpoint
    public let note: SignedNote

    /// The note text to publish or store.
    public var text: String { note.serialized }

    /// Parses a checkpoint note and verifies it with trusted keys.
    public init(verifying noteText: String, using verifiers: [any NoteVerifier]) throws {
        let note = try SignedNote(parsing: noteText)
        try note.verify(using: verifiers)
        self.checkpoint = try Checkpoint(parsing: note.text)
        self.note = note
    }

    init(checkpoint: Checkpoint, note: SignedNote) {
        self.checkpoint = checkpoint
        self.note = note
    }
}

/// Why the signer refused to sign a checkpoint.
public enum CheckpointPolicyError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The log already signed this size with another root: signing would split its history.
    case conflictingRoot(size: UInt64, signedRoot: MerkleHash, currentRoot: MerkleHash)
    /// The tree is smaller than the last signed checkpoint (rolled back or the wrong store).
    case treeSmallerThanLastCheckpoint(treeSize: UInt64, checkpointSize: UInt64)
    /// The tree is not an extension of the last signed checkpoint.
    case inconsistentWithLastCheckpoint(checkpointSize: UInt64, treeSize: UInt64, reason: String)
    case originMismatch(expected: String, found: String)

    public var description: String {
        switch self {
        case .conflictingRoot(let size, let signed, let current):
            "refusing to sign: size \(size) was already signed with root \(signed.hex), the tree now has \(current.hex)"
        case .treeSmallerThanLastCheckpoint(let treeSize, let checkpointSize):
            "refusing to sign: the tree has \(treeSize) leaves but a checkpoint of size \(checkpointSize) was already signed"
        case .inconsistentWithLastCheckpoint(let checkpointSize, let treeSize, let reason):
            "refusing to sign: the tree of size \(treeSize) is not consistent with the signed checkpoint of size \(checkpointSize): \(reason)"
        case .originMismatch(let expected, let found):
            "the last signed checkpoint has origin \"\(found)\", expected \"\(expected)\""
        }
    }
}

/// The rules a log must follow before signing a tree head.
public enum CheckpointPolicy {
    /// Checks that `candidate` may be signed after `lastSigned`:
    /// - never a second root for an already signed size;
    /// - never a smaller tree;
    /// - a larger tree only with a consistency proof from the last signed
    ///   checkpoint that verifies against both roots.
    ///
    /// `consistencyProof(from, to)` is only called for a larger tree.
    public static func check(
        candidate: TreeHead,
        lastSigned: Checkpoint?,
        consistencyProof: (_ fromSize: UInt64, _ toSize: UInt64) throws -> ConsistencyProof
    ) throws {
        guard let last = lastSigned else { return }
        if candidate.size == last.size {
            guard candidate.rootHash == last.rootHash else {
                throw CheckpointPolicyError.conflictingRoot(size: last.size, signedRoot: last.rootHash, currentRoot: candidate.rootHash)
            }
            return
        }
        guard candidate.size > last.size else {
            throw CheckpointPolicyError.treeSmallerThanLastCheckpoint(treeSize: candidate.size, checkpointSize: last.size)
        }
        do {
            let proof = try consistencyProof(last.size, candidate.size)
            guard proof.fromSize == last.size, proof.toSize == candidate.size else {
                throw ProofVerificationError.rootMismatch
            }
            try proof.verify(fromRoot: last.rootHash, toRoot: candidate.rootHash)
        } catch {
            throw CheckpointPolicyError.inconsistentWithLastCheckpoint(
                checkpointSize: last.size, treeSize: candidate.size, reason: String(describing: error))
        }
    }
}

/// Signs checkpoints of one log, enforcing `CheckpointPolicy` against the last
/// checkpoint it signed. After a restart, create it with the last signed
/// checkpoint (e.g. from `SQLiteSubtreeHashStore.latestSignedCheckpoint()`):
/// the first signature then proves the re-opened tree extends it.
public final class CheckpointSigner: Sendable {
    public let origin: String
    public let signer: any NoteSigner
    private let last: Mutex<Checkpoint?>

    /// C2SP tlog-checkpoint recommends a key name equal to the origin.
    public init(origin: String, signer: any NoteSigner, lastSigned: Checkpoint?) throws {
        _ = try Checkpoint(origin: origin, size: 0, rootHash: RFC9162.emptyTreeRoot)  // validates the origin
        if let lastSigned, lastSigned.origin != origin {
            throw CheckpointPolicyError.originMismatch(expected: origin, found: lastSigned.origin)
        }
        self.origin = origin
        self.signer = signer
        last = Mutex(lastSigned)
    }

    /// Starts from a stored note, which must verify with this signer's key.
    public convenience init(origin: String, signer: any NoteSigner, lastSignedNote: String?) throws {
        let lastSigned = try lastSignedNote.map { try SignedCheckpoint(verifying: $0, using: [signer.verifier]).checkpoint }
        try self.init(origin: origin, signer: signer, lastSigned: lastSigned)
    }

    public var lastSigned: Checkpoint? { last.withLock { $0 } }

    /// Signs the tree's current head, after checking it against the last signed checkpoint.
    public func signCheckpoint<Store>(for tree: LogTree<Store>) throws -> SignedCheckpoint {
        try signCheckpoint(for: tree, atSize: nil)
    }

    /// Signs the head of the tree's first `size` leaves (a batch boundary behind the current
    /// size), after checking it against the last signed checkpoint.
    public func signCheckpoint<Store>(for tree: LogTree<Store>, atSize size: UInt64?) throws -> SignedCheckpoint {
        try last.withLock { last in
            let head = try size.map { TreeHead(size: $0, rootHash: try tree.rootHash(atSize: $0)) } ?? tree.treeHead()
            try CheckpointPolicy.check(candidate: head, lastSigned: last) { fromSize, toSize in
                try tree.consistencyProof(fromSize: fromSize, toSize: toSize)
            }
            let signed = try sign(head)
            last = signed.checkpoint
            return signed
        }
    }

    private func sign(_ head: TreeHead) throws -> SignedCheckpoint {
        let checkpoint = try Checkpoint(origin: origin, treeHead: head)
        let note = try SignedNote(signing: checkpoint.body, with: [signer])
        return SignedCheckpoint(checkpoint: checkpoint, note: note)
    }
}
