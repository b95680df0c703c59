import Crypto
import DeviceIdentity
import FabricLedger
import FabricProtos
import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2Posix
import SigningKeys
import SwiftProtobuf
import Testing
import WardgateTestSupport

extension FabricSuites {
    /// The test double refuses what a Fabric peer refuses (msgvalidation.go, bccsp, the orderer),
    /// so the adapter's passing tests mean something.
    @Suite struct FabricTestPeerChecksTests {
        /// A raw Gateway client, to send requests the adapter would never build.
        func withGateway(port: Int, _ body: (Gateway_Gateway.Client<HTTP2ClientTransport.Posix>) async throws -> Void) async throws {
            let transport = try HTTP2ClientTransport.Posix(target: .ipv4(address: "127.0.0.1", port: port), transportSecurity: .plaintext)
            try await withGRPCClient(transport: transport) { client in try await body(Gateway_Gateway.Client(wrapping: client)) }
        }

        func endorseRequest(_ proposal: FabricProposal, signature: [UInt8]) -> Gateway_EndorseRequest {
            var request = Gateway_EndorseRequest()
            request.transactionID = proposal.transactionID
            request.channelID = "wards"
            request.proposedTransaction = proposal.signed(with: signature)
            return request
        }

        func refusal(_ call: () async throws -> Void) async -> String {
            do {
                try await call()
                return "accepted"
            } catch let error as RPCError {
                return FabricFailure.classify(error, stage: "test").description
            } catch {
                return "\(error)"
            }
        }

        @Test func highSSignaturesAndTamperedRequestsAreRefused() async throws {
            let fixture = try FabricFixture()
            let peer = try FabricTestPeer(arguments: fixture.peerArguments(), in: fixture.directory)
            let identity = try fixture.fabricIdentity()
            let arguments = [Array("GetHead".utf8), Array(FabricFixture.defaultOrigin.utf8)]
            try await withGateway(port: peer.port) { gateway in
                // High S over the right bytes: refused. The same signature in low-S form: accepted.
                let proposal = try FabricProposal(channel: "wards", chaincode: "wardgate-anchor", arguments: arguments, creator: identity.creator)
                let low = try P256.Signing.ECDSASignature(derRepresentation: try identity.sign(proposal.proposalBytes))
                let high = try P256.Signing.ECDSASignature(rawRepresentation: ES256.flippingS(Array(low.rawRepresentation)))
                #expect(fixture.client.key.publicKey.isValidSignature(high, for: proposal.proposalBytes), "the high-S twin is a valid ECDSA signature")
                let highS = await refusal { _ = try await gateway.endorse(endorseRequest(proposal, signature: Array(high.derRepresentation))) }
                #expect(highS.contains("access denied") && highS.contains("high-S"), "\(highS)")
                #expect(await refusal { _ = try await gateway.endorse(endorseRequest(proposal, signature: Array(low.derRepresentation))) } == "accepted")

                // A signature over other bytes.
                let other = try FabricProposal(channel: "wards", chaincode: "wardgate-anchor", arguments: arguments, creator: identity.creator)
                let wrongBytes = await refusal { _ = try await gateway.endorse(endorseRequest(other, signature: try identity.sign(proposal.proposalBytes))) }
                #expect(wrongBytes.contains("access denied"), "\(wrongBytes)")

                // A tx_id that is not hex(SHA-256(nonce ‖ creator)), and a non-zero epoch.
                for (name, change) in [("txid", { (header: inout Common_ChannelHeader) in header.txID = String(repeating: "0", count: 64) }),
                                       ("epoch", { (header: inout Common_ChannelHeader) in header.epoch = 1 })] {
                    let bytes = try rebuilt(proposal, changing: change)
                    var request = endorseRequest(proposal, signature: try identity.sign(bytes))
                    request.proposedTransaction.proposalBytes = Data(bytes)
                    let refused = await refusal { _ = try await gateway.endorse(request) }
                    #expect(refused.contains(name == "txid" ? "incorrectly computed txid" : "epoch is non-zero"), "\(name): \(refused)")
                }

                // Submit: a payload that is not the prepared one, or a high-S envelope signature.
                let anchorProposal = try FabricProposal(channel: "wards", chaincode: "wardgate-anchor", arguments: arguments, creator: identity.creator)
                let prepared = try await gateway.endorse(endorseRequest(anchorProposal, signature: try identity.sign(anchorProposal.proposalBytes))).preparedTransaction
                var tampered = prepared
                tampered.payload.append(0)
                tampered.signature = Data(try identity.sign(tampered.payload))
                var submit = Gateway_SubmitRequest()
                submit.transactionID = anchorProposal.transactionID
                submit.channelID = "wards"
                submit.preparedTransaction = tampered
                #expect(await refusal { _ = try await gateway.submit(submit) }.contains("not byte-identical"))
                let lowEnvelope = try P256.Signing.ECDSASignature(derRepresentation: try identity.sign(prepared.payload))
                var highEnvelope = prepared
                highEnvelope.signature = Data(try P256.Signing.ECDSASignature(rawRepresentation: ES256.flippingS(Array(lowEnvelope.rawRepresentation))).derRepresentation)
                submit.preparedTransaction = highEnvelope
                #expect(await refusal { _ = try await gateway.submit(submit) }.contains("high-S"))
            }
        }

        /// RegisterGateway: only an admin (OU admin) may register an origin's certificate; once
        /// registered, checkpoints signed with its key anchor.
        @Test func onlyAnAdminRegistersAGatewayAndItsCheckpointsThenAnchor() async throws {
            let fixture = try FabricFixture()
            let peer = try FabricTestPeer(arguments: fixture.peerArguments(), in: fixture.directory)
            let origin = "wardgate/hospital.example/ward-9c"
            let wardKey = P256.Signing.PrivateKey()
            let wardCertificate = try fixture.wardCA.issue(commonName: origin, key: wardKey).certificate
            let arguments = [AnchorContract.registerGateway, origin, try wardCertificate.serializeAsPEM().pemString].map { Array($0.utf8) }
            try await withGateway(port: peer.port) { gateway in
                func register(as identity: FabricSigningIdentity) async throws -> Protos_TxValidationCode {
                    let proposal = try FabricProposal(channel: "wards", chaincode: "wardgate-anchor", arguments: arguments, creator: identity.creator)
                    var prepared = try await gateway.endorse(endorseRequest(proposal, signature: try identity.sign(proposal.proposalBytes))).preparedTransaction
                    prepared.signature = Data(try identity.sign(prepared.payload))
                    var submit = Gateway_SubmitRequest()
                    submit.transactionID = proposal.transactionID
                    submit.channelID = "wards"
                    submit.preparedTransaction = prepared
                    _ = try await gateway.submit(submit)
                    var status = Gateway_SignedCommitStatusRequest()
                    status.request = Data(try FabricCommitStatusRequest.bytes(transactionID: proposal.transactionID, channel: "wards", creator: identity.creator))
                    status.signature = Data(try identity.sign(status.request))
                    return try await gateway.commitStatus(status).result
                }
                let refused = await refusal { _ = try await register(as: try fixture.fabricIdentity()) }
                #expect(refused.contains("chaincode-refused") && refused.contains("only an admin"), "\(refused)")
                let code = try await register(as: try fixture.fabricIdentity(fixture.admin))
                #expect(code == .valid)
            }
            let log = try TestLog(origin: origin, key: wardKey)
            try await withFabricLedger(fixture.settings(port: peer.port)) { ledger in
                guard case .anchored = await ledger.submit(try log.batch(adding: 2, anchoredSize: 0)) else { throw TestFailure("the newly registered origin must anchor") }
            }
        }

        func rebuilt(_ proposal: FabricProposal, changing change: (inout Common_ChannelHeader) -> Void) throws -> [UInt8] {
            var header = try Common_ChannelHeader(serializedBytes: proposal.channelHeader)
            change(&header)
            var outer = Common_Header()
            outer.channelHeader = try header.serializedBytes()
            outer.signatureHeader = Data(proposal.signatureHeader)
            var rebuilt = Protos_Proposal()
            rebuilt.header = try outer.serializedBytes()
            rebuilt.payload = Data(proposal.chaincodeProposalPayload)
            return try rebuilt.serializedBytes()
        }
    }
}
