import Crypto

/// Private key files: PKCS#8 PEM, created 0600, refused when group or others have any access.
///
/// The rule is checked on the opened descriptor, so the file that is read is the file that was
/// checked. Group/other *write* or *execute* bits are refused as well as read bits: a key anyone
/// else may replace is no safer than one they may read.
public enum PrivateKeyFile {
    public static let requiredMode: UInt32 = 0o600
    /// The rule of every secret file (keys, the staff API's token): no access for group or others.
    package static let forbiddenPermissionBits: UInt32 = 0o077

    /// Reads the PEM text of a key file after checking its permissions.
    package static func readPEM(_ path: String) throws(KeyFileError) -> String {
        let bytes = try SecureFile.read(path) { fingerprint throws(KeyFileError) in
            if fingerprint.permissions & forbiddenPermissionBits != 0 {
                throw .insecureKeyFile(path: path, mode: fingerprint.permissions)
            }
        }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw .malformedFile(path: path, reason: "private key file is not PEM text")
        }
        return text
    }

    /// Loads a P-256 signing key (PKCS#8 `PRIVATE KEY`, or SEC1 `EC PRIVATE KEY` as openssl writes).
    public static func loadP256(_ path: String) throws(KeyFileError) -> P256.Signing.PrivateKey {
        let pem = try readPEM(path)
        do {
            return try P256.Signing.PrivateKey(pemRepresentation: pem)
        } catch {
            throw .unsupportedKey(path: path, reason: "not a P-256 private key in PEM form (\(error))")
        }
    }

    /// Generates a P-256 key and writes it to a new file (never over an existing one), mode 0600
    /// from creation. For service keys made on first start, e.g. the embedded ledger's.
    public static func createP256(at path: String) throws(KeyFileError) -> P256.Signing.PrivateKey {
        let key = P256.Signing.PrivateKey()
        try SecureFile.createExclusively(Array(key.pemRepresentation.utf8) + [0x0A], at: path, mode: requiredMode)
        return key
    }

    /// Writes a new P-256 key as PKCS#8 PEM, mode 0600 from creation, atomically replacing `path`.
    package static func write(_ key: P256.Signing.PrivateKey, to path: String) throws(KeyFileError) {
        try SecureFile.writeAtomically(Array(key.pemRepresentation.utf8) + [0x0A], to: path, mode: requiredMode)
    }
}
