import FabricProtos
import Foundation
import JSONDocument
import Ledger
import SwiftProtobuf

/// The Fabric adapter's receipt: where the anchor transaction landed, and the endorsed
/// transaction itself, so that anyone can check the endorsements offline (docs/ledger-fabric.md).
///
/// ```json
/// {"ledger": "fabric", "origin": "…", "treeSize": 4000, "channel": "wards", "chaincode": "wardgate-anchor",
///  "transactionId": "<hex>", "blockNumber": 17, "validationCode": "VALID",
///  "channelHeader": "<base64>", "signatureHeader": "<base64>", "chaincodeProposalPayload": "<base64>",
///  "proposalResponsePayload": "<base64>",
///  "endorsements": [{"mspId": "PeerOrgMSP", "endorser": "<base64 SerializedIdentity>", "signature": "<base64 DER>"}]}
/// ```
///
/// The three header fields are the proposal the endorsers signed a response to: with them the
/// `proposal_hash` in the response payload binds the transaction id, channel, chaincode, time
/// and creator. `blockNumber` and `validationCode` are what the gateway peer reported; no
/// endorser signs them.
public struct FabricReceipt: Sendable {
    public static let kind = "fabric"

    public let key: BatchKey
    public let chaincode: String
    public let blockNumber: UInt64
    public let validationCode: String
    public let transaction: EndorsedTransaction

    public var transactionID: String { transaction.transactionID }
    public var channel: String { transaction.channel }
    /// The proposal's channel-header timestamp: when the gateway proposed the anchor.
    public var proposedAt: Date? { (try? Common_ChannelHeader(serializedBytes: transaction.channelHeader))?.timestamp.date }

    public init(key: BatchKey, chaincode: String, blockNumber: UInt64, validationCode: String, transaction: EndorsedTransaction) {
        self.key = key
        self.chaincode = chaincode
        self.blockNumber = blockNumber
        self.validationCode = validationCode
        self.transaction = transaction
    }

    public var document: JSONValue {
        func base64(_ bytes: [UInt8]) -> JSONValue { .string(Data(bytes).base64EncodedString()) }
        return .object([
            "ledger": .string(Self.kind),
            "origin": .string(key.origin),
            "treeSize": .integer(key.treeSize),
            "channel": .string(transaction.channel),
            "chaincode": .string(chaincode),
            "transactionId": .string(transaction.transactionID),
            "blockNumber": .integer(blockNumber),
            "validationCode": .string(validationCode),
            "channelHeader": base64(transaction.channelHeader),
            "signatureHeader": base64(transaction.signatureHeader),
            "chaincodeProposalPayload": base64(transaction.chaincodeProposalPayload),
            "proposalResponsePayload": base64(transaction.proposalResponsePayload),
            "endorsements": .array(transaction.endorsements.map { endorsement in
                .object([
                    "mspId": .string(endorsement.identity?.mspID ?? ""),
                    "endorser": base64(endorsement.endorser),
                    "signature": base64(endorsement.signature),
                ])
            }),
        ])
    }

    public var receipt: LedgerReceipt { LedgerReceipt(key: key, document: document) }

    public struct Invalid: Error, Sendable, CustomStringConvertible {
        public let description: String
        init(_ description: String) { self.description = description }
    }

    public init(document: JSONValue) throws(Invalid) {
        guard document["ledger"]?.stringValue == Self.kind else { throw Invalid("not a Fabric receipt") }
        func string(_ name: String) throws(Invalid) -> String {
            guard let text = document[name]?.stringValue else { throw Invalid("\(name) is missing or not a string") }
            return text
        }
        func number(_ name: String) throws(Invalid) -> UInt64 {
            guard let text = document[name]?.numberLexeme, let value = UInt64(text) else { throw Invalid("\(name) is missing or not an unsigned integer") }
            return value
        }
        func bytes(_ value: JSONValue?, _ name: String) throws(Invalid) -> [UInt8] {
            guard let text = value?.stringValue, let data = Data(base64Encoded: text) else { throw Invalid("\(name) is missing or not base64") }
            return Array(data)
        }
        guard let list = document["endorsements"]?.arrayValue else { throw Invalid("endorsements is missing") }
        var endorsements: [FabricEndorsement] = []
        for (index, item) in list.enumerated() {
            endorsements.append(FabricEndorsement(endorser: try bytes(item["endorser"], "endorsements[\(index)].endorser"),
                                                  signature: try bytes(item["signature"], "endorsements[\(index)].signature")))
        }
        do {
            transaction = try EndorsedTransaction(
                channelHeader: try bytes(document["channelHeader"], "channelHeader"), signatureHeader: try bytes(document["signatureHeader"], "signatureHeader"),
                chaincodeProposalPayload: try bytes(document["chaincodeProposalPayload"], "chaincodeProposalPayload"),
                proposalResponsePayload: try bytes(document["proposalResponsePayload"], "proposalResponsePayload"), endorsements: endorsements)
        } catch let error as Invalid {
            throw error
        } catch {
            throw Invalid("\(error)")
        }
        key = BatchKey(origin: try string("origin"), treeSize: try number("treeSize"))
        chaincode = try string("chaincode")
        blockNumber = try number("blockNumber")
        validationCode = try string("validationCode")
        guard try string("transactionId") == transaction.transactionID else { throw Invalid("transactionId is not the transaction id in the channel header") }
        guard try string("channel") == transaction.channel else { throw Invalid("channel is not the channel in the channel header") }
    }
}
