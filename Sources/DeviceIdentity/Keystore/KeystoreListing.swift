import Foundation
import X509

/// What `device list` shows for a certificate at a given time.
public enum CertificateStatus: Sendable, Hashable, CustomStringConvertible {
    case valid
    case expired
    case notYetValid
    case revoked(reason: RevocationReason?, date: Date)
    /// The certificate file could not be used (named in the reason).
    case invalid(String)

    public var description: String {
        switch self {
        case .valid: "valid"
        case .expired: "expired"
        case .notYetValid: "not-yet-valid"
        case .revoked(let reason, _): "revoked (\(reason?.name ?? "unspecified"))"
        case .invalid(let reason): "invalid: \(reason)"
        }
    }

    /// Revocation first (it is the most important thing to know), then the validity window.
    static func of(_ certificate: Certificate, crl: CertificateRevocationList?, at time: Date) -> CertificateStatus {
        if let entry = crl?.entry(for: certificate.serialNumber) {
            return .revoked(reason: entry.reason, date: entry.revocationDate)
        }
        if time < certificate.notValidBefore { return .notYetValid }
        if time > certificate.notValidAfter { return .expired }
        return .valid
    }
}

public struct KeystoreEntry: Sendable, Hashable {
    public var kind: IdentityKind
    public var id: String
    public var serialHex: String?
    public var notBefore: Date?
    public var notAfter: Date?
    public var status: CertificateStatus
    public var hasPrivateKey: Bool
    /// Permission bits of the key file when group or others may access it (the key is refused).
    public var insecureKeyMode: UInt32?
}

extension Keystore {
    /// Loads the keystore's CRL after checking the keystore's CA signed it; nil when there is none.
    public func verifiedCRL() throws(IdentityError) -> CertificateRevocationList? {
        guard SecureFile.exists(crlPath) else { return nil }
        let crl = try CertificateRevocationList.load(crlPath)
        let anchor = try CertificateCoding.loadCertificate(caCertificatePath)
        guard crl.isSigned(by: anchor) else {
            throw .malformedFile(path: crlPath, reason: "CRL is not signed by the keystore's CA \(caCertificatePath)")
        }
        return crl
    }

    /// Every enrolled identity of `kind` (all kinds when nil) with its status at `time`.
    public func list(kind: IdentityKind? = nil, at time: Date = Date()) throws(IdentityError) -> [KeystoreEntry] {
        guard SecureFile.exists(caCertificatePath) else {
            throw .invalidArgument("\(directory) is not a wardgate keystore (it has no ca.pem); enroll a device into it first")
        }
        let crl = try verifiedCRL()
        var entries: [KeystoreEntry] = []
        for currentKind in kind.map({ [$0] }) ?? [.device, .gateway] {
            for id in enrolledIDs(kind: currentKind) {
                let keyFile = FileFingerprint.of(keyPath(kind: currentKind, id: id))
                let hasKey = keyFile != nil
                let insecureMode = keyFile.flatMap { $0.permissions & PrivateKeyFile.forbiddenPermissionBits != 0 ? $0.permissions : nil }
                do {
                    let certificate = try certificate(kind: currentKind, id: id)
                    entries.append(
                        KeystoreEntry(
                            kind: currentKind,
                            id: id,
                            serialHex: CertificateCoding.serialHex(certificate.serialNumber),
                            notBefore: certificate.notValidBefore,
                            notAfter: certificate.notValidAfter,
                            status: CertificateStatus.of(certificate, crl: crl, at: time),
                            hasPrivateKey: hasKey,
                            insecureKeyMode: insecureMode
                        )
                    )
                } catch {
                    entries.append(
                        KeystoreEntry(kind: currentKind, id: id, status: .invalid(error.description), hasPrivateKey: hasKey, insecureKeyMode: insecureMode)
                    )
                }
            }
        }
        return entries
    }
}
