import Crypto
import Foundation
import SigningKeys
import X509

/// What the registry caches per identity: the outcome of reading its files, and the files' stat
/// fingerprints so a change can be noticed cheaply.
struct LoadedIdentity: Sendable {
    var certificateFile: FileFingerprint?
    var keyFile: FileFingerprint?
    /// The certificate, or why it cannot stand for this identity whatever the time (unreadable,
    /// not from the keystore's CA, outside the profile, an id shared with a gateway).
    var certificate: Result<Certificate, IdentityFailure>
    /// The signer, or why the key cannot be used (missing, permissions, unreadable, mismatch).
    /// Only meaningful once `certificate` succeeded.
    var signer: Result<DeviceSigner, IdentityFailure>
}

/// Reads one identity from the keystore and checks everything that does not depend on time.
/// The time-dependent half of the decision is `SigningPolicy.decide`.
enum IdentityLoader {
    /// nil when nothing is enrolled under `name`. `otherKindIDs` lists the ids enrolled in the
    /// other namespace (a device may not share its id with a gateway).
    static func load(_ name: IdentityName, keystore: Keystore, anchor: Certificate, otherKindIDs: () -> [String]) -> LoadedIdentity? {
        let first = attempt(name, keystore: keystore, anchor: anchor, otherKindIDs: otherKindIDs)
        // enroll/rotation renames key.pem then cert.pem; a reader between the two renames sees a
        // mismatched pair. Reading again once closes that window.
        if case .failure(.keyCertificateMismatch)? = first?.signer {
            return attempt(name, keystore: keystore, anchor: anchor, otherKindIDs: otherKindIDs)
        }
        return first
    }

    private static func attempt(_ name: IdentityName, keystore: Keystore, anchor: Certificate, otherKindIDs: () -> [String]) -> LoadedIdentity? {
        let certificatePath = keystore.certificatePath(kind: name.kind, id: name.id)
        let keyPath = keystore.keyPath(kind: name.kind, id: name.id)
        guard let certificateFile = FileFingerprint.of(certificatePath) else { return nil }
        let keyFile = FileFingerprint.of(keyPath)
        let certificate = checkedCertificate(name, path: certificatePath, anchor: anchor, otherKindIDs: otherKindIDs)
        let signer: Result<DeviceSigner, IdentityFailure>
        switch certificate {
        case .success(let certificate):
            signer = keyFile == nil ? .failure(.missingPrivateKey(name, keyPath: keyPath)) : loadSigner(name, certificate: certificate, keyPath: keyPath, certificatePath: certificatePath)
        case .failure(let failure):
            signer = .failure(failure)
        }
        return LoadedIdentity(certificateFile: certificateFile, keyFile: keyFile, certificate: certificate, signer: signer)
    }

    private static func checkedCertificate(_ name: IdentityName, path: String, anchor: Certificate, otherKindIDs: () -> [String]) -> Result<Certificate, IdentityFailure> {
        let certificate: Certificate
        do {
            certificate = try CertificateCoding.loadCertificate(path)
        } catch {
            return .failure(.unreadable(name, path: path, reason: error.description))
        }
        if let problem = chainProblem(certificate, name: name, anchor: anchor) {
            return .failure(.chainInvalid(name, reason: problem))
        }
        // Only devices are refused: the gateway's checkpoint key stays usable, and the device
        // certificate is the one that would gain rights it must not have.
        if name.kind == .device, let gateway = IdentityNamespaces.collision(of: name, among: otherKindIDs()) {
            return .failure(.sharedIdentifier(name, with: gateway))
        }
        return .success(certificate)
    }

    private static func loadSigner(_ name: IdentityName, certificate: Certificate, keyPath: String, certificatePath: String) -> Result<DeviceSigner, IdentityFailure> {
        let key: P256.Signing.PrivateKey
        do {
            key = try PrivateKeyFile.loadP256(keyPath)
        } catch {
            switch error {
            case .insecureKeyFile(let path, let mode):
                return .failure(.keyFilePermissions(name, path: path, mode: mode))
            case .fileNotFound:
                return .failure(.missingPrivateKey(name, keyPath: keyPath))
            default:
                return .failure(.unreadable(name, path: keyPath, reason: error.description))
            }
        }
        do {
            return .success(try DeviceSigner(kind: name.kind, id: name.id, certificate: certificate, privateKey: key))
        } catch {
            return .failure(.keyCertificateMismatch(name, keyPath: keyPath, certificatePath: certificatePath))
        }
    }

    /// Issued by the anchor (name and signature), and the wardgate profile for `name`.
    static func chainProblem(_ certificate: Certificate, name: IdentityName, anchor: Certificate) -> String? {
        guard certificate.issuer == anchor.subject else {
            return "issued by \(certificate.issuer), not by the keystore's CA \(anchor.subject)"
        }
        guard anchor.publicKey.isValidSignature(certificate.signature, for: certificate) else {
            return "its signature does not verify with the keystore's CA key"
        }
        return IdentityProfile.problem(certificate, for: name)
    }
}
