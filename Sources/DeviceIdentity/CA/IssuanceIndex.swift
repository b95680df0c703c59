import Foundation

/// One certificate the ward CA issued, as recorded in the CA's `index.json`.
public struct IssuedCertificate: Sendable, Hashable, Codable {
    public struct Revocation: Sendable, Hashable, Codable {
        public var date: Date
        public var reason: RevocationReason
    }

    /// Serial number, lower-case hex of the DER INTEGER content.
    public var serial: String
    public var kind: IdentityKind
    public var id: String
    public var notBefore: Date
    public var notAfter: Date
    /// SHA-256 of the certificate DER, lower-case hex (the JWS `x5t#S256`, in hex).
    public var sha256: String
    public var issuedAt: Date
    public var revocation: Revocation?
}

/// The CA's small database: every serial issued (never removed) and the last CRL number.
struct IssuanceIndex: Codable {
    var formatVersion = 1
    var lastCRLNumber = 0
    var certificates: [IssuedCertificate] = []

    static func load(_ path: String) throws(IdentityError) -> IssuanceIndex {
        let bytes = try SecureFile.read(path)
        do {
            return try decoder.decode(IssuanceIndex.self, from: Data(bytes))
        } catch {
            throw .malformedFile(path: path, reason: "not a wardgate CA index (\(error))")
        }
    }

    func save(_ path: String) throws(IdentityError) {
        let data: Data
        do {
            data = try Self.encoder.encode(self)
        } catch {
            throw .cryptographicFailure("cannot encode the CA index: \(error)")
        }
        try SecureFile.writeAtomically(Array(data) + [0x0A], to: path, mode: 0o644)
    }

    private static var encoder: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        return encoder
    }

    private static var decoder: JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return decoder
    }
}
