import JSONDocument

/// The protected header wardgate writes: `{"alg":"ES256","iat":<signing time>,"kid":"<id>","x5t#S256":"<thumbprint>"}`
/// (members in JCS order, so the header bytes are themselves canonical). `iat` is the signing
/// time (RFC 7519 §4.1.6 NumericDate, whole seconds); signatures made before it existed lack it.
public struct JWSHeader: Sendable, Hashable {
    public var algorithm: String
    public var keyID: String?
    /// base64url SHA-256 of the signer's certificate DER.
    public var certificateThumbprint: String?
    /// `iat`: when the signature was made, in seconds since the epoch (`SigningTimePolicy`).
    public var signedAt: Int64?

    public init(algorithm: String = "ES256", keyID: String?, certificateThumbprint: String?, signedAt: Int64? = nil) {
        self.algorithm = algorithm
        self.keyID = keyID
        self.certificateThumbprint = certificateThumbprint
        self.signedAt = signedAt
    }

    public var json: JSONValue {
        .object([
            "alg": .string(algorithm), "iat": signedAt.map { .integer($0) }, "kid": keyID.map(JSONValue.string),
            "x5t#S256": certificateThumbprint.map(JSONValue.string),
        ])
    }

    /// The largest `iat` accepted: 2^53 − 1, the last integer every JSON implementation reads exactly.
    static let maximumSignedAt: Int64 = 9_007_199_254_740_991

    /// JCS bytes of the header (the header contains no numbers, so this cannot fail).
    public var encodedJSON: [UInt8] { (try? JCS.canonicalize(json)) ?? [] }

    /// Reads a decoded protected header. Rejects headers wardgate cannot honour: `crit` (RFC 7515
    /// §4.1.11: unknown critical extensions must fail) and `b64` other than true (RFC 7797).
    static func parse(_ bytes: [UInt8]) throws(JWSVerificationError) -> JWSHeader {
        let value: JSONValue
        do {
            value = try JSONParser.parse(bytes, maxDepth: 8)
        } catch {
            throw .malformed("protected header is not JSON: \(error)")
        }
        guard case .object = value else { throw .malformed("protected header is not a JSON object") }
        guard let algorithm = value["alg"]?.stringValue else { throw .malformed("protected header has no string \"alg\"") }
        if value["crit"] != nil { throw .unsupportedHeader("\"crit\" is not supported") }
        if let b64 = value["b64"], b64 != .bool(true) { throw .unsupportedHeader("unencoded payloads (\"b64\") are not supported") }
        let keyID = value["kid"]
        let thumbprint = value["x5t#S256"]
        if let keyID, keyID.stringValue == nil { throw .malformed("\"kid\" is not a string") }
        if let thumbprint, thumbprint.stringValue == nil { throw .malformed("\"x5t#S256\" is not a string") }
        var signedAt: Int64?
        if let iat = value["iat"] {
            guard let lexeme = iat.numberLexeme, lexeme.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }),
                let seconds = Int64(lexeme), seconds <= maximumSignedAt
            else { throw .malformed("\"iat\" is not a whole number of seconds since the epoch") }
            signedAt = seconds
        }
        return JWSHeader(algorithm: algorithm, keyID: keyID?.stringValue, certificateThumbprint: thumbprint?.stringValue, signedAt: signedAt)
    }
}

/// A signer's protected header as JCS bytes with the `iat` digits cut out. Only `iat` varies
/// between its signatures, so each header is `prefix + digits + suffix`: the bytes
/// `JWSHeader.encodedJSON` gives, without a JSON tree and a canonicalization per signature.
public struct JWSHeaderTemplate: Sendable, Hashable {
    /// Up to and including `"iat":`.
    public let prefix: [UInt8]
    /// From the member after `iat` to the closing brace.
    public let suffix: [UInt8]

    public init(keyID: String?, certificateThumbprint: String?) {
        let json = JWSHeader(keyID: keyID, certificateThumbprint: certificateThumbprint, signedAt: 0).encodedJSON
        // A string member cannot hold this: its quotes would be escaped.
        let marker = Array(#""iat":0"#.utf8)
        let start = json.indices.first { json[$0...].starts(with: marker) } ?? json.endIndex
        prefix = Array(json[..<start]) + marker.dropLast()
        suffix = Array(json[min(json.endIndex, start + marker.count)...])
    }

    /// Whether `signedAt` is written as its plain digits in JCS form (and accepted by `JWSHeader.parse`).
    public static func writesPlainly(_ signedAt: Int64) -> Bool { signedAt >= 0 && signedAt <= JWSHeader.maximumSignedAt }

    /// The header JSON for `signedAt` (`writesPlainly(signedAt)` must hold).
    public func json(signedAt: Int64) -> [UInt8] {
        var out = prefix
        out.reserveCapacity(prefix.count + 20 + suffix.count)
        out += String(signedAt).utf8
        out += suffix
        return out
    }
}
