import Crypto
import FabricProtos
import Foundation
import HexEncoding
import SwiftProtobuf

/// A chaincode proposal built exactly as fabric-gateway's `proposalbuilder.go` and
/// `transactioncontext.go` build one:
///
/// - `tx_id = hex(SHA-256(nonce ‖ creator))`, with a 24-byte random nonce;
/// - `ChannelHeader{ENDORSER_TRANSACTION, timestamp, channel_id, tx_id, epoch 0,
///   extension = ChaincodeHeaderExtension{chaincode_id.name}}`;
/// - `SignatureHeader{creator, nonce}`;
/// - payload `ChaincodeProposalPayload{input = ChaincodeInvocationSpec{chaincode_spec{chaincode_id,
///   input.args}}}`, the first argument being the function name.
///
/// The bytes that get signed are `proposalBytes`. Built from explicit nonce and time, so the
/// golden-vector test can compare them with a Python builder's.
public struct FabricProposal: Sendable, Hashable {
    public static let nonceLength = 24

    public let transactionID: String
    public let nonce: [UInt8]
    public let channelHeader: [UInt8]
    public let signatureHeader: [UInt8]
    /// `ChaincodeProposalPayload` bytes (there is never a transient map).
    public let chaincodeProposalPayload: [UInt8]
    /// `peer.Proposal{header, payload}` bytes: what the creator signs.
    public let proposalBytes: [UInt8]

    public init(channel: String, chaincode: String, arguments: [[UInt8]], creator: [UInt8], nonce: [UInt8], timestamp: Google_Protobuf_Timestamp) throws {
        guard nonce.count == Self.nonceLength else { throw FabricProtocolError("the nonce must be \(Self.nonceLength) bytes") }
        let transactionID = Self.transactionID(nonce: nonce, creator: creator)

        var chaincodeID = Protos_ChaincodeID()
        chaincodeID.name = chaincode
        var headerExtension = Protos_ChaincodeHeaderExtension()
        headerExtension.chaincodeID = chaincodeID
        var channelHeader = Common_ChannelHeader()
        channelHeader.type = Int32(Common_HeaderType.endorserTransaction.rawValue)
        channelHeader.timestamp = timestamp
        channelHeader.channelID = channel
        channelHeader.txID = transactionID
        channelHeader.epoch = 0
        channelHeader.extension = try headerExtension.serializedBytes()

        var signatureHeader = Common_SignatureHeader()
        signatureHeader.creator = Data(creator)
        signatureHeader.nonce = Data(nonce)

        var input = Protos_ChaincodeInput()
        input.args = arguments.map { Data($0) }
        var spec = Protos_ChaincodeSpec()
        spec.chaincodeID = chaincodeID
        spec.input = input
        var invocation = Protos_ChaincodeInvocationSpec()
        invocation.chaincodeSpec = spec
        var payload = Protos_ChaincodeProposalPayload()
        payload.input = try invocation.serializedBytes()

        var header = Common_Header()
        header.channelHeader = try channelHeader.serializedBytes()
        header.signatureHeader = try signatureHeader.serializedBytes()
        var proposal = Protos_Proposal()
        proposal.header = try header.serializedBytes()
        proposal.payload = try payload.serializedBytes()

        self.transactionID = transactionID
        self.nonce = nonce
        self.channelHeader = Array(header.channelHeader)
        self.signatureHeader = Array(header.signatureHeader)
        chaincodeProposalPayload = Array(proposal.payload)
        proposalBytes = try proposal.serializedBytes()
    }

    /// A proposal with a fresh random nonce, timestamped now.
    public init(channel: String, chaincode: String, arguments: [[UInt8]], creator: [UInt8], now: Date = Date()) throws {
        var generator = SystemRandomNumberGenerator()
        let nonce = (0..<Self.nonceLength).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        try self.init(channel: channel, chaincode: chaincode, arguments: arguments, creator: creator, nonce: nonce, timestamp: Google_Protobuf_Timestamp(date: now))
    }

    public static func transactionID(nonce: [UInt8], creator: [UInt8]) -> String {
        Hex.encode(SHA256.hash(data: nonce + creator))
    }

    /// What the endorsers' `ProposalResponsePayload.proposal_hash` must be (msgvalidation.go):
    /// SHA-256(channel header ‖ signature header ‖ chaincode proposal payload without transient data).
    public var proposalHash: [UInt8] {
        Array(SHA256.hash(data: channelHeader + signatureHeader + chaincodeProposalPayload))
    }

    /// The `SignedProposal` for a signature over `proposalBytes`.
    public func signed(with signature: [UInt8]) -> Protos_SignedProposal {
        var signed = Protos_SignedProposal()
        signed.proposalBytes = Data(proposalBytes)
        signed.signature = Data(signature)
        return signed
    }
}

/// `gateway.CommitStatusRequest` bytes: what the creator signs to ask for a commit status.
public enum FabricCommitStatusRequest {
    public static func bytes(transactionID: String, channel: String, creator: [UInt8]) throws -> [UInt8] {
        var request = Gateway_CommitStatusRequest()
        request.transactionID = transactionID
        request.channelID = channel
        request.identity = Data(creator)
        return try request.serializedBytes()
    }
}

/// The peer sent something that does not follow the Fabric protocol.
public struct FabricProtocolError: Error, Sendable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
