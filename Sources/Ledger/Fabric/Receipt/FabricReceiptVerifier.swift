import Crypto
import DeviceIdentity
import FabricProtos
import Foundation
import SwiftProtobuf
import TransparencyLog
import X509

/// One check of a Fabric receipt, named as `wardgate verify` prints it.
public struct FabricReceiptCheck: Sendable, Hashable, CustomStringConvertible {
    public static let endorsements = "fabric-endorsements"
    public static let endorserChain = "fabric-endorser-chain"
    public static let writeSet = "fabric-write-set"
    public static let coversLeaf = "fabric-covers-leaf"

    public let name: String
    public let passed: Bool
    public let detail: String

    public var description: String { "\(name): \(passed ? "passed" : "FAILED"): \(detail)" }
}

/// Checks a Fabric receipt offline, with only the bundle and the CA certificate of each
/// endorsing organization. A pure function of its inputs; what it proves is in
/// docs/proof-bundle.md.
public enum FabricReceiptVerifier {
    /// - Parameters:
    ///   - checkpointNote: the bundle's signed checkpoint (its signature is the bundle's own check).
    ///   - leafIndex, inclusionVerified: the bundle's leaf and whether its inclusion proof verified
    ///     against that checkpoint.
    ///   - endorserCAs: the CAs of each endorsing organization (roots and intermediates).
    public static func verify(receipt: FabricReceipt, checkpointNote: String, leafIndex: UInt64, inclusionVerified: Bool,
                              endorserCAs: [FabricOrganizationCA]) async -> [FabricReceiptCheck] {
        [
            endorsements(of: receipt),
            await endorserChain(of: receipt, cas: endorserCAs),
            writeSet(of: receipt, checkpointNote: checkpointNote),
            coversLeaf(receipt: receipt, leafIndex: leafIndex, inclusionVerified: inclusionVerified),
        ]
    }

    /// Each endorsement verifies over `proposal_response_payload ‖ endorser`, and the payload
    /// answers this receipt's proposal (its hash binds the transaction id and channel header).
    static func endorsements(of receipt: FabricReceipt) -> FabricReceiptCheck {
        func fail(_ detail: String) -> FabricReceiptCheck { FabricReceiptCheck(name: FabricReceiptCheck.endorsements, passed: false, detail: detail) }
        let transaction = receipt.transaction
        guard transaction.proposalHash == transaction.recomputedProposalHash else {
            return fail("the proposal response payload answers another proposal than transaction \(transaction.transactionID)")
        }
        guard !transaction.endorsements.isEmpty else { return fail("the receipt has no endorsement") }
        var endorsers: [String] = []
        for (index, endorsement) in transaction.endorsements.enumerated() {
            guard let identity = endorsement.identity, let certificate = try? Certificate(pemEncoded: identity.certificatePEM) else {
                return fail("endorsement \(index): the endorser identity is not a serialized X.509 identity")
            }
            guard let key = P256.Signing.PublicKey(certificate.publicKey),
                let signature = try? P256.Signing.ECDSASignature(derRepresentation: endorsement.signature),
                key.isValidSignature(signature, for: transaction.proposalResponsePayload + endorsement.endorser)
            else { return fail("endorsement \(index) (\(identity.mspID), \(certificate.subject)): the signature does not verify") }
            endorsers.append("\(identity.mspID) (\(certificate.subject))")
        }
        return FabricReceiptCheck(name: FabricReceiptCheck.endorsements, passed: true,
                                  detail: "\(endorsers.count) endorsement(s) of transaction \(transaction.transactionID): \(endorsers.joined(separator: ", "))")
    }

    /// Each endorser's certificate chains to one of the given organizations' root CAs at the
    /// transaction's time (through its intermediates, issued by a leaf of its CA tree), and every
    /// given organization backs at least one endorsement.
    static func endorserChain(of receipt: FabricReceipt, cas: [FabricOrganizationCA]) async -> FabricReceiptCheck {
        func fail(_ detail: String) -> FabricReceiptCheck { FabricReceiptCheck(name: FabricReceiptCheck.endorserChain, passed: false, detail: detail) }
        guard !cas.isEmpty else { return fail("no endorsing organization's CA was given (--fabric-ca)") }
        guard let header = try? Common_ChannelHeader(serializedBytes: receipt.transaction.channelHeader) else { return fail("the channel header does not decode") }
        let time = header.timestamp.date
        var backed = Set<Int>()
        for (index, endorsement) in receipt.transaction.endorsements.enumerated() {
            guard let identity = endorsement.identity, let certificate = try? Certificate(pemEncoded: identity.certificatePEM) else {
                return fail("endorsement \(index): the endorser identity is not a serialized X.509 identity")
            }
            var reasons: [String] = []
            var chained = false
            for (caIndex, ca) in cas.enumerated() {
                if let problem = await chainProblem(certificate, to: ca, at: time) {
                    reasons.append("\(ca.name): \(problem)")
                } else {
                    backed.insert(caIndex)
                    chained = true
                }
            }
            guard chained else {
                return fail("endorser \(identity.mspID) (\(certificate.subject)) does not chain to any given CA at \(time): \(reasons.joined(separator: "; "))")
            }
        }
        if let missing = cas.indices.first(where: { !backed.contains($0) }) {
            return fail("no endorsement chains to the given CA \(cas[missing].name)")
        }
        return FabricReceiptCheck(name: FabricReceiptCheck.endorserChain, passed: true,
                                  detail: "every endorser chains to a given CA at \(time), and every given CA backs an endorsement")
    }

    /// Why `certificate` does not chain to any root of `ca` at `time` (nil: it does).
    private static func chainProblem(_ certificate: Certificate, to ca: FabricOrganizationCA, at time: Date) async -> String? {
        var failures: [String] = []
        for root in ca.roots {
            switch await ChainVerification.verify(certificate, anchor: root, intermediates: ca.intermediates, at: time) {
            case .success: return ca.issuerProblem(of: certificate)
            case .failure(let failure): failures.append("\(failure)")
            }
        }
        return failures.joined(separator: "; ")
    }

    /// The endorsed write set puts this exact checkpoint under its anchor key.
    static func writeSet(of receipt: FabricReceipt, checkpointNote: String) -> FabricReceiptCheck {
        func fail(_ detail: String) -> FabricReceiptCheck { FabricReceiptCheck(name: FabricReceiptCheck.writeSet, passed: false, detail: detail) }
        guard let checkpoint = try? Checkpoint(parsing: SignedNote(parsing: checkpointNote).text) else { return fail("the bundle's checkpoint does not parse") }
        guard receipt.key.origin == checkpoint.origin, receipt.key.treeSize == checkpoint.size else {
            return fail("the receipt is for \(receipt.key), the checkpoint is \(checkpoint.origin)@\(checkpoint.size)")
        }
        guard receipt.validationCode == "VALID" else { return fail("the gateway reported validation code \(receipt.validationCode)") }
        let key = AnchorContract.anchorKey(origin: checkpoint.origin, treeSize: checkpoint.size)
        guard let write = receipt.transaction.writes.first(where: { $0.namespace == receipt.chaincode && $0.key == key && !$0.isDelete }) else {
            return fail("the endorsed write set of \(receipt.chaincode) has no anchor record for \(receipt.key)")
        }
        guard let record = try? AnchorRecord(json: write.value) else { return fail("the written anchor record does not decode") }
        guard record.checkpointNote == checkpointNote, record.rootHash == checkpoint.rootHash, record.origin == checkpoint.origin, record.treeSize == checkpoint.size else {
            return fail("the endorsed anchor record holds another checkpoint than the bundle's")
        }
        return FabricReceiptCheck(name: FabricReceiptCheck.writeSet, passed: true,
                                  detail: "the endorsed write set anchors \(receipt.key) with root \(checkpoint.rootHash.hex.prefix(16))… (block \(receipt.blockNumber), \(receipt.validationCode) as the gateway reported)")
    }

    static func coversLeaf(receipt: FabricReceipt, leafIndex: UInt64, inclusionVerified: Bool) -> FabricReceiptCheck {
        guard leafIndex < receipt.key.treeSize else {
            return FabricReceiptCheck(name: FabricReceiptCheck.coversLeaf, passed: false, detail: "leaf \(leafIndex) is beyond the anchored size \(receipt.key.treeSize)")
        }
        guard inclusionVerified else {
            return FabricReceiptCheck(name: FabricReceiptCheck.coversLeaf, passed: false, detail: "the leaf's inclusion proof does not verify against the anchored checkpoint")
        }
        return FabricReceiptCheck(name: FabricReceiptCheck.coversLeaf, passed: true, detail: "leaf \(leafIndex) is in the anchored tree of size \(receipt.key.treeSize)")
    }
}
