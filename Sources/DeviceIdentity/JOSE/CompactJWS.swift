import HexEncoding

/// The protected header of a detached JWS, as its first segment (base64url ASCII) and the
/// signing time it carries. Stored once and referenced by every signature made with it.
public struct ProtectedHeader: Sendable, Hashable {
    public let encoded: [UInt8]
    public let signedAt: Int64?

    public init(encoded: [UInt8], signedAt: Int64?) {
        self.encoded = encoded
        self.signedAt = signedAt
    }
}

/// The compact serialization of a detached JWS (RFC 7515 §7.1, RFC 7515 Appendix F):
/// `<base64url header>..<base64url signature>`. A stored raw signature and its stored header
/// segment rebuild exactly the text that was signed and logged.
public enum CompactJWS {
    public static func detached(header encodedHeader: [UInt8], signature: [UInt8]) -> String {
        var out: [UInt8] = []
        append(header: encodedHeader, signature: signature, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    public static func append(header encodedHeader: [UInt8], signature: [UInt8], to out: inout [UInt8]) {
        out.reserveCapacity(out.count + encodedHeader.count + 2 + 86)
        out += encodedHeader
        out.append(UInt8(ascii: "."))
        out.append(UInt8(ascii: "."))
        Base64URL.append(signature, to: &out)
    }

    /// Splits a compact detached JWS back into its header segment and raw signature.
    public static func split(_ compact: String) throws(JWSVerificationError) -> (header: ProtectedHeader, signature: [UInt8]) {
        let parsed = try JWSVerifier.parse(compact)
        return (ProtectedHeader(encoded: parsed.encodedHeader, signedAt: parsed.header.signedAt), parsed.signature)
    }
}

/// A detached JWS in parts: the protected header's JSON as `headerPrefix + iat digits + headerSuffix`
/// (no `iat`: the whole JSON is the prefix), its base64url segment, and the raw 64-byte r‖s.
public struct DetachedSignature: Sendable, Hashable {
    public let headerPrefix: [UInt8]
    public let iat: Int64?
    public let headerSuffix: [UInt8]
    /// base64url of the header JSON, as signed.
    public let encodedHeader: [UInt8]
    public let signature: [UInt8]

    /// The compact serialization, `<header>..<signature>`.
    public var compact: String { CompactJWS.detached(header: encodedHeader, signature: signature) }
}
