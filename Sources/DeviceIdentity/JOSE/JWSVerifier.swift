import Crypto
import HexEncoding
import JSONDocument
import SigningKeys
import X509

public enum JWSVerificationError: Error, Sendable, Hashable, CustomStringConvertible {
    case malformed(String)
    case unsupportedAlgorithm(String)
    case unsupportedHeader(String)
    /// The compact JWS carries a payload; wardgate signatures are detached (`header..signature`).
    case payloadNotDetached
    /// The header's `x5t#S256` names a different certificate than the one given.
    case certificateMismatch(expected: String, found: String?)
    /// The certificate's key is not a P-256 key.
    case unsupportedKey(String)
    /// s > n/2: a valid ECDSA signature, but not the one form wardgate accepts.
    case highS
    case invalidSignature
    case payloadNotCanonicalizable(JCSError)

    public var description: String {
        switch self {
        case .malformed(let reason): "malformed JWS: \(reason)"
        case .unsupportedAlgorithm(let alg): "unsupported JWS algorithm \"\(alg)\" (only ES256)"
        case .unsupportedHeader(let reason): "unsupported JWS header: \(reason)"
        case .payloadNotDetached: "the JWS carries its payload; expected a detached payload (header..signature)"
        case .certificateMismatch(let expected, let found):
            "the JWS names certificate \(found ?? "(none)") but verification used \(expected)"
        case .unsupportedKey(let reason): "unsupported verification key: \(reason)"
        case .highS: "signature is not in low-S form"
        case .invalidSignature: "signature does not verify"
        case .payloadNotCanonicalizable(let error): "payload has no canonical form: \(error)"
        }
    }
}

/// Verifies wardgate's detached compact JWS. Total over its input: malformed text throws, never traps.
public enum JWSVerifier {
    /// Far above any header wardgate writes (~150 bytes) plus a 64-byte signature.
    public static let maximumLength = 8192

    public struct DetachedJWS: Sendable, Hashable {
        public var header: JWSHeader
        /// The first segment exactly as sent (the signing input uses it verbatim).
        public var encodedHeader: [UInt8]
        /// r‖s, 64 bytes.
        public var signature: [UInt8]
    }

    public static func parse(_ compact: String) throws(JWSVerificationError) -> DetachedJWS {
        let bytes = Array(compact.utf8)
        guard bytes.count <= maximumLength else { throw .malformed("longer than \(maximumLength) bytes") }
        let segments = bytes.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
        guard segments.count == 3 else { throw .malformed("expected 3 dot-separated segments, found \(segments.count)") }
        guard segments[1].isEmpty else { throw .payloadNotDetached }
        guard let headerBytes = Base64URL.decode(segments[0]), !headerBytes.isEmpty else {
            throw .malformed("header is not base64url")
        }
        guard let signature = Base64URL.decode(segments[2]) else { throw .malformed("signature is not base64url") }
        let header = try JWSHeader.parse(headerBytes)
        guard header.algorithm == "ES256" else { throw .unsupportedAlgorithm(header.algorithm) }
        guard signature.count == 64 else { throw .malformed("an ES256 signature is 64 bytes, this one is \(signature.count)") }
        return DetachedJWS(header: header, encodedHeader: Array(segments[0]), signature: signature)
    }

    /// Verifies `compact` over `payload` (the JCS bytes of the Observation) with `publicKey`.
    @discardableResult
    public static func verify(
        _ compact: String,
        detachedPayload payload: [UInt8],
        publicKey: P256.Signing.PublicKey
    ) throws(JWSVerificationError) -> JWSHeader {
        let jws = try parse(compact)
        try checkSignature(jws, payload: payload, publicKey: publicKey)
        return jws.header
    }

    /// As above, with the key from `certificate`, and the header's `x5t#S256` must name it.
    @discardableResult
    public static func verify(
        _ compact: String,
        detachedPayload payload: [UInt8],
        certificate: Certificate
    ) throws(JWSVerificationError) -> JWSHeader {
        let jws = try parse(compact)
        let thumbprint = CertificateCoding.thumbprintBase64URL(certificate)
        guard jws.header.certificateThumbprint == thumbprint else {
            throw .certificateMismatch(expected: thumbprint, found: jws.header.certificateThumbprint)
        }
        guard let publicKey = P256.Signing.PublicKey(certificate.publicKey) else {
            throw .unsupportedKey("certificate key is \(certificate.publicKey), not P-256")
        }
        try checkSignature(jws, payload: payload, publicKey: publicKey)
        return jws.header
    }

    /// Canonicalizes `observation` (RFC 8785) and verifies the JWS over those bytes.
    @discardableResult
    public static func verify(_ compact: String, observation: JSONValue, certificate: Certificate) throws(JWSVerificationError) -> JWSHeader {
        let payload: [UInt8]
        do {
            payload = try JCS.canonicalize(observation)
        } catch {
            throw .payloadNotCanonicalizable(error)
        }
        return try verify(compact, detachedPayload: payload, certificate: certificate)
    }

    static func checkSignature(_ jws: DetachedJWS, payload: [UInt8], publicKey: P256.Signing.PublicKey) throws(JWSVerificationError) {
        guard ES256.scalarsInRange(jws.signature) else { throw .invalidSignature }
        guard ES256.isLowS(jws.signature) else { throw .highS }
        var signingInput = jws.encodedHeader
        signingInput.append(UInt8(ascii: "."))
        Base64URL.append(payload, to: &signingInput)
        guard let signature = try? P256.Signing.ECDSASignature(rawRepresentation: jws.signature),
            publicKey.isValidSignature(signature, for: signingInput)
        else { throw .invalidSignature }
    }
}
