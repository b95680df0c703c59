import Crypto
import Foundation
import HexEncoding
import SigningKeys
import X509

/// The gateway's keystore: what the pipeline needs to sign, and nothing of the CA's secrets.
///
/// ```
/// <keystore>/ca.pem                     trust anchor (copy of the CA certificate)
/// <keystore>/crl.pem                    latest CRL (copied by enroll/revoke)
/// <keystore>/devices/<id>/key.pem       device private key, PKCS#8 PEM, mode 0600
/// <keystore>/devices/<id>/cert.pem      the device's current certificate
/// <keystore>/gateways/<id>/key.pem      gateway key (signs Merkle checkpoints)
/// <keystore>/gateways/<id>/cert.pem
/// <keystore>/certs/<sha256-hex>.pem     every certificate ever installed, by thumbprint; never
///                                       deleted, so an old JWS's x5t#S256 still resolves
/// ```
public struct Keystore: Sendable, Hashable {
    public let directory: String

    public init(directory: String) {
        self.directory = directory
    }

    public var caCertificatePath: String { SecureFile.join(directory, "ca.pem") }
    public var crlPath: String { SecureFile.join(directory, "crl.pem") }
    public var certificateArchiveDirectory: String { SecureFile.join(directory, "certs") }

    public func identityDirectory(kind: IdentityKind, id: String) -> String {
        SecureFile.join(directory, kind.keystoreFolder, id)
    }

    public func keyPath(kind: IdentityKind, id: String) -> String {
        SecureFile.join(identityDirectory(kind: kind, id: id), "key.pem")
    }

    public func certificatePath(kind: IdentityKind, id: String) -> String {
        SecureFile.join(identityDirectory(kind: kind, id: id), "cert.pem")
    }

    func archivePath(thumbprintHex: String) -> String {
        SecureFile.join(certificateArchiveDirectory, "\(thumbprintHex).pem")
    }

    /// Identifiers enrolled under `kind` (directories holding a cert.pem), sorted.
    public func enrolledIDs(kind: IdentityKind) -> [String] {
        SecureFile.directoryEntries(SecureFile.join(directory, kind.keystoreFolder)).filter { id in
            SubjectIdentifier.isValid(id) && SecureFile.exists(certificatePath(kind: kind, id: id))
        }
    }

    // MARK: Writing

    /// Installs a freshly issued identity. Order matters for a registry reading concurrently: the
    /// archive copy first (old JWS stay resolvable), then the key, then the certificate, each by
    /// atomic rename; the registry re-reads once if it catches the key/cert pair mid-rotation.
    ///
    /// With `privateKey == nil` (CSR enrollment) the key stays with whoever made the CSR; a stale
    /// key.pem that does not match the new certificate is removed so it cannot be used again.
    func install(certificate: Certificate, privateKey: P256.Signing.PrivateKey?, kind: IdentityKind, id: String) throws(IdentityError) {
        try SubjectIdentifier.validate(id)
        try SecureFile.makeDirectory(directory)
        try SecureFile.makeDirectory(certificateArchiveDirectory)
        try SecureFile.makeDirectory(identityDirectory(kind: kind, id: id))
        let pem = Array(CertificateCoding.pemString(certificate).utf8)
        try SecureFile.writeAtomically(pem, to: archivePath(thumbprintHex: Hex.encode(CertificateCoding.sha256Thumbprint(certificate))), mode: 0o644)
        let keyPath = keyPath(kind: kind, id: id)
        if let privateKey {
            try IdentityError.mapping { () throws(KeyFileError) in try PrivateKeyFile.write(privateKey, to: keyPath) }
        } else if SecureFile.exists(keyPath) {
            let existing = try? PrivateKeyFile.loadP256(keyPath)
            if existing?.publicKey.derRepresentation != P256.Signing.PublicKey(certificate.publicKey)?.derRepresentation {
                SecureFile.remove(keyPath)
            }
        }
        try SecureFile.writeAtomically(pem, to: certificatePath(kind: kind, id: id), mode: 0o644)
    }

    func installTrustAnchor(_ certificate: Certificate) throws(IdentityError) {
        try SecureFile.makeDirectory(directory)
        try SecureFile.writeAtomically(Array(CertificateCoding.pemString(certificate).utf8), to: caCertificatePath, mode: 0o644)
    }

    func installCRL(_ crl: CertificateRevocationList) throws(IdentityError) {
        try SecureFile.makeDirectory(directory)
        try SecureFile.writeAtomically(Array(crl.pemString.utf8), to: crlPath, mode: 0o644)
    }

    /// Makes the keystore trust `ca` and carry its current CRL, refusing to switch a keystore
    /// that already trusts a different CA (its certificates would all stop verifying).
    public func synchronize(with ca: CertificateAuthority) throws(IdentityError) {
        if SecureFile.exists(caCertificatePath) {
            let existing = try CertificateCoding.loadCertificate(caCertificatePath)
            guard existing == ca.certificate else {
                throw .invalidArgument(
                    "keystore \(directory) trusts a different CA (\(caCertificatePath)); use a new keystore for \(ca.certificatePath)"
                )
            }
        } else {
            try installTrustAnchor(ca.certificate)
        }
        try installCRL(try ca.currentCRL())
    }

    // MARK: Reading

    public func certificate(kind: IdentityKind, id: String) throws(IdentityError) -> Certificate {
        try SubjectIdentifier.validate(id)
        let path = certificatePath(kind: kind, id: id)
        guard SecureFile.exists(path) else { throw .notEnrolled(kind: kind, id: id) }
        return try CertificateCoding.loadCertificate(path)
    }

    /// Looks up an archived certificate by its `x5t#S256` (base64url SHA-256 of the DER).
    public func archivedCertificate(thumbprint: String) -> Certificate? {
        guard let digest = Base64URL.decode(thumbprint), digest.count == 32 else { return nil }
        guard let certificate = try? CertificateCoding.loadCertificate(archivePath(thumbprintHex: Hex.encode(digest))) else {
            return nil
        }
        // The file name is only an index; trust the content's own hash.
        return CertificateCoding.sha256Thumbprint(certificate) == digest ? certificate : nil
    }

    /// All archived certificates, e.g. to build a verifier's lookup table.
    public func archivedCertificates() -> [Certificate] {
        SecureFile.directoryEntries(certificateArchiveDirectory).compactMap { name in
            guard name.hasSuffix(".pem") else { return nil }
            return try? CertificateCoding.loadCertificate(SecureFile.join(certificateArchiveDirectory, name))
        }
    }
}
