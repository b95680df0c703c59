import Foundation
import HexEncoding
import JSONDocument
import Ledger
import TransparencyLog

/// The `wardgate-anchor` chaincode contract (docs/ledger-fabric.md): function names, argument
/// encodings, world-state keys and the anchor record. The Go chaincode
/// (Sources/Ledger/Fabric/chaincode) and the test peer implement the same rules.
public enum AnchorContract {
    public static let anchor = "Anchor"
    public static let registerGateway = "RegisterGateway"
    public static let getAnchor = "GetAnchor"
    public static let getHead = "GetHead"
    public static let getGateway = "GetGateway"

    /// Composite-key object types (`stub.CreateCompositeKey`).
    public static let anchorObjectType = "wardgate.anchor"
    public static let headObjectType = "wardgate.head"
    public static let gatewayObjectType = "wardgate.gateway"

    /// `Anchor(origin, treeSize, checkpointNote, consistencyProof)`, function name first.
    public static func anchorArguments(for batch: LedgerBatch) -> [[UInt8]] {
        [anchor, batch.key.origin, String(batch.key.treeSize), batch.checkpointNote, consistencyProofJSON(batch.consistencyProof)].map { Array($0.utf8) }
    }

    /// `GetAnchor(origin, treeSize)`.
    public static func getAnchorArguments(for key: BatchKey) -> [[UInt8]] {
        [getAnchor, key.origin, String(key.treeSize)].map { Array($0.utf8) }
    }

    /// `GetHead(origin)`.
    public static func getHeadArguments(origin: String) -> [String] { [getHead, origin] }

    /// `{"fromSize":F,"toSize":T,"hashes":["<hex>",…]}`, members in this order, no white space.
    public static func consistencyProofJSON(_ proof: ConsistencyProof) -> String {
        let hashes = proof.hashes.map { "\"\($0.hex)\"" }.joined(separator: ",")
        return "{\"fromSize\":\(proof.fromSize),\"toSize\":\(proof.toSize),\"hashes\":[\(hashes)]}"
    }

    /// Fabric's composite key: U+0000, the object type, then each attribute, each followed by U+0000.
    public static func compositeKey(_ objectType: String, _ attributes: [String]) -> String {
        "\u{0}" + ([objectType] + attributes).map { $0 + "\u{0}" }.joined()
    }

    /// Sizes are zero-padded to 20 digits so the keys of one origin sort by size.
    public static func anchorKey(origin: String, treeSize: UInt64) -> String {
        let digits = String(treeSize)
        return compositeKey(anchorObjectType, [origin, String(repeating: "0", count: 20 - digits.count) + digits])
    }

    public static func headKey(origin: String) -> String { compositeKey(headObjectType, [origin]) }
}

/// The value the contract writes under `AnchorContract.headKey` (and returns from `GetHead`):
/// the origin's last anchored checkpoint, `{"origin","treeSize","rootHash"}`.
public struct HeadRecord: Sendable, Hashable {
    public let origin: String
    public let treeSize: UInt64
    public let rootHash: MerkleHash

    public init(json bytes: some Collection<UInt8>) throws(FabricProtocolError) {
        guard let value = try? JSONParser.parse(Array(bytes)), let origin = value["origin"]?.stringValue,
            let size = value["treeSize"]?.numberLexeme.flatMap({ UInt64($0) }),
            let root = value["rootHash"]?.stringValue.flatMap({ try? MerkleHash(hex: $0) })
        else { throw FabricProtocolError("the head record is not {\"origin\",\"treeSize\",\"rootHash\"}") }
        self.origin = origin
        treeSize = size
        rootHash = root
    }
}

/// The value the contract writes under `AnchorContract.anchorKey` (and returns from `Anchor`
/// and `GetAnchor`): a JSON object.
public struct AnchorRecord: Sendable, Hashable {
    public let origin: String
    public let treeSize: UInt64
    public let rootHash: MerkleHash
    /// The full C2SP signed note, exactly as submitted.
    public let checkpointNote: String
    public let previousTreeSize: UInt64
    /// The transaction that wrote the record: a resubmission gets this one back.
    public let transactionID: String

    public init(json bytes: some Collection<UInt8>) throws(FabricProtocolError) {
        guard let value = try? JSONParser.parse(Array(bytes)) else { throw FabricProtocolError("the anchor record is not JSON") }
        func string(_ name: String) throws(FabricProtocolError) -> String {
            guard let text = value[name]?.stringValue else { throw FabricProtocolError("the anchor record has no \(name)") }
            return text
        }
        func number(_ name: String) throws(FabricProtocolError) -> UInt64 {
            guard let lexeme = value[name]?.numberLexeme, let number = UInt64(lexeme) else {
                throw FabricProtocolError("the anchor record's \(name) is not an unsigned integer")
            }
            return number
        }
        origin = try string("origin")
        treeSize = try number("treeSize")
        guard let root = try? MerkleHash(hex: try string("rootHash")) else { throw FabricProtocolError("the anchor record's rootHash is not 32 bytes of hex") }
        rootHash = root
        checkpointNote = try string("checkpointNote")
        previousTreeSize = try number("previousTreeSize")
        transactionID = try string("txId")
    }
}
