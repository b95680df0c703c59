/// RFC 5280 §5.3.1 CRLReason codes, named as in the RFC.
///
/// `certificateHold` and `removeFromCRL` are deliberately absent: wardgate revocation is permanent
/// and it issues no delta CRLs. `cACompromise`/`aACompromise` concern CAs, not device certificates.
public enum RevocationReason: Int, Sendable, Hashable, CaseIterable, Codable, CustomStringConvertible {
    case unspecified = 0
    case keyCompromise = 1
    case affiliationChanged = 3
    case superseded = 4
    case cessationOfOperation = 5
    case privilegeWithdrawn = 9

    public var name: String {
        switch self {
        case .unspecified: "unspecified"
        case .keyCompromise: "keyCompromise"
        case .affiliationChanged: "affiliationChanged"
        case .superseded: "superseded"
        case .cessationOfOperation: "cessationOfOperation"
        case .privilegeWithdrawn: "privilegeWithdrawn"
        }
    }

    public var description: String { name }

    /// Accepts the RFC name case-insensitively, with or without `-`/`_` (e.g. `key-compromise`).
    public init?(name: String) {
        let folded = name.lowercased().filter { $0 != "-" && $0 != "_" }
        guard let match = Self.allCases.first(where: { $0.name.lowercased() == folded }) else { return nil }
        self = match
    }

    public static var acceptedNames: String { allCases.map(\.name).joined(separator: ", ") }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        guard let reason = RevocationReason(name: text) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "unknown revocation reason \(text)")
        }
        self = reason
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(name)
    }
}
