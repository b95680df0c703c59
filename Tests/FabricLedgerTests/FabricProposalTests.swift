import Crypto
import DeviceIdentity
import FabricLedger
import FabricProtos
import Foundation
import HexEncoding
import SigningKeys
import SwiftProtobuf
import Testing
import WardgateTestSupport
import TransparencyLog

extension FabricSuites {
    /// The bytes wardgate signs are the bytes the official protos give for the same inputs.
    @Suite struct FabricProposalTests {
        static let builder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Resources/fabric_golden_builder.py").path

        /// Golden vectors: a fixed nonce and timestamp, our bytes against the Python builder's.
        @Test func proposalAndCommitStatusBytesEqualThePythonBuilders() throws {
            let fixture = try FabricFixture()
            let identity = try fixture.fabricIdentity()
            let nonce = (0..<24).map { UInt8($0 &* 7 &+ 3) }
            let timestamp = Google_Protobuf_Timestamp(seconds: 1_763_719_200, nanos: 123_456_789)
            let log = try TestLog(key: fixture.gatewayLog.key)
            _ = try log.batch(adding: 3, anchoredSize: 0)
            let batch = try log.batch(adding: 4, anchoredSize: 3)
            let arguments = AnchorContract.anchorArguments(for: batch)
            let proposal = try FabricProposal(channel: "wards", chaincode: "wardgate-anchor", arguments: arguments, creator: identity.creator,
                                              nonce: nonce, timestamp: timestamp)
            let spec: [String: Any] = [
                "mspId": FabricFixture.wardMSP, "certificatePem": identity.certificatePEM, "nonceHex": Hex.encode(nonce),
                "seconds": 1_763_719_200, "nanos": 123_456_789, "channel": "wards", "chaincode": "wardgate-anchor",
                "argsHex": arguments.map { Hex.encode($0) },
            ]
            let python = try runPython([Self.builder], input: try JSONSerialization.data(withJSONObject: spec))
            let expected = try #require(try JSONSerialization.jsonObject(with: python) as? [String: String])
            #expect(expected["creator"] == Hex.encode(identity.creator))
            #expect(expected["txId"] == proposal.transactionID)
            #expect(expected["channelHeader"] == Hex.encode(proposal.channelHeader))
            #expect(expected["signatureHeader"] == Hex.encode(proposal.signatureHeader))
            #expect(expected["chaincodeProposalPayload"] == Hex.encode(proposal.chaincodeProposalPayload))
            #expect(expected["proposal"] == Hex.encode(proposal.proposalBytes))
            #expect(expected["proposalHash"] == Hex.encode(proposal.proposalHash))
            let commitStatus = try FabricCommitStatusRequest.bytes(transactionID: proposal.transactionID, channel: "wards", creator: identity.creator)
            #expect(expected["commitStatusRequest"] == Hex.encode(commitStatus))
            // The anchor arguments are the contract's: Anchor(origin, treeSize, note, proof JSON).
            #expect(String(decoding: arguments[0], as: UTF8.self) == "Anchor")
            #expect(String(decoding: arguments[2], as: UTF8.self) == "7")
            #expect(String(decoding: arguments[4], as: UTF8.self).hasPrefix("{\"fromSize\":3,\"toSize\":7,\"hashes\":[\""))
        }

        /// tx_id = hex(SHA-256(nonce ‖ creator)) and the creator is SerializedIdentity{mspid, PEM}.
        @Test func transactionIDAndCreatorFollowTheGatewayClients() throws {
            let fixture = try FabricFixture()
            let identity = try fixture.fabricIdentity()
            let creator = try Msp_SerializedIdentity(serializedBytes: identity.creator)
            #expect(creator.mspid == FabricFixture.wardMSP)
            #expect(String(decoding: creator.idBytes, as: UTF8.self) == identity.certificatePEM)
            #expect(identity.certificatePEM.hasPrefix("-----BEGIN CERTIFICATE-----\n") && identity.certificatePEM.hasSuffix("-----END CERTIFICATE-----\n"))
            let proposal = try FabricProposal(channel: "wards", chaincode: "wardgate-anchor", arguments: [Array("GetHead".utf8)], creator: identity.creator)
            #expect(proposal.nonce.count == 24)
            #expect(proposal.transactionID == Hex.encode(SHA256.hash(data: proposal.nonce + identity.creator)))
            let header = try Common_ChannelHeader(serializedBytes: proposal.channelHeader)
            #expect(header.type == Int32(Common_HeaderType.endorserTransaction.rawValue))
            #expect(header.epoch == 0 && header.txID == proposal.transactionID && header.channelID == "wards")
        }

        /// Every signature is DER with s ≤ n/2 and verifies over the exact bytes. Without the
        /// normalization about half of these would be high-S.
        @Test func signaturesAreAlwaysLowSAndDER() throws {
            let fixture = try FabricFixture()
            let identity = try fixture.fabricIdentity()
            let publicKey = fixture.client.key.publicKey
            for index in 0..<64 {
                let message = Array("proposal \(index)".utf8)
                let der = try identity.sign(message)
                let signature = try P256.Signing.ECDSASignature(derRepresentation: der)
                #expect(ES256.isLowS(Array(signature.rawRepresentation)), "signature \(index) is high-S")
                #expect(publicKey.isValidSignature(signature, for: message))
            }
        }
    }
}

/// `python3 arguments` with `input` on standard input; its standard output, or a failure naming what it wrote on standard error.
func runPython(_ arguments: [String], input: Data? = nil) throws -> Data {
    let run = try ProcessRunner.runTool(["python3"] + arguments, input: input.map { Array($0) })
    guard run.status == 0 else { throw TestFailure("python3 \(arguments) failed: \(run.stderr)") }
    return Data(run.stdout.utf8)
}
