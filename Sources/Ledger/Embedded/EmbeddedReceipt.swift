import Crypto
import Foundation
import HexEncoding
import JSONDocument
import Ledger
import TransparencyLog

/// The embedded ledger's receipt: which block anchors a checkpoint, and enough of that block to
/// recompute its hash offline. Checking it needs only the checkpoint note and the ledger's
/// public key (`wardgate ledger key`). Format: docs/ledger.md.
public struct EmbeddedReceipt: Sendable, Hashable {
    public static let kind = "embedded"

    public let key: BatchKey
    public let height: UInt64
    public let index: UInt64
    public let entryCount: UInt64
    public let entryPath: [MerkleHash]
    public let previousBlockHash: [UInt8]
    public let timeMs: UInt64
    public let blockHash: [UInt8]
    /// ECDSA P-256 over the block hash, DER.
    public let signature: [UInt8]
    public let ledgerKeyID: String

    public var document: JSONValue {
        .object([
            "ledger": .string(Self.kind),
            "origin": .string(key.origin),
            "treeSize": .integer(key.treeSize),
            "height": .integer(height),
            "index": .integer(index),
            "entryCount": .integer(entryCount),
            "entryPath": .array(entryPath.map { .string($0.hex) }),
            "previousBlockHash": .string(Hex.encode(previousBlockHash)),
            "time": .integer(timeMs),
            "blockHash": .string(Hex.encode(blockHash)),
            "signature": .string(Data(signature).base64EncodedString()),
            "ledgerKeyId": .string(ledgerKeyID),
        ])
    }

    public var receipt: LedgerReceipt { LedgerReceipt(key: key, document: document) }

    public init(key: BatchKey, height: UInt64, index: UInt64, entryCount: UInt64, entryPath: [MerkleHash], previousBlockHash: [UInt8],
                timeMs: UInt64, blockHash: [UInt8], signature: [UInt8], ledgerKeyID: String) {
        self.key = key
        self.height = height
        self.index = index
        self.entryCount = entryCount
        self.entryPath = entryPath
        self.previousBlockHash = previousBlockHash
        self.timeMs = timeMs
        self.blockHash = blockHash
        self.signature = signature
        self.ledgerKeyID = ledgerKeyID
    }

    public struct Invalid: Error, Sendable, CustomStringConvertible {
        public let description: String
        init(_ description: String) { self.description = description }
    }

    public init(document: JSONValue) throws(Invalid) {
        guard document["ledger"]?.stringValue == Self.kind else { throw Invalid("not an embedded-ledger receipt") }
        func number(_ name: String) throws(Invalid) -> UInt64 {
            guard let text = document[name]?.numberLexeme, let value = UInt64(text) else { throw Invalid("\(name) is missing or not an unsigned integer") }
            return value
        }
        func hash(_ name: String) throws(Invalid) -> [UInt8] {
            guard let text = document[name]?.stringValue, let hash = try? MerkleHash(hex: text) else {
                throw Invalid("\(name) is missing or not 32 bytes of hex")
            }
            return hash.bytes
        }
        guard let origin = document["origin"]?.stringValue else { throw Invalid("origin is missing") }
        key = BatchKey(origin: origin, treeSize: try number("treeSize"))
        height = try number("height")
        index = try number("index")
        entryCount = try number("entryCount")
        guard let path = document["entryPath"]?.arrayValue else { throw Invalid("entryPath is missing") }
        var hashes: [MerkleHash] = []
        for element in path {
            guard let text = element.stringValue, let hash = try? MerkleHash(hex: text) else { throw Invalid("an entryPath element is not a 32-byte hex hash") }
            hashes.append(hash)
        }
        entryPath = hashes
        previousBlockHash = try hash("previousBlockHash")
        timeMs = try number("time")
        blockHash = try hash("blockHash")
        guard let text = document["signature"]?.stringValue, let signature = Data(base64Encoded: text) else { throw Invalid("signature is missing or not base64") }
        self.signature = Array(signature)
        ledgerKeyID = document["ledgerKeyId"]?.stringValue ?? ""
    }

    /// Checks that this receipt anchors exactly `checkpointNote` in a block signed by `ledgerKey`.
    /// Returns a one-line account of what was checked.
    public func verify(checkpointNote: String, ledgerKey: P256.Signing.PublicKey) throws(Invalid) -> String {
        let note: SignedNote
        let checkpoint: Checkpoint
        do {
            note = try SignedNote(parsing: checkpointNote)
            checkpoint = try Checkpoint(parsing: note.text)
        } catch {
            throw Invalid("the checkpoint note does not parse: \(error)")
        }
        guard checkpoint.origin == key.origin, checkpoint.size == key.treeSize else {
            throw Invalid("the receipt is for \(key), the checkpoint is \(checkpoint.origin)@\(checkpoint.size)")
        }
        let entriesRoot: MerkleHash
        do {
            entriesRoot = try InclusionProof(leafIndex: index, treeSize: entryCount, hashes: entryPath)
                .impliedRoot(forLeafHash: LedgerBlock.entryHash(checkpointNote: checkpointNote))
        } catch {
            throw Invalid("the entry path does not place the checkpoint in the block: \(error)")
        }
        let recomputed = LedgerBlock.hash(height: height, previousHash: previousBlockHash, timeMs: timeMs, entryCount: entryCount, entriesRoot: entriesRoot)
        guard recomputed == blockHash else { throw Invalid("block \(height): the recomputed block hash does not match the receipt's") }
        guard let parsed = try? P256.Signing.ECDSASignature(derRepresentation: signature),
            ledgerKey.isValidSignature(parsed, for: blockHash)
        else {
            throw Invalid("block \(height): the ledger signature does not verify with ledger key \(LedgerKeyID.of(ledgerKey))")
        }
        return "checkpoint \(key) is entry \(index) of block \(height) (\(Hex.encode(blockHash).prefix(16))…), signed by ledger key \(LedgerKeyID.of(ledgerKey))"
    }
}
