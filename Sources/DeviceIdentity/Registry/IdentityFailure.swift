import Foundation

/// A device or gateway, for messages and lookups.
public struct IdentityName: Sendable, Hashable, CustomStringConvertible {
    public var kind: IdentityKind
    public var id: String

    public init(kind: IdentityKind, id: String) {
        self.kind = kind
        self.id = id
    }

    public static func device(_ id: String) -> IdentityName { IdentityName(kind: .device, id: id) }
    public static func gateway(_ id: String) -> IdentityName { IdentityName(kind: .gateway, id: id) }

    public var description: String { "\(kind) \"\(id)\"" }

    /// `urn:wardgate:device:<id>` or `urn:wardgate:gateway:<id>`, as in certificate SANs and Provenance.
    public var urn: String { kind.urnPrefix + id }

    /// The identity a wardgate URN names; nil for any other text (or an empty id).
    public init?(urn: String) {
        guard let kind = [IdentityKind.device, .gateway].first(where: { urn.hasPrefix($0.urnPrefix) }),
            urn.count > kind.urnPrefix.count
        else { return nil }
        self.init(kind: kind, id: String(urn.dropFirst(kind.urnPrefix.count)))
    }
}

/// Why the registry will not sign for an identity right now. Each message says what to do.
public enum IdentityFailure: Error, Sendable, Hashable, CustomStringConvertible {
    /// Nothing is enrolled under this name (or the name is not a valid identifier).
    case unknownDevice(IdentityName)
    /// A certificate is enrolled but no private key is installed (CSR enrollment).
    case missingPrivateKey(IdentityName, keyPath: String)
    case expired(IdentityName, notAfter: Date)
    case notYetValid(IdentityName, notBefore: Date)
    case revoked(IdentityName, reason: RevocationReason?, date: Date)
    /// The certificate does not chain to the keystore's CA, does not fit the wardgate profile, or
    /// the CA itself is not valid at the signing time.
    case chainInvalid(IdentityName, reason: String)
    case keyFilePermissions(IdentityName, path: String, mode: UInt32)
    case keyCertificateMismatch(IdentityName, keyPath: String, certificatePath: String)
    /// A file exists but cannot be read or parsed.
    case unreadable(IdentityName, path: String, reason: String)
    /// A device whose id a gateway in the keystore also has (`IdentityNamespaces`).
    case sharedIdentifier(IdentityName, with: IdentityName)

    public var name: IdentityName {
        switch self {
        case .unknownDevice(let name), .missingPrivateKey(let name, _), .expired(let name, _), .notYetValid(let name, _),
            .revoked(let name, _, _), .chainInvalid(let name, _), .keyFilePermissions(let name, _, _),
            .keyCertificateMismatch(let name, _, _), .unreadable(let name, _, _), .sharedIdentifier(let name, _):
            name
        }
    }

    public var description: String {
        switch self {
        case .unknownDevice(let name):
            "no key is enrolled for \(name); enroll it with `wardgate \(name.kind) enroll`"
        case .missingPrivateKey(let name, let keyPath):
            "\(name) has a certificate but no private key; install its PKCS#8 key at \(keyPath) (mode 0600)"
        case .expired(let name, let notAfter):
            "the certificate of \(name) expired at \(Self.format(notAfter)); re-enroll the \(name.kind)"
        case .notYetValid(let name, let notBefore):
            "the certificate of \(name) is not valid before \(Self.format(notBefore))"
        case .revoked(let name, let reason, let date):
            "the certificate of \(name) was revoked at \(Self.format(date)) (\(reason?.name ?? "unspecified"))"
        case .chainInvalid(let name, let reason):
            "the certificate of \(name) is not trusted: \(reason)"
        case .keyFilePermissions(_, let path, let mode):
            IdentityError.insecureKeyFile(path: path, mode: mode).description
        case .keyCertificateMismatch(let name, let keyPath, let certificatePath):
            "the private key of \(name) (\(keyPath)) does not match its certificate (\(certificatePath))"
        case .unreadable(let name, let path, let reason):
            "cannot use \(path) for \(name): \(reason)"
        case .sharedIdentifier(let name, let other):
            "\(name) has the id of \(other): a device certificate with a gateway's CN gets the gateway's rights at the broker; revoke it (`wardgate \(name.kind) revoke --\(name.kind == .device ? "device" : "id") \(name.id)`) and enroll the \(name.kind) under another id"
        }
    }

    static func format(_ date: Date) -> String { date.formatted(.iso8601) }
}
