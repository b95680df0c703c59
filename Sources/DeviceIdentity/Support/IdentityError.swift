import SigningKeys

/// Why a CA, keystore or enrollment operation failed. Every case names the file or identifier
/// involved so an operator can act on the message alone.
public enum IdentityError: Error, Sendable, Equatable, CustomStringConvertible {
    case invalidIdentifier(String, reason: String)
    case fileNotFound(path: String)
    case fileSystem(path: String, operation: String, reason: String)
    case malformedFile(path: String, reason: String)
    /// A private key file that group or others may access; see `PrivateKeyFile`.
    case insecureKeyFile(path: String, mode: UInt32)
    /// Another secret (e.g. the staff API's bearer token) that group or others may access; see `SecretFile`.
    case insecureSecretFile(path: String, mode: UInt32, what: String)
    case alreadyExists(path: String)
    case notACertificateAuthority(path: String, reason: String)
    case keyCertificateMismatch(keyPath: String, certificatePath: String)
    case invalidCSR(path: String, reason: String)
    case unsupportedKey(path: String, reason: String)
    case notEnrolled(kind: IdentityKind, id: String)
    /// The id is the other kind's (`IdentityNamespaces`); `source` says who knows it (the CA's
    /// index, the keystore).
    case identifierInUse(id: String, wanted: IdentityKind, holder: IdentityName, source: String)
    case invalidArgument(String)
    case cryptographicFailure(String)

    public var description: String {
        switch self {
        case .invalidIdentifier(let id, let reason):
            "invalid identifier \"\(id)\": \(reason)"
        case .fileNotFound(let path):
            KeyFileError.fileNotFound(path: path).description
        case .fileSystem(let path, let operation, let reason):
            KeyFileError.fileSystem(path: path, operation: operation, reason: reason).description
        case .malformedFile(let path, let reason):
            KeyFileError.malformedFile(path: path, reason: reason).description
        case .insecureKeyFile(let path, let mode):
            KeyFileError.insecureKeyFile(path: path, mode: mode).description
        case .insecureSecretFile(let path, let mode, let what):
            SecretFile.refusal(path: path, mode: mode, what: what)
        case .alreadyExists(let path):
            KeyFileError.alreadyExists(path: path).description
        case .notACertificateAuthority(let path, let reason):
            "\(path) is not usable as a CA certificate: \(reason)"
        case .keyCertificateMismatch(let keyPath, let certificatePath):
            "private key \(keyPath) does not match the public key of certificate \(certificatePath)"
        case .invalidCSR(let path, let reason):
            "\(path): certificate signing request rejected: \(reason)"
        case .unsupportedKey(let path, let reason):
            KeyFileError.unsupportedKey(path: path, reason: reason).description
        case .notEnrolled(let kind, let id):
            "no \(kind) named \"\(id)\" is enrolled"
        case .identifierInUse(let id, let wanted, let holder, let source):
            "\(wanted) id \"\(id)\" is taken: \(holder) has it (\(source)); devices and gateways never share an id, because the broker knows a client by its certificate's CN and would give \(wanted == .device ? "this device the gateway's rights" : "the gateway this device's topics"). Choose another \(wanted) id"
        case .invalidArgument(let reason):
            reason
        case .cryptographicFailure(let reason):
            "cryptographic operation failed: \(reason)"
        }
    }
}

extension IdentityError {
    /// The same failure, from a key file or another file SigningKeys read or wrote.
    public init(_ error: KeyFileError) {
        switch error {
        case .fileNotFound(let path): self = .fileNotFound(path: path)
        case .fileSystem(let path, let operation, let reason): self = .fileSystem(path: path, operation: operation, reason: reason)
        case .malformedFile(let path, let reason): self = .malformedFile(path: path, reason: reason)
        case .insecureKeyFile(let path, let mode): self = .insecureKeyFile(path: path, mode: mode)
        case .alreadyExists(let path): self = .alreadyExists(path: path)
        case .unsupportedKey(let path, let reason): self = .unsupportedKey(path: path, reason: reason)
        }
    }

    /// Runs a SigningKeys file operation, reporting its failure as an `IdentityError`.
    static func mapping<T>(_ body: () throws(KeyFileError) -> T) throws(IdentityError) -> T {
        do { return try body() } catch { throw IdentityError(error) }
    }
}

/// What an identity certificate is for. Devices sign Observations; the gateway signs log checkpoints.
public enum IdentityKind: String, Sendable, Hashable, Codable, CustomStringConvertible {
    case device
    case gateway

    public var description: String { rawValue }

    /// The URN prefix used in the certificate's SAN URI, e.g. `urn:wardgate:device:`.
    public var urnPrefix: String { "urn:wardgate:\(rawValue):" }

    /// Keystore subfolder holding identities of this kind.
    var keystoreFolder: String {
        switch self {
        case .device: "devices"
        case .gateway: "gateways"
        }
    }
}
