import Crypto
import FabricProtos
import Foundation
import SwiftProtobuf

/// One endorsement of a transaction: the endorsing peer's `msp.SerializedIdentity` and its
/// signature over `proposal_response_payload ‖ endorser`.
public struct FabricEndorsement: Sendable, Hashable {
    public let endorser: [UInt8]
    public let signature: [UInt8]

    public init(endorser: [UInt8], signature: [UInt8]) {
        self.endorser = endorser
        self.signature = signature
    }

    /// The endorser's MSP id and certificate PEM.
    public var identity: (mspID: String, certificatePEM: String)? {
        guard let identity = try? Msp_SerializedIdentity(serializedBytes: endorser) else { return nil }
        return (identity.mspid, String(decoding: identity.idBytes, as: UTF8.self))
    }
}

/// A write in the endorsed read-write set.
public struct FabricWrite: Sendable, Hashable {
    public let namespace: String
    public let key: String
    public let isDelete: Bool
    public let value: [UInt8]
}

/// What a prepared (or committed) transaction envelope says, taken apart:
/// `Payload{header, data = Transaction{actions[0] = {header, ChaincodeActionPayload{
/// chaincode_proposal_payload, action = ChaincodeEndorsedAction{proposal_response_payload,
/// endorsements}}}}}` (fabric `internal/pkg/gateway/apiutils.go`, `prepareTransaction`).
public struct EndorsedTransaction: Sendable {
    public let channelHeader: [UInt8]
    public let signatureHeader: [UInt8]
    public let chaincodeProposalPayload: [UInt8]
    public let proposalResponsePayload: [UInt8]
    public let endorsements: [FabricEndorsement]
    /// Decoded from the fields above.
    public let transactionID: String
    public let channel: String
    public let proposalHash: [UInt8]
    public let response: (status: Int32, message: String, payload: [UInt8])
    public let writes: [FabricWrite]

    /// Parses an envelope's payload bytes.
    public init(envelopePayload: some Collection<UInt8>) throws(FabricProtocolError) {
        do {
            let payload = try Common_Payload(serializedBytes: Array(envelopePayload))
            let transaction = try Protos_Transaction(serializedBytes: payload.data)
            guard transaction.actions.count == 1, let action = transaction.actions.first else {
                throw FabricProtocolError("the transaction has \(transaction.actions.count) actions; a chaincode invocation has one")
            }
            let actionPayload = try Protos_ChaincodeActionPayload(serializedBytes: action.payload)
            try self.init(
                channelHeader: Array(payload.header.channelHeader), signatureHeader: Array(payload.header.signatureHeader),
                chaincodeProposalPayload: Array(actionPayload.chaincodeProposalPayload),
                proposalResponsePayload: Array(actionPayload.action.proposalResponsePayload),
                endorsements: actionPayload.action.endorsements.map { FabricEndorsement(endorser: Array($0.endorser), signature: Array($0.signature)) })
            guard Array(action.header) == signatureHeader else {
                throw FabricProtocolError("the transaction action's header is not the payload's signature header")
            }
        } catch let error as FabricProtocolError {
            throw error
        } catch {
            throw FabricProtocolError("the transaction envelope does not decode: \(error)")
        }
    }

    /// Rebuilds the parts from a receipt's stored fields.
    public init(channelHeader: [UInt8], signatureHeader: [UInt8], chaincodeProposalPayload: [UInt8], proposalResponsePayload: [UInt8],
                endorsements: [FabricEndorsement]) throws(FabricProtocolError) {
        self.channelHeader = channelHeader
        self.signatureHeader = signatureHeader
        self.chaincodeProposalPayload = chaincodeProposalPayload
        self.proposalResponsePayload = proposalResponsePayload
        self.endorsements = endorsements
        do {
            let header = try Common_ChannelHeader(serializedBytes: channelHeader)
            transactionID = header.txID
            channel = header.channelID
            let responsePayload = try Protos_ProposalResponsePayload(serializedBytes: proposalResponsePayload)
            proposalHash = Array(responsePayload.proposalHash)
            let chaincodeAction = try Protos_ChaincodeAction(serializedBytes: responsePayload.extension)
            response = (chaincodeAction.response.status, chaincodeAction.response.message, Array(chaincodeAction.response.payload))
            let readWriteSet = try Rwset_TxReadWriteSet(serializedBytes: chaincodeAction.results)
            var writes: [FabricWrite] = []
            for namespace in readWriteSet.nsRwset {
                let set = try Kvrwset_KVRWSet(serializedBytes: namespace.rwset)
                writes += set.writes.map { FabricWrite(namespace: namespace.namespace, key: $0.key, isDelete: $0.isDelete, value: Array($0.value)) }
            }
            self.writes = writes
        } catch {
            throw FabricProtocolError("the endorsed transaction does not decode: \(error)")
        }
    }

    /// The proposal hash recomputed from this transaction's own header and payload.
    public var recomputedProposalHash: [UInt8] {
        Array(SHA256.hash(data: channelHeader + signatureHeader + chaincodeProposalPayload))
    }
}
