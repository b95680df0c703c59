import Crypto
import Foundation
import HexEncoding
import X509

/// Enrolls devices and the gateway: key (generated here, or the CSR's), certificate from the CA,
/// installation in the keystore together with the CA certificate and current CRL.
public enum Enrollment {
    public static let defaultValidityDays = 365

    public struct Outcome: Sendable {
        public var kind: IdentityKind
        public var id: String
        public var certificate: Certificate
        public var serialHex: String
        /// `x5t#S256` of the new certificate.
        public var thumbprint: String
        public var certificatePath: String
        /// nil for CSR enrollment: the requester keeps the key.
        public var keyPath: String?
        /// Serial of the certificate this one replaced, when re-enrolling (rotation).
        public var replacedSerialHex: String?
    }

    public static func enroll(
        kind: IdentityKind,
        id: String,
        ca: CertificateAuthority,
        keystore: Keystore,
        csrPath: String? = nil,
        validityDays: Int = defaultValidityDays,
        now: Date = Date()
    ) throws(IdentityError) -> Outcome {
        try SubjectIdentifier.validate(id)
        // The keystore knows its own identities even when the CA's index does not (a CA index
        // restored from an older backup); the CA checks its index itself when it issues.
        if let holder = IdentityNamespaces.collision(of: IdentityName(kind: kind, id: id), among: keystore.enrolledIDs(kind: kind.other)) {
            throw .identifierInUse(id: id, wanted: kind, holder: holder,
                                   source: "enrolled in the keystore \(keystore.identityDirectory(kind: holder.kind, id: holder.id))")
        }
        try keystore.synchronize(with: ca)
        let previous = try? keystore.certificate(kind: kind, id: id)

        let generatedKey: P256.Signing.PrivateKey?
        let publicKey: P256.Signing.PublicKey
        if let csrPath {
            publicKey = try SigningRequest.loadP256PublicKey(path: csrPath, expectedID: id)
            generatedKey = nil
        } else {
            let key = P256.Signing.PrivateKey()
            generatedKey = key
            publicKey = key.publicKey
        }
        let certificate = try ca.issue(kind: kind, id: id, publicKey: publicKey, validityDays: validityDays, now: now)
        try keystore.install(certificate: certificate, privateKey: generatedKey, kind: kind, id: id)
        return Outcome(
            kind: kind,
            id: id,
            certificate: certificate,
            serialHex: CertificateCoding.serialHex(certificate.serialNumber),
            thumbprint: CertificateCoding.thumbprintBase64URL(certificate),
            certificatePath: keystore.certificatePath(kind: kind, id: id),
            keyPath: generatedKey == nil ? nil : keystore.keyPath(kind: kind, id: id),
            replacedSerialHex: previous.map { CertificateCoding.serialHex($0.serialNumber) }
        )
    }

    /// Revokes the identity's current certificate (or `serialHex`, e.g. an older one) and copies
    /// the new CRL into the keystore.
    public static func revoke(
        kind: IdentityKind,
        id: String,
        reason: RevocationReason,
        ca: CertificateAuthority,
        keystore: Keystore,
        serialHex: String? = nil,
        now: Date = Date()
    ) throws(IdentityError) -> CertificateAuthority.RevocationOutcome {
        try SubjectIdentifier.validate(id)
        let serial: String
        if let serialHex {
            serial = serialHex.lowercased()
            guard try ca.issuedCertificates().contains(where: { $0.serial == serial && $0.id == id && $0.kind == kind }) else {
                throw .invalidArgument("serial \(serialHex) was not issued to \(kind) \"\(id)\" by the CA in \(ca.directory)")
            }
        } else {
            serial = CertificateCoding.serialHex(try keystore.certificate(kind: kind, id: id).serialNumber)
        }
        let outcome = try ca.revoke(serialHex: serial, reason: reason, now: now)
        try keystore.synchronize(with: ca)
        return outcome
    }
}
