/// Why a key file (or another file read or written through `SecureFile`) could not be used.
/// Every case names the path, so an operator can act on the message alone. DeviceIdentity's
/// `IdentityError` has the same cases with the same messages.
public enum KeyFileError: Error, Sendable, Equatable, CustomStringConvertible {
    case fileNotFound(path: String)
    case fileSystem(path: String, operation: String, reason: String)
    case malformedFile(path: String, reason: String)
    /// A private key file that group or others may access; see `PrivateKeyFile`.
    case insecureKeyFile(path: String, mode: UInt32)
    case alreadyExists(path: String)
    case unsupportedKey(path: String, reason: String)

    public var description: String {
        switch self {
        case .fileNotFound(let path):
            "\(path): no such file"
        case .fileSystem(let path, let operation, let reason):
            "\(path): cannot \(operation): \(reason)"
        case .malformedFile(let path, let reason):
            "\(path): \(reason)"
        case .insecureKeyFile(let path, let mode):
            KeyFileError.permissionRefusal(path: path, mode: mode, what: "private key file")
        case .alreadyExists(let path):
            "\(path) already exists; refusing to overwrite it"
        case .unsupportedKey(let path, let reason):
            "\(path): unsupported key: \(reason)"
        }
    }

    /// Why a secret file (`what`: "private key file", "bearer token file") with these permissions is refused.
    package static func permissionRefusal(path: String, mode: UInt32, what: String) -> String {
        "\(path): \(what) has mode \(String(mode & 0o7777, radix: 8)); it must not be accessible by group or others (chmod 600 \(path))"
    }
}
