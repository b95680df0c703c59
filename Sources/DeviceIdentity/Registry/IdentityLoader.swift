import Crypto
import Foundation
import X509

/// What the registry caches per identity: the outcome of reading its files, and the files' stat
/// fingerprints so a change can be noticed cheaply.
struct LoadedIdentity: Sendable {
    var certificateFile: FileFingerprint?
    var keyFile: FileFingerprint?
    /// Time-independent result: parse, chain signature, profile, key permissions, key match.
    /// Validity window and revocation are evaluated per call.
    var outcome: Result<DeviceSigner, IdentityFailure>
}

/// Reads one identity from the keystore and checks everything that does not depend on time.
enum IdentityLoader {
    /// nil when nothing is enrolled under `name`.
    static func load(_ name: IdentityName, keystore: Keystore, anchor: Certificate) -> LoadedIdentity? {
        let first = attempt(name, keystore: keystore, anchor: anchor)
        // enroll/rotation renames key.pem then cert.pem; a reader between the two renames sees a
        // mismatched pair. Reading again once closes that window.
        if case .failure(.keyCertificateMismatch) = first?.outcome {
            return attempt(name, keystore: keystore, anchor: anchor)
        }
        return first
    }

    private static func attempt(_ name: IdentityName, keystore: Keystore, anchor: Certificate) -> LoadedIdentity? {
        let certificatePath = keystore.certificatePath(kind: name.kind, id: name.id)
        let keyPath = keystore.keyPath(kind: name.kind, id: name.id)
        guard let certificateFile = FileFingerprint.of(certificatePath) else { return nil }
        let keyFile = FileFingerprint.of(keyPath)
        func result(_ outcome: Result<DeviceSigner, IdentityFailure>) -> LoadedIdentity {
            LoadedIdentity(certificateFile: certificateFile, keyFile: keyFile, outcome: outcome)
        }

        let certificate: Certificate
        do {
            certificate = try CertificateCoding.loadCertificate(certificatePath)
        } catch {
            return result(.failure(.unreadable(name, path: certificatePath, reason: error.description)))
        }
        if let problem = chainProblem(certificate, name: name, anchor: anchor) {
            return result(.failure(.chainInvalid(name, reason: problem)))
        }
        guard keyFile != nil else { return result(.failure(.missingPrivateKey(name, keyPath: keyPath))) }
        let key: P256.Signing.PrivateKey
        do {
            key = try PrivateKeyFile.loadP256(keyPath)
        } catch {
            switch error {
            case .insecureKeyFile(let path, let mode):
                return result(.failure(.keyFilePermissions(name, path: path, mode: mode)))
            case .fileNotFound:
                return result(.failure(.missingPrivateKey(name, keyPath: keyPath)))
            default:
                return result(.failure(.unreadable(name, path: keyPath, reason: error.description)))
            }
        }
        do {
            return result(.success(try DeviceSigner(kind: name.kind, id: name.id, certificate: certificate, privateKey: key)))
        } catch {
            return result(.failure(.keyCertificateMismatch(name, keyPath: keyPath, certificatePath: certificatePath)))
        }
    }

    /// Signature by the anchor, issuer name, and the wardgate end-entity profile.
    static func chainProblem(_ certificate: Certificate, name: IdentityName, anchor: Certificate) -> String? {
        guard certificate.issuer == anchor.subject else {
            return "issued by \(certificate.issuer), not by the keystore's CA \(anchor.subject)"
        }
        guard anchor.publicKey.isValidSignature(certificate.signature, for: certificate) else {
            return "its signature does not verify with the keystore's CA key"
        }
        guard P256.Signing.PublicKey(certificate.publicKey) != nil else {
            return "its key is \(certificate.publicKey), not P-256"
        }
        guard let usage = try? certificate.extensions.keyUsage, usage.digitalSignature else {
            return "keyUsage does not allow digitalSignature"
        }
        let urn = name.kind.urnPrefix + name.id
        guard CertificateCoding.wardgateURNs(certificate).contains(urn) else {
            return "its subjectAltName does not contain \(urn)"
        }
        return nil
    }
}
