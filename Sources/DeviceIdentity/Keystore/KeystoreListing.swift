import Foundation
import SigningKeys
import X509

/// What `device list` shows for an identity: the gateway's own signing decision at that time
/// (`SigningPolicy`, through the registry), in a few words.
public enum CertificateStatus: Sendable, Hashable, CustomStringConvertible {
    /// The gateway signs with it.
    case valid
    case expired
    case notYetValid
    case revoked(reason: RevocationReason?, date: Date)
    /// Not issued by the keystore's CA, outside the wardgate profile (e.g. a subjectAltName for
    /// another identity), or the CA itself not valid at that time.
    case untrusted(String)
    /// The private key is not the one the certificate certifies.
    case keyMismatch
    case noPrivateKey
    /// The key file may be accessed by group or others, so it is refused.
    case insecureKeyFile(mode: UInt32)
    /// A file could not be read or parsed (named in the reason).
    case invalid(String)

    public var description: String {
        switch self {
        case .valid: "valid"
        case .expired: "expired"
        case .notYetValid: "not-yet-valid"
        case .revoked(let reason, _): "revoked (\(reason?.name ?? "unspecified"))"
        case .untrusted(let reason): "untrusted: \(reason)"
        case .keyMismatch: "key-mismatch: the private key does not match the certificate"
        case .noPrivateKey: "no private key"
        case .insecureKeyFile(let mode): "key file mode \(String(mode, radix: 8)) refused (chmod 600)"
        case .invalid(let reason): "invalid: \(reason)"
        }
    }

    /// The signing decision in `device list`'s words.
    init(_ decision: Result<DeviceSigner, IdentityFailure>) {
        switch decision {
        case .success: self = .valid
        case .failure(let failure):
            switch failure {
            case .expired: self = .expired
            case .notYetValid: self = .notYetValid
            case .revoked(_, let reason, let date): self = .revoked(reason: reason, date: date)
            case .chainInvalid(_, let reason): self = .untrusted(reason)
            case .sharedIdentifier(_, let other): self = .untrusted("its id is also the id of \(other)")
            case .keyCertificateMismatch: self = .keyMismatch
            case .missingPrivateKey: self = .noPrivateKey
            case .keyFilePermissions(_, _, let mode): self = .insecureKeyFile(mode: mode)
            case .unreadable(_, let path, let reason): self = .invalid("\(path): \(reason)")
            case .unknownDevice: self = .invalid(failure.description)
            }
        }
    }
}

public struct KeystoreEntry: Sendable, Hashable {
    public var kind: IdentityKind
    public var id: String
    public var serialHex: String?
    public var notBefore: Date?
    public var notAfter: Date?
    /// What the gateway would decide for this identity at the listing's time.
    public var status: CertificateStatus
    /// The full reason when the gateway would not sign (nil when it would), as the gateway logs it.
    public var refusal: IdentityFailure?
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

    /// Every enrolled identity of `kind` (all kinds when nil) with the gateway's decision at
    /// `time`. `caCertificatePath` and `crlPath` are those of the gateway's `identity:` section
    /// when it sets them (the keystore's own files otherwise).
    public func list(kind: IdentityKind? = nil, at time: Date = Date(), caCertificatePath: String? = nil, crlPath: String? = nil) throws(IdentityError) -> [KeystoreEntry] {
        guard SecureFile.exists(caCertificatePath ?? self.caCertificatePath) else {
            throw .invalidArgument("\(directory) is not a wardgate keystore (it has no ca.pem); enroll a device into it first")
        }
        // The registry the gateway signs with, so the listing cannot decide differently.
        let registry = try IdentityRegistry(keystore: directory, caCertificatePath: caCertificatePath, crlPath: crlPath, autoRefreshInterval: nil)
        var entries: [KeystoreEntry] = []
        for currentKind in kind.map({ [$0] }) ?? [.device, .gateway] {
            for id in enrolledIDs(kind: currentKind) {
                let name = IdentityName(kind: currentKind, id: id)
                let decision = registry.identity(name, at: time)
                let keyFile = FileFingerprint.of(keyPath(kind: currentKind, id: id))
                let insecureMode = keyFile.flatMap { $0.permissions & PrivateKeyFile.forbiddenPermissionBits != 0 ? $0.permissions : nil }
                // Shown for orientation only; the decision above does not depend on this read.
                let certificate = try? certificate(kind: currentKind, id: id)
                entries.append(
                    KeystoreEntry(
                        kind: currentKind, id: id,
                        serialHex: certificate.map { CertificateCoding.serialHex($0.serialNumber) },
                        notBefore: certificate?.notValidBefore, notAfter: certificate?.notValidAfter,
                        status: CertificateStatus(decision),
                        refusal: decision.failure,
                        hasPrivateKey: keyFile != nil, insecureKeyMode: insecureMode))
            }
        }
        return entries
    }
}

extension Result {
    fileprivate var failure: Failure? {
        if case .failure(let failure) = self { return failure }
        return nil
    }
}
