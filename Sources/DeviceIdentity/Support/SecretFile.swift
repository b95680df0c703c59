import SigningKeys

/// Files holding secrets: private keys (`PrivateKeyFile`) and others such as the staff API's
/// bearer token. One rule for all of them: a file that group or others may access in any way
/// (read, write or execute) is refused, checked with `fstat` on the descriptor that is then read.
public enum SecretFile {
    public static let forbiddenPermissionBits = PrivateKeyFile.forbiddenPermissionBits

    /// Reads a secret as UTF-8 text, refusing it (`insecureSecretFile`) when group or others
    /// have any access. `what` names it in the error ("bearer token file").
    public static func readText(_ path: String, describedAs what: String) throws(IdentityError) -> String {
        let bytes = try SecureFile.read(path) { fingerprint throws(IdentityError) in
            if fingerprint.permissions & forbiddenPermissionBits != 0 {
                throw .insecureSecretFile(path: path, mode: fingerprint.permissions, what: what)
            }
        }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw .malformedFile(path: path, reason: "\(what) is not UTF-8 text")
        }
        return text
    }

    static func refusal(path: String, mode: UInt32, what: String) -> String {
        KeyFileError.permissionRefusal(path: path, mode: mode, what: what)
    }
}
