import Crypto
import DeviceIdentity
import FabricLedger
import FabricProtos
import Foundation
import JSONDocument
import Ledger
import SwiftProtobuf
import Testing
import WardgateTestSupport
import TransparencyLog
import X509

extension FabricSuites {
    /// A Fabric receipt checked offline, and each kind of tampering caught by the check that names it.
    @Suite struct FabricReceiptTests {
        struct Anchored {
            let fixture: FabricFixture
            let log: TestLog
            let batch: LedgerBatch
            let receipt: FabricReceipt
            let otherNote: String
        }

        /// One real receipt from the test peer: a batch of 6 leaves (after a first of 2).
        static func anchored() async throws -> Anchored {
            let fixture = try FabricFixture()
            let peer = try FabricTestPeer(arguments: fixture.peerArguments(), in: fixture.directory)
            let log = try TestLog(key: fixture.gatewayLog.key)
            let first = try log.batch(adding: 2, anchoredSize: 0)
            let batch = try log.batch(adding: 4, anchoredSize: 2)
            let document = try await withFabricLedger(fixture.settings(port: peer.port)) { ledger -> JSONValue in
                guard case .anchored = await ledger.submit(first), case .anchored(let receipt) = await ledger.submit(batch) else { throw TestFailure("not anchored") }
                return receipt.document
            }
            return Anchored(fixture: fixture, log: log, batch: batch, receipt: try FabricReceipt(document: document), otherNote: first.checkpointNote)
        }

        /// `cas`: one root CA per organization; `organizations`: an organization's roots and intermediates each.
        func verify(_ receipt: FabricReceipt, note: String, leaf: UInt64 = 3, inclusion: Bool = true, cas: [Certificate] = [],
                    organizations: [[Certificate]] = []) async throws -> [FabricReceiptCheck] {
            let endorserCAs = try (cas.map { [$0] } + organizations).map { try FabricOrganizationCA(certificates: $0) }
            return await FabricReceiptVerifier.verify(receipt: receipt, checkpointNote: note, leafIndex: leaf, inclusionVerified: inclusion, endorserCAs: endorserCAs)
        }

        func failed(_ checks: [FabricReceiptCheck]) -> [String] { checks.filter { !$0.passed }.map(\.name) }

        /// Rebuilds a receipt from its document with members replaced.
        func replacing(_ receipt: FabricReceipt, _ replacements: [String: JSONValue]) throws -> FabricReceipt {
            guard case .object(let members) = receipt.document else { throw TestFailure("not an object") }
            return try FabricReceipt(document: .object(members.map { member in replacements[member.key].map { JSONMember(member.key, $0) } ?? member }))
        }

        @Test func aReceiptVerifiesOfflineAndEachTamperingIsNamed() async throws {
            let anchored = try await Self.anchored()
            let receipt = anchored.receipt
            let note = anchored.batch.checkpointNote
            let peerCA = anchored.fixture.peerCA.certificate
            // The leaf's inclusion proof, as the bundle's inclusion check computes it.
            let checkpoint = try Checkpoint(parsing: SignedNote(parsing: note).text)
            let inclusion = try anchored.log.inclusionProof(leafIndex: 3, treeSize: 6).isValid(leafHash: try anchored.log.leafHash(3), rootHash: checkpoint.rootHash)
            #expect(inclusion)

            let good = try await verify(receipt, note: note, inclusion: inclusion, cas: [peerCA])
            #expect(good.map(\.name) == [FabricReceiptCheck.endorsements, FabricReceiptCheck.endorserChain, FabricReceiptCheck.writeSet, FabricReceiptCheck.coversLeaf])
            #expect(failed(good).isEmpty, "\(good)")

            // The wrong CA (the ward's own, not the endorsing org's), or none.
            let wrongCA = try await verify(receipt, note: note, cas: [anchored.fixture.wardCA.certificate])
            #expect(failed(wrongCA) == [FabricReceiptCheck.endorserChain], "\(wrongCA)")
            #expect(failed(try await verify(receipt, note: note, cas: [])) == [FabricReceiptCheck.endorserChain])
            // A CA given for an organization that did not endorse.
            #expect(failed(try await verify(receipt, note: note, cas: [peerCA, anchored.fixture.tlsCA.certificate])) == [FabricReceiptCheck.endorserChain])

            // Another checkpoint than the one endorsed.
            #expect(failed(try await verify(receipt, note: anchored.otherNote, leaf: 1, cas: [peerCA])) == [FabricReceiptCheck.writeSet])

            // A leaf the checkpoint does not cover, or whose inclusion proof failed.
            #expect(failed(try await verify(receipt, note: note, leaf: 6, cas: [peerCA])) == [FabricReceiptCheck.coversLeaf])
            #expect(failed(try await verify(receipt, note: note, inclusion: false, cas: [peerCA])) == [FabricReceiptCheck.coversLeaf])

            // An endorsement signature changed.
            var signatures = receipt.transaction.endorsements
            let original = try P256.Signing.ECDSASignature(derRepresentation: signatures[0].signature)
            var raw = Array(original.rawRepresentation)
            raw[40] ^= 0x01
            signatures[0] = FabricEndorsement(endorser: signatures[0].endorser, signature: Array(try P256.Signing.ECDSASignature(rawRepresentation: raw).derRepresentation))
            let badSignature = try rebuilt(receipt, endorsements: signatures)
            #expect(failed(try await verify(badSignature, note: note, cas: [peerCA])) == [FabricReceiptCheck.endorsements])

            // The endorsed payload rewritten to hold another checkpoint: the signatures no longer verify.
            let rewritten = try rebuilt(receipt, proposalResponsePayload: try payload(of: receipt, holding: anchored.otherNote))
            #expect(failed(try await verify(rewritten, note: note, cas: [peerCA])).contains(FabricReceiptCheck.endorsements))

            // A rogue endorser that signs correctly but is not of the endorsing organization.
            let rogueCA = try TestCA(name: "rogue.example")
            let forged = try endorsed(receipt, by: try rogueCA.issue(commonName: "peer0.rogue.example"))
            #expect(failed(try await verify(forged, note: note, cas: [peerCA])) == [FabricReceiptCheck.endorserChain])

            // Another transaction id (consistent in the document and the channel header): the
            // endorsements answer another proposal.
            var header = try Common_ChannelHeader(serializedBytes: receipt.transaction.channelHeader)
            header.txID = String(repeating: "ab", count: 32)
            let relabelled = try replacing(receipt, ["channelHeader": .string((try header.serializedBytes() as Data).base64EncodedString()),
                                                     "transactionId": .string(header.txID)])
            #expect(failed(try await verify(relabelled, note: note, cas: [peerCA])) == [FabricReceiptCheck.endorsements])
            // And a document whose transactionId disagrees with its channel header does not parse.
            #expect(throws: FabricReceipt.Invalid.self) { try replacing(receipt, ["transactionId": .string(header.txID)]) }
        }

        @Test("an endorser issued by an intermediate CA verifies with its organization's root and intermediate in one PEM bundle (as an MSP holds them); the wrong root, no intermediate, or an identity from a CA that issued an intermediate fails fabric-endorser-chain")
        func intermediateCAs() async throws {
            let anchored = try await Self.anchored()
            let note = anchored.batch.checkpointNote
            let root = try TestCA(name: "peers2.consortium.example")
            let intermediate = try TestCA(name: "ica.peers2.consortium.example", issuer: root)
            // The endorsement's identity carries only the leaf, as Fabric's SerializedIdentity does.
            let byIntermediate = try endorsed(anchored.receipt, by: try intermediate.issue(commonName: "peer0.peers2.consortium.example", organizationalUnit: "peer"))
            let bundle = anchored.fixture.directory.file("peers2-msp.pem")
            try writeFile(try [root, intermediate].map { try $0.certificate.serializeAsPEM().pemString + "\n" }.joined(), to: bundle)
            let organization = try CertificateCoding.loadCertificates(bundle)
            #expect(organization.count == 2)

            let good = try await verify(byIntermediate, note: note, organizations: [organization])
            #expect(failed(good).isEmpty, "\(good)")
            #expect(failed(try await verify(byIntermediate, note: note, cas: [root.certificate])) == [FabricReceiptCheck.endorserChain])
            let wrongRoot = try await verify(byIntermediate, note: note, organizations: [[anchored.fixture.peerCA.certificate, intermediate.certificate]])
            #expect(failed(wrongRoot) == [FabricReceiptCheck.endorserChain], "\(wrongRoot)")
            let byRoot = try await verify(try endorsed(anchored.receipt, by: try root.issue(commonName: "peer1.peers2.consortium.example")), note: note, organizations: [organization])
            #expect(failed(byRoot) == [FabricReceiptCheck.endorserChain] && byRoot[1].detail.contains("leaves of its CA tree"), "\(byRoot)")
            #expect(throws: FabricProtocolError.self) { try FabricOrganizationCA(certificates: [intermediate.certificate]) }
        }

        /// The receipt endorsed by `endorser` alone (its leaf certificate in the SerializedIdentity).
        func endorsed(_ receipt: FabricReceipt, by endorser: TestIdentity, mspID: String = FabricFixture.peerMSP) throws -> FabricReceipt {
            var identity = Msp_SerializedIdentity()
            identity.mspid = mspID
            identity.idBytes = Data((try endorser.certificate.serializeAsPEM().pemString + "\n").utf8)
            let bytes: [UInt8] = try identity.serializedBytes()
            let signature = try endorser.key.signature(for: receipt.transaction.proposalResponsePayload + bytes)
            return try rebuilt(receipt, endorsements: [FabricEndorsement(endorser: bytes, signature: Array(signature.derRepresentation))])
        }

        func rebuilt(_ receipt: FabricReceipt, endorsements: [FabricEndorsement]? = nil, proposalResponsePayload: [UInt8]? = nil) throws -> FabricReceipt {
            let transaction = receipt.transaction
            return FabricReceipt(key: receipt.key, chaincode: receipt.chaincode, blockNumber: receipt.blockNumber, validationCode: receipt.validationCode,
                                 transaction: try EndorsedTransaction(
                                    channelHeader: transaction.channelHeader, signatureHeader: transaction.signatureHeader,
                                    chaincodeProposalPayload: transaction.chaincodeProposalPayload,
                                    proposalResponsePayload: proposalResponsePayload ?? transaction.proposalResponsePayload,
                                    endorsements: endorsements ?? transaction.endorsements))
        }

        /// The receipt's response payload with the anchor record's note replaced.
        func payload(of receipt: FabricReceipt, holding note: String) throws -> [UInt8] {
            var responsePayload = try Protos_ProposalResponsePayload(serializedBytes: receipt.transaction.proposalResponsePayload)
            var action = try Protos_ChaincodeAction(serializedBytes: responsePayload.extension)
            var readWriteSet = try Rwset_TxReadWriteSet(serializedBytes: action.results)
            var set = try Kvrwset_KVRWSet(serializedBytes: readWriteSet.nsRwset[0].rwset)
            for index in set.writes.indices {
                guard let text = String(data: set.writes[index].value, encoding: .utf8), text.contains("checkpointNote") else { continue }
                let value = try JSONParser.parse(text)
                guard case .object(let members) = value else { continue }
                set.writes[index].value = Data(JSONValue.object(members.map { $0.key == "checkpointNote" ? JSONMember($0.key, .string(note)) : $0 }).serializedBytes)
            }
            readWriteSet.nsRwset[0].rwset = try set.serializedBytes()
            action.results = try readWriteSet.serializedBytes()
            responsePayload.extension = try action.serializedBytes()
            return try responsePayload.serializedBytes()
        }
    }
}
