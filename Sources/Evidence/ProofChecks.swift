import Crypto
import DeviceIdentity
import EmbeddedLedger
import FabricLedger
import Foundation
import HexEncoding
import JSONDocument
import Observations
import Transparency
import TransparencyLog
import X509

/// The checks of `ProofVerification`, one function each, in the order they run.
extension ProofVerification {
    /// A verified JWS: the certificate whose key made it, and the protected header.
    struct Signed {
        let certificate: Certificate
        let header: JWSHeader
        let thumbprint: String
        /// The one wardgate identity the certificate's subjectAltName names; nil when it names none or several.
        var identity: IdentityName? {
            let urns = CertificateCoding.wardgateURNs(certificate)
            return urns.count == 1 ? IdentityName(urn: urns[0]) : nil
        }
    }

    /// The time a signature is judged at (`SigningTimePolicy`): its JWS `iat`; for signatures made
    /// before wardgate wrote `iat`, the reading's `effectiveDateTime`, as they were always checked.
    struct SigningTime {
        let date: Date
        let iat: Int64?

        init?(of signed: Signed, observation: JSONValue, policy: SigningTimePolicy) {
            if let iat = signed.header.signedAt {
                self.date = policy.date(ofSigningTime: iat)
                self.iat = iat
            } else if let text = observation["effectiveDateTime"]?.stringValue, let device = FHIRTime.parseRFC3339(text) {
                self.date = device.date
                self.iat = nil
            } else {
                return nil
            }
        }

        var account: String {
            iat == nil
                ? "\(FHIRTime.instant(date)), the reading's effectiveDateTime: the JWS has no iat (signed before wardgate recorded signing times)"
                : "\(FHIRTime.instant(date)), the signing time (JWS iat)"
        }
    }

    /// The bundle's ledger anchor, once its receipt verified.
    enum Anchoring {
        case notAnchored
        case anchored(at: Date)
    }

    /// 1. The JWS over the Observation, with the device certificate its header names.
    static func checkSignature(_ parts: BundleParts) throws(CheckFailure) -> Passed<Signed> {
        let parsed = try CheckFailure.wrap { try JWSVerifier.parse(parts.jws) }
        let thumbprint = parsed.header.certificateThumbprint ?? ""
        let certificates = parts.certificatePEMs.compactMap { try? Certificate(pemEncoded: $0) }
        guard let certificate = certificates.first(where: { CertificateCoding.thumbprintBase64URL($0) == thumbprint }) else {
            throw CheckFailure("no certificate in the bundle has the JWS x5t#S256 \(thumbprint)")
        }
        let header = try CheckFailure.wrap { try JWSVerifier.verify(parts.jws, observation: parts.observation, certificate: certificate) }
        let signed = Signed(certificate: certificate, header: header, thumbprint: thumbprint)
        // Labelled from the certificate, never from the JWS `kid`, which anyone can write.
        let holder = signed.identity?.urn ?? "\(certificate.subject)"
        return Passed(signed, "ES256 by the key of the certificate of \(holder) over the RFC 8785 form of the Observation")
    }

    /// 2. The certificate that signed names, in its subjectAltName, the device the Observation is a reading of.
    static func checkSigner(_ signed: Signed?, observation: JSONValue) throws(CheckFailure) -> Passed<Void> {
        guard let signed else { throw CheckFailure("no verified signature whose signer to check") }
        let urns = CertificateCoding.wardgateURNs(signed.certificate)
        guard let signer = signed.identity else {
            throw CheckFailure(urns.isEmpty
                ? "the signing certificate's subjectAltName names no wardgate device"
                : "the signing certificate names \(urns.joined(separator: ", ")); a device certificate names exactly one device")
        }
        guard signer.kind == .device else { throw CheckFailure("the signing certificate stands for \(signer.urn), not a device") }
        let identifier = observation["device"]?["identifier"]
        guard identifier?["system"]?.stringValue == WardgateSystems.deviceIdentifier, let device = identifier?["value"]?.stringValue else {
            throw CheckFailure("the Observation names no device (device.identifier with system \(WardgateSystems.deviceIdentifier))")
        }
        guard device == signer.id else {
            throw CheckFailure("signed with the certificate of \(signer.urn), but the Observation is a reading of device \"\(device)\"")
        }
        if let keyID = signed.header.keyID, keyID != signer.id {
            throw CheckFailure("the JWS kid \"\(keyID)\" is not the device its certificate names (\(signer.urn))")
        }
        return Passed((), "the certificate names \(signer.urn), the device of the Observation")
    }

    /// 3. The device certificate chains to the ward CA, fits the device profile, and is valid and
    /// not revoked at the signing time.
    static func checkDeviceCertificate(
        _ signed: Signed?, at time: SigningTime?, ca: Certificate, crl: CertificateRevocationList?
    ) async -> Result<Passed<Void>, CheckFailure> {
        guard let signed else { return .failure(CheckFailure("no verified device certificate")) }
        guard let time else {
            return .failure(CheckFailure("no time to judge the certificate at: the JWS has no iat and the Observation no effectiveDateTime"))
        }
        guard let identity = signed.identity else {
            return .failure(CheckFailure("the certificate names no single wardgate identity in its subjectAltName"))
        }
        switch await ChainVerification.verify(signed.certificate, anchor: ca, at: time.date, crl: crl, expecting: identity) {
        case .success:
            return .success(Passed((), "chains to \(ca.subject), valid at \(time.account)\(crl == nil ? "" : ", not on the CRL")"))
        case .failure(let failure):
            return .failure(CheckFailure("\(failure), at \(time.account)"))
        }
    }

    /// 4. The checkpoint is signed by the gateway's key.
    static func checkCheckpoint(_ note: String, gatewayCertificate: Certificate) throws(CheckFailure) -> Passed<Checkpoint> {
        guard let key = P256.Signing.PublicKey(gatewayCertificate.publicKey) else {
            throw CheckFailure("the gateway certificate does not hold a P-256 key")
        }
        let origin = String(note.prefix { $0 != "\n" })
        let verifier = try CheckFailure.wrap { try ECDSAP256NoteVerifier(keyName: origin, publicKey: key) }
        let signed = try CheckFailure.wrap { try SignedCheckpoint(verifying: note, using: [verifier]) }
        let checkpoint = signed.checkpoint
        return Passed(checkpoint, "origin \(checkpoint.origin), size \(checkpoint.size), signed by \(gatewayCertificate.subject)")
    }

    /// 5. The leaf, recomputed from the bundle, is in the tree the checkpoint commits to.
    static func checkInclusion(_ parts: BundleParts, signed: Signed?, checkpoint: Checkpoint?) throws(CheckFailure) -> Passed<Void> {
        guard let checkpoint else { throw CheckFailure("no verified checkpoint to prove inclusion against") }
        let bundle = parts.document
        guard let indexText = bundle["leafIndex"]?.numberLexeme, let index = UInt64(indexText),
            let sizeText = bundle["treeSize"]?.numberLexeme, let size = UInt64(sizeText),
            let path = bundle["inclusionProof"]?.arrayValue
        else { throw CheckFailure("leafIndex, treeSize or inclusionProof is missing") }
        guard size == checkpoint.size else { throw CheckFailure("treeSize \(size) is not the checkpoint's size \(checkpoint.size)") }
        let hashes = try path.map { element throws(CheckFailure) -> MerkleHash in
            guard let hex = element.stringValue, let bytes = try? Hex.decode(hex), let hash = MerkleHash(bytes: bytes) else {
                throw CheckFailure("an inclusion path element is not a 32-byte hex hash")
            }
            return hash
        }
        // The leaf commits to the thumbprint the JWS names, verified or not: a bundle whose
        // signature failed still gets its own answer here.
        let thumbprint = signed?.thumbprint ?? ((try? JWSVerifier.parse(parts.jws))?.header.certificateThumbprint ?? "")
        let leafHash = try CheckFailure.wrap {
            try LeafEncoding.leafHash(observation: parts.observation, jws: parts.jws, certificateThumbprint: thumbprint)
        }
        try CheckFailure.wrap { try InclusionProof(leafIndex: index, treeSize: size, hashes: hashes).verify(leafHash: leafHash, rootHash: checkpoint.rootHash) }
        return Passed((), "leaf \(index) of \(size) reaches the checkpoint root")
    }

    /// 6. The ledger receipt anchors this very checkpoint: in a block signed by the ledger key, or
    /// (a Fabric receipt, with the endorsers' CAs given) in an endorsed Fabric transaction.
    static func checkReceipt(
        _ parts: BundleParts, checkpointVerified: Bool, ledgerKey: P256.Signing.PublicKey?, fabricCAs: [FabricOrganizationCA]
    ) throws(CheckFailure) -> Passed<Anchoring> {
        guard let receipt = parts.document["ledgerReceipt"], receipt != .null else {
            return Passed(.notAnchored, "none in the bundle: the reading is not anchored in the ledger yet")
        }
        if receipt["ledger"]?.stringValue == FabricReceipt.kind {
            return try checkFabricReceipt(receipt, checkpointVerified: checkpointVerified, fabricCAs: fabricCAs)
        }
        guard receipt["ledger"]?.stringValue == EmbeddedReceipt.kind else {
            throw CheckFailure("cannot check receipts of ledger kind \(receipt["ledger"]?.stringValue ?? "?")")
        }
        guard let ledgerKey else {
            throw CheckFailure("the bundle holds a ledger receipt; pass the ledger's public key (wardgate ledger key) to check it")
        }
        guard checkpointVerified else { throw CheckFailure("no verified checkpoint for the receipt to anchor") }
        let embedded = try CheckFailure.wrap { try EmbeddedReceipt(document: receipt) }
        let detail = try CheckFailure.wrap { try embedded.verify(checkpointNote: parts.checkpointNote, ledgerKey: ledgerKey) }
        return Passed(.anchored(at: Date(timeIntervalSince1970: Double(embedded.timeMs) / 1000)), detail)
    }

    /// 7. The signing time is not later than the anchor (`SigningTimePolicy.isConsistent`): a
    /// signature cannot claim to be younger than the ledger block that anchors it.
    static func checkSigningTime(
        _ time: SigningTime?, signatureVerified: Bool, anchoring: Anchoring?, policy: SigningTimePolicy
    ) throws(CheckFailure) -> Passed<Void> {
        guard signatureVerified else { throw CheckFailure("no verified signature to take a signing time from") }
        guard let time, time.iat != nil else {
            return Passed((), "no iat: the signature predates recorded signing times, so no anchor bounds it")
        }
        switch anchoring {
        case nil:
            throw CheckFailure("signed at \(time.account); no verified receipt to bound it by")
        case .notAnchored?:
            return Passed((), "signed at \(time.account); not anchored yet, so nothing bounds it yet")
        case .anchored(let anchoredAt)?:
            guard policy.isConsistent(signingTime: time.date, anchoredAt: anchoredAt) else {
                throw CheckFailure("the signature claims to be made at \(time.account), after the ledger block that anchors it (\(FHIRTime.instant(anchoredAt)))")
            }
            return Passed((), "signed at \(time.account), not after its anchor at \(FHIRTime.instant(anchoredAt))")
        }
    }
}
