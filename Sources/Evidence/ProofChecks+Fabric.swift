import FabricLedger
import Foundation
import JSONDocument
import X509

/// A Fabric receipt's part of `ProofVerification`: `receipt` passes when it decodes and the
/// endorsing organizations' CAs are given; `FabricReceiptVerifier`'s four checks follow it.
extension ProofVerification {
    /// The bundle's Fabric receipt, when it holds one that decodes.
    static func fabricReceipt(in parts: BundleParts) -> FabricReceipt? {
        guard let receipt = parts.document["ledgerReceipt"], receipt["ledger"]?.stringValue == FabricReceipt.kind else { return nil }
        return try? FabricReceipt(document: receipt)
    }

    /// 6 (Fabric). The anchor time is the transaction's proposal time, which bounds the signing
    /// time as an embedded block's time does (it is the gateway's clock, endorsed by the peers).
    static func checkFabricReceipt(_ document: JSONValue, checkpointVerified: Bool, fabricCAs: [FabricOrganizationCA]) throws(CheckFailure) -> Passed<Anchoring> {
        let receipt = try CheckFailure.wrap { try FabricReceipt(document: document) }
        guard !fabricCAs.isEmpty else {
            throw CheckFailure("the bundle holds a Fabric receipt; pass the CA certificates of each endorsing organization (--fabric-ca PEM, repeatable: one file per organization, its root CA and any intermediate CAs) to check it")
        }
        guard checkpointVerified else { throw CheckFailure("no verified checkpoint for the receipt to anchor") }
        guard let proposedAt = receipt.proposedAt else { throw CheckFailure("the Fabric receipt's channel header does not decode") }
        return Passed(.anchored(at: proposedAt),
                      "Fabric transaction \(receipt.transactionID) on channel \(receipt.channel) (block \(receipt.blockNumber)) anchors \(receipt.key); its four checks follow")
    }

    /// 6a–6d: endorsements, the endorsers' chains to the given CAs, the endorsed write set, the leaf.
    static func fabricChecks(_ receipt: FabricReceipt, parts: BundleParts, inclusionVerified: Bool, fabricCAs: [FabricOrganizationCA]) async -> [Check] {
        let leafIndex = parts.document["leafIndex"]?.numberLexeme.flatMap { UInt64($0) } ?? UInt64.max
        return await FabricReceiptVerifier.verify(
            receipt: receipt, checkpointNote: parts.checkpointNote, leafIndex: leafIndex, inclusionVerified: inclusionVerified, endorserCAs: fabricCAs
        ).map { Check(name: $0.name, passed: $0.passed, detail: $0.detail) }
    }
}
