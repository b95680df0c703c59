import SigningKeys
import SwiftASN1
import X509

/// The key files of a CA, which may be any key swift-certificates signs with, not only P-256.
extension PrivateKeyFile {
    /// Loads any key swift-certificates can sign with (for an adopted CA: P-256, P-384, P-521, RSA).
    public static func loadCertificateKey(_ path: String) throws(IdentityError) -> Certificate.PrivateKey {
        let pem = try IdentityError.mapping { () throws(KeyFileError) in try readPEM(path) }
        do {
            return try Certificate.PrivateKey(pemEncoded: pem)
        } catch {
            throw .unsupportedKey(path: path, reason: "not a supported private key in PEM form (\(error))")
        }
    }

    static func write(_ key: Certificate.PrivateKey, to path: String, exclusive: Bool) throws(IdentityError) {
        let pem: String
        do {
            pem = try key.serializeAsPEM().pemString + "\n"
        } catch {
            throw .unsupportedKey(path: path, reason: "cannot serialize the key as PEM (\(error))")
        }
        if exclusive {
            try SecureFile.createExclusively(Array(pem.utf8), at: path, mode: requiredMode)
        } else {
            try SecureFile.writeAtomically(Array(pem.utf8), to: path, mode: requiredMode)
        }
    }
}
