import Crypto
import Foundation
import HexEncoding
import SigningKeys
import SwiftASN1
import X509

/// The ward CA: a directory holding the CA certificate, its key, the CRL and the issuance index.
///
/// ```
/// <ca-dir>/ca.pem        CA certificate (PEM)
/// <ca-dir>/ca.key        CA private key, PKCS#8 PEM, mode 0600
/// <ca-dir>/crl.pem       current signed CRL (PEM "X509 CRL")
/// <ca-dir>/index.json    every issued serial, its subject and revocation, the last CRL number
/// <ca-dir>/issued/<serial-hex>.pem   copy of each issued certificate
/// <ca-dir>/.lock         flock(2) target serialising concurrent commands
/// ```
public struct CertificateAuthority: Sendable {
    public static let defaultValidityDays = 3650
    /// How long each CRL is current (its nextUpdate); `revoke` and `ca crl` issue a fresh one.
    public static let crlValidityDays = 30

    public let directory: String
    public let certificate: Certificate
    let privateKey: Certificate.PrivateKey

    public var certificatePath: String { Self.certificatePath(in: directory) }
    public var keyPath: String { SecureFile.join(directory, "ca.key") }
    public var crlPath: String { SecureFile.join(directory, "crl.pem") }
    var indexPath: String { SecureFile.join(directory, "index.json") }
    var lockPath: String { SecureFile.join(directory, ".lock") }
    func issuedCertificatePath(serialHex: String) -> String { SecureFile.join(directory, "issued", "\(serialHex).pem") }

    static func certificatePath(in directory: String) -> String { SecureFile.join(directory, "ca.pem") }

    // MARK: Creating and opening

    /// Creates a new P-256 root CA in `directory` (which must not already hold one).
    public static func create(
        directory: String,
        name: String,
        validityDays: Int = defaultValidityDays,
        now: Date = Date()
    ) throws(IdentityError) -> CertificateAuthority {
        let trimmed = name.trimmingCharacters(in: .whitespaces)
        guard !trimmed.isEmpty, trimmed.utf8.count <= 64 else {
            throw .invalidArgument("the CA name must be 1 to 64 characters")
        }
        let lifetime = try CertificateProfiles.validityDays(validityDays)
        try prepareEmptyDirectory(directory)

        let signingKey = P256.Signing.PrivateKey()
        let key = Certificate.PrivateKey(signingKey)
        let start = ASN1Time.truncated(now).addingTimeInterval(-CertificateProfiles.backdating)
        let certificate: Certificate
        do {
            let subject = try DistinguishedName { CommonName(trimmed) }
            certificate = try Certificate(
                version: .v3,
                serialNumber: CertificateProfiles.randomSerialNumber(),
                publicKey: key.publicKey,
                notValidBefore: start,
                notValidAfter: ASN1Time.truncated(now).addingTimeInterval(lifetime),
                issuer: subject,
                subject: subject,
                signatureAlgorithm: .ecdsaWithSHA256,
                extensions: try CertificateProfiles.rootExtensions(publicKey: key.publicKey),
                issuerPrivateKey: key
            )
        } catch {
            throw .cryptographicFailure("cannot create the CA certificate: \(error)")
        }
        let ca = CertificateAuthority(directory: directory, certificate: certificate, privateKey: key)
        try ca.writeInitialState(now: now)
        return ca
    }

    /// Adopts a hospital-issued CA: checks that the certificate is a CA allowed to sign
    /// certificates and CRLs, is currently valid, and that the key matches it.
    public static func adopt(
        directory: String,
        certificateFile: String,
        keyFile: String,
        now: Date = Date()
    ) throws(IdentityError) -> CertificateAuthority {
        let certificate = try CertificateCoding.loadCertificate(certificateFile)
        let key = try PrivateKeyFile.loadCertificateKey(keyFile)
        try checkUsableAsCA(certificate, path: certificateFile, now: now)
        guard key.publicKey == certificate.publicKey else {
            throw .keyCertificateMismatch(keyPath: keyFile, certificatePath: certificateFile)
        }
        try prepareEmptyDirectory(directory)
        let ca = CertificateAuthority(directory: directory, certificate: certificate, privateKey: key)
        try ca.writeInitialState(now: now)
        return ca
    }

    /// Opens an existing CA directory, re-checking that key and certificate belong together.
    public static func open(directory: String) throws(IdentityError) -> CertificateAuthority {
        let certificatePath = Self.certificatePath(in: directory)
        guard SecureFile.exists(certificatePath) else {
            throw .fileNotFound(path: certificatePath)
        }
        let certificate = try CertificateCoding.loadCertificate(certificatePath)
        let keyPath = SecureFile.join(directory, "ca.key")
        let key = try PrivateKeyFile.loadCertificateKey(keyPath)
        guard key.publicKey == certificate.publicKey else {
            throw .keyCertificateMismatch(keyPath: keyPath, certificatePath: certificatePath)
        }
        return CertificateAuthority(directory: directory, certificate: certificate, privateKey: key)
    }

    static func checkUsableAsCA(_ certificate: Certificate, path: String, now: Date) throws(IdentityError) {
        let constraints: BasicConstraints?
        let usage: KeyUsage?
        do {
            constraints = try certificate.extensions.basicConstraints
            usage = try certificate.extensions.keyUsage
        } catch {
            throw .notACertificateAuthority(path: path, reason: "unreadable extensions (\(error))")
        }
        guard case .isCertificateAuthority = constraints else {
            throw .notACertificateAuthority(path: path, reason: "basicConstraints does not say CA:TRUE")
        }
        if let usage {
            guard usage.keyCertSign else { throw .notACertificateAuthority(path: path, reason: "keyUsage lacks keyCertSign") }
            guard usage.cRLSign else { throw .notACertificateAuthority(path: path, reason: "keyUsage lacks cRLSign") }
        }
        guard certificate.notValidBefore <= now, now <= certificate.notValidAfter else {
            throw .notACertificateAuthority(
                path: path,
                reason: "valid only from \(certificate.notValidBefore) to \(certificate.notValidAfter)"
            )
        }
    }

    private static func prepareEmptyDirectory(_ directory: String) throws(IdentityError) {
        try SecureFile.makeDirectory(directory)
        for name in ["ca.pem", "ca.key"] where SecureFile.exists(SecureFile.join(directory, name)) {
            throw .alreadyExists(path: SecureFile.join(directory, name))
        }
    }

    private func writeInitialState(now: Date) throws(IdentityError) {
        let lock = try DirectoryLock(path: lockPath)
        defer { withExtendedLifetime(lock) {} }
        // The key goes first and exclusively: a second `ca init` racing this one fails here.
        try PrivateKeyFile.write(privateKey, to: keyPath, exclusive: true)
        try SecureFile.makeDirectory(SecureFile.join(directory, "issued"))
        var index = IssuanceIndex()
        try issueCRL(index: &index, now: now)
        try SecureFile.writeAtomically(Array(CertificateCoding.pemString(certificate).utf8), to: certificatePath, mode: 0o644)
    }

    // MARK: Issuing

    /// Issues a certificate for a device or gateway key and records it in the index.
    public func issue(
        kind: IdentityKind,
        id: String,
        publicKey: P256.Signing.PublicKey,
        validityDays: Int,
        now: Date = Date()
    ) throws(IdentityError) -> Certificate {
        try SubjectIdentifier.validate(id)
        let lifetime = try CertificateProfiles.validityDays(validityDays)
        guard certificate.notValidBefore <= now, now < certificate.notValidAfter else {
            throw .notACertificateAuthority(path: certificatePath, reason: "the CA certificate is not valid now")
        }
        let notBefore = max(ASN1Time.truncated(now).addingTimeInterval(-CertificateProfiles.backdating), certificate.notValidBefore)
        // Never outlive the CA: a chain is only as valid as its shortest link.
        let notAfter = min(ASN1Time.truncated(now).addingTimeInterval(lifetime), certificate.notValidAfter)
        let subjectKey = Certificate.PublicKey(publicKey)

        let lock = try DirectoryLock(path: lockPath)
        defer { withExtendedLifetime(lock) {} }
        var index = try IssuanceIndex.load(indexPath)
        // Checked under the lock, against every certificate ever issued (revoked ones too: they
        // may still be in use until their CRL reaches the broker).
        let otherKind = index.certificates.filter { $0.kind == kind.other }
        if let holder = IdentityNamespaces.collision(of: IdentityName(kind: kind, id: id), among: otherKind.map(\.id)) {
            let serial = otherKind.first { $0.id == holder.id }?.serial ?? "?"
            throw .identifierInUse(id: id, wanted: kind, holder: holder, source: "issued by the CA in \(directory), serial \(serial)")
        }
        var serial = CertificateProfiles.randomSerialNumber()
        while index.certificates.contains(where: { $0.serial == CertificateCoding.serialHex(serial) }) {
            serial = CertificateProfiles.randomSerialNumber()
        }
        let issued: Certificate
        do {
            issued = try Certificate(
                version: .v3,
                serialNumber: serial,
                publicKey: subjectKey,
                notValidBefore: notBefore,
                notValidAfter: notAfter,
                issuer: certificate.subject,
                subject: try DistinguishedName { CommonName(id) },
                signatureAlgorithm: SignatureAlgorithms.preferred(for: privateKey),
                extensions: try CertificateProfiles.endEntityExtensions(kind: kind, id: id, publicKey: subjectKey, issuer: certificate),
                issuerPrivateKey: privateKey
            )
        } catch {
            throw .cryptographicFailure("cannot issue the certificate: \(error)")
        }
        let serialHex = CertificateCoding.serialHex(serial)
        try SecureFile.makeDirectory(SecureFile.join(directory, "issued"))
        try SecureFile.writeAtomically(
            Array(CertificateCoding.pemString(issued).utf8),
            to: issuedCertificatePath(serialHex: serialHex),
            mode: 0o644
        )
        index.certificates.append(
            IssuedCertificate(
                serial: serialHex,
                kind: kind,
                id: id,
                notBefore: notBefore,
                notAfter: notAfter,
                sha256: Hex.encode(CertificateCoding.sha256Thumbprint(issued)),
                issuedAt: ASN1Time.truncated(now),
                revocation: nil
            )
        )
        try index.save(indexPath)
        return issued
    }

    // MARK: Revocation

    public struct RevocationOutcome: Sendable {
        public var certificate: IssuedCertificate
        /// True when the serial was already on the CRL (the CRL is re-issued unchanged otherwise).
        public var wasAlreadyRevoked: Bool
        public var crl: CertificateRevocationList
    }

    /// Revokes an issued serial and writes a freshly signed CRL.
    public func revoke(serialHex: String, reason: RevocationReason, now: Date = Date()) throws(IdentityError) -> RevocationOutcome {
        let lock = try DirectoryLock(path: lockPath)
        defer { withExtendedLifetime(lock) {} }
        var index = try IssuanceIndex.load(indexPath)
        let wanted = serialHex.lowercased()
        guard let position = index.certificates.firstIndex(where: { $0.serial == wanted }) else {
            throw .invalidArgument("serial \(serialHex) was not issued by the CA in \(directory)")
        }
        let alreadyRevoked = index.certificates[position].revocation != nil
        if !alreadyRevoked {
            index.certificates[position].revocation = .init(date: ASN1Time.truncated(now), reason: reason)
        }
        let crl = try issueCRL(index: &index, now: now)
        return RevocationOutcome(certificate: index.certificates[position], wasAlreadyRevoked: alreadyRevoked, crl: crl)
    }

    /// Signs a new CRL from the index (e.g. before the current one's nextUpdate).
    @discardableResult
    public func reissueCRL(now: Date = Date()) throws(IdentityError) -> CertificateRevocationList {
        let lock = try DirectoryLock(path: lockPath)
        defer { withExtendedLifetime(lock) {} }
        var index = try IssuanceIndex.load(indexPath)
        return try issueCRL(index: &index, now: now)
    }

    /// Caller holds the lock. Saves the index with the new CRL number, then the CRL.
    @discardableResult
    private func issueCRL(index: inout IssuanceIndex, now: Date) throws(IdentityError) -> CertificateRevocationList {
        index.lastCRLNumber += 1
        var entries: [CRLBuilder.Entry] = []
        for record in index.certificates {
            guard let revocation = record.revocation else { continue }
            guard let serial = try? Hex.decode(record.serial) else {
                throw .malformedFile(path: indexPath, reason: "invalid serial \(record.serial)")
            }
            entries.append(.init(serial: serial, revocationDate: revocation.date, reason: revocation.reason))
        }
        let thisUpdate = ASN1Time.truncated(now)
        let der = try CRLBuilder.build(
            issuer: certificate,
            issuerKey: privateKey,
            crlNumber: index.lastCRLNumber,
            thisUpdate: thisUpdate,
            nextUpdate: thisUpdate.addingTimeInterval(TimeInterval(Self.crlValidityDays) * 86_400),
            entries: entries
        )
        let crl = try CertificateRevocationList(derEncoded: der)
        try index.save(indexPath)
        try SecureFile.writeAtomically(Array(crl.pemString.utf8), to: crlPath, mode: 0o644)
        return crl
    }

    // MARK: Reading

    public func issuedCertificates() throws(IdentityError) -> [IssuedCertificate] {
        try IssuanceIndex.load(indexPath).certificates
    }

    public func currentCRL() throws(IdentityError) -> CertificateRevocationList {
        try CertificateRevocationList.load(crlPath)
    }
}
