import JSONDocument
import TransparencyLog

/// A ledger that anchors the gateway's signed checkpoints.
///
/// The forwarder only speaks this protocol, so a new ledger is a new adapter, not a new
/// forwarder. Adapters that fit it:
/// - `embedded` (this module): a hash-chained, signed block file on the gateway itself;
/// - a Hyperledger Fabric Gateway client: `submit` = submit a transaction whose key is
///   `BatchKey`; the receipt = transaction id, block number and the endorsements;
/// - an IETF SCITT transparency service (SCRAPI): `submit` = register the checkpoint as a
///   signed statement (`POST /entries`, polling the operation); the receipt = the COSE receipt.
///
/// Every adapter must make `submit` idempotent on `BatchKey`: a batch the ledger already holds
/// returns the receipt it already issued, never a second anchor.
public protocol LedgerClient: Sendable {
    /// The adapter's name, as it appears in receipts (`"embedded"`).
    var kind: String { get }
    func submit(_ batch: LedgerBatch) async -> SubmitOutcome
    /// Cheap: is the ledger answering? The forwarder probes it while backing off.
    func health() async -> LedgerHealth
    /// The receipt already issued for a batch, if any.
    func receipt(for key: BatchKey) async throws -> LedgerReceipt?
}

/// The idempotency key of a batch: one log (origin) at one size is anchored at most once.
public struct BatchKey: Hashable, Sendable, CustomStringConvertible {
    public let origin: String
    public let treeSize: UInt64

    public init(origin: String, treeSize: UInt64) {
        self.origin = origin
        self.treeSize = treeSize
    }

    public var description: String { "\(origin)@\(treeSize)" }
}

/// One batch: a signed checkpoint, the proof that it extends the last anchored one, and the
/// entries it adds.
public struct LedgerBatch: Sendable {
    public let key: BatchKey
    /// The C2SP signed note of the checkpoint at `key.treeSize`.
    public let checkpointNote: String
    /// From the last checkpoint this ledger anchored for the origin (size 0 for the first batch).
    public let consistencyProof: ConsistencyProof
    /// Empty when the forwarder coalesces batches (`LedgerForwarder.Window.coalescing`): such a
    /// ledger anchors the checkpoint alone.
    public let entries: [LedgerEntry]

    public init(key: BatchKey, checkpointNote: String, consistencyProof: ConsistencyProof, entries: [LedgerEntry]) {
        self.key = key
        self.checkpointNote = checkpointNote
        self.consistencyProof = consistencyProof
        self.entries = entries
    }
}

/// A log leaf in a batch: the canonical `{"jws", "observation", "x5t#S256"}` bytes of a signed
/// Observation (docs/proof-bundle.md), whose RFC 9162 leaf hash is in the tree.
public struct LedgerEntry: Sendable, Hashable {
    public let leafIndex: UInt64
    public let leafData: [UInt8]

    public init(leafIndex: UInt64, leafData: [UInt8]) {
        self.leafIndex = leafIndex
        self.leafData = leafData
    }
}

public enum SubmitOutcome: Sendable {
    case anchored(LedgerReceipt)
    /// Try again later: the ledger is unreachable, busy, or asked us to wait.
    case retryable(String)
    /// Resending the same batch can never succeed: a bad signature, a forked log.
    case permanent(String)
}

public enum LedgerHealth: Sendable, Equatable {
    case available
    case unavailable(String)

    public var isAvailable: Bool { self == .available }
}

/// Proof that a ledger anchored a checkpoint. `document` is the adapter's own receipt as JSON;
/// it is stored as issued and copied into proof bundles, where `wardgate verify` checks it.
public struct LedgerReceipt: Sendable, Hashable {
    public let key: BatchKey
    public let document: JSONValue

    public init(key: BatchKey, document: JSONValue) {
        self.key = key
        self.document = document
    }

    /// The adapter that issued it (the document's `ledger` member).
    public var kind: String { document["ledger"]?.stringValue ?? "unknown" }
}
