import Crypto
import Foundation
import HexEncoding
import JSONDocument
import SigningKeys
import X509

/// A ready-to-use signing identity: parsed key, certificate and pre-encoded JWS header.
///
/// Cheap to copy and `Sendable`; `sign` takes no lock, so pipeline workers can sign in parallel.
public struct DeviceSigner: Sendable {
    public let kind: IdentityKind
    public let id: String
    public let certificate: Certificate
    /// `x5t#S256` of `certificate`.
    public let certificateThumbprint: String
    private let signingKey: SendableSigningKey
    /// base64url(protected header), computed once.
    private let encodedHeader: [UInt8]
    /// The protected header around its `iat`, encoded once: a signature's header is not rebuilt as a tree.
    public let headerTemplate: JWSHeaderTemplate

    /// Pairs a key with its certificate; fails if they do not match or the certificate's key is not P-256.
    public init(kind: IdentityKind = .device, id: String, certificate: Certificate, privateKey: P256.Signing.PrivateKey) throws(IdentityError) {
        guard let certificateKey = P256.Signing.PublicKey(certificate.publicKey) else {
            throw .unsupportedKey(path: "certificate of \(id)", reason: "not a P-256 key")
        }
        guard certificateKey.rawRepresentation == privateKey.publicKey.rawRepresentation else {
            throw .keyCertificateMismatch(keyPath: "private key of \(id)", certificatePath: "certificate of \(id)")
        }
        self.kind = kind
        self.id = id
        self.certificate = certificate
        self.signingKey = SendableSigningKey(key: privateKey)
        self.certificateThumbprint = CertificateCoding.thumbprintBase64URL(certificate)
        var header: [UInt8] = []
        Base64URL.append(JWSHeader(keyID: id, certificateThumbprint: certificateThumbprint).encodedJSON, to: &header)
        self.encodedHeader = header
        self.headerTemplate = JWSHeaderTemplate(keyID: id, certificateThumbprint: certificateThumbprint)
    }

    public var header: JWSHeader { JWSHeader(keyID: id, certificateThumbprint: certificateThumbprint) }

    /// Signs `payload` (the JCS bytes of an Observation) and returns the compact JWS with a detached
    /// payload: `base64url(header) + ".." + base64url(r‖s)`, s in low-S form.
    public func sign(_ payload: [UInt8]) throws(IdentityError) -> String {
        var signingInput = encodedHeader
        signingInput.reserveCapacity(encodedHeader.count + 1 + (payload.count * 4 + 2) / 3)
        signingInput.append(UInt8(ascii: "."))
        Base64URL.append(payload, to: &signingInput)
        let raw = try rawSignature(over: signingInput)
        var out = encodedHeader
        out.reserveCapacity(encodedHeader.count + 2 + 86)
        out.append(UInt8(ascii: "."))
        out.append(UInt8(ascii: "."))
        Base64URL.append(raw, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// The protected header of a signature made at `signedAt` (the JWS `iat`, `SigningTimePolicy`):
    /// base64url of `{"alg":"ES256","iat":…,"kid":…,"x5t#S256":…}` in JCS form.
    public func protectedHeader(signedAt: Int64) -> ProtectedHeader {
        var encoded: [UInt8] = []
        Base64URL.append(headerJSON(signedAt: signedAt), to: &encoded)
        return ProtectedHeader(encoded: encoded, signedAt: signedAt)
    }

    /// The JCS bytes of the protected header of a signature made at `signedAt`.
    func headerJSON(signedAt: Int64) -> [UInt8] {
        guard JWSHeaderTemplate.writesPlainly(signedAt) else {
            return JWSHeader(keyID: id, certificateThumbprint: certificateThumbprint, signedAt: signedAt).encodedJSON
        }
        return headerTemplate.json(signedAt: signedAt)
    }

    /// Signs `payload` with the signing time in the protected header, and returns the signature
    /// in parts (header JSON around its `iat`, raw r‖s), as the journal keeps it: nobody parses
    /// the JWS text back. `DetachedSignature.compact` is the same JWS `sign(_:signedAt:)` returns.
    public func signDetached(_ payload: [UInt8], signedAt: Int64) throws(IdentityError) -> DetachedSignature {
        let header = protectedHeader(signedAt: signedAt)
        let raw = try signature(over: payload, header: header)
        guard JWSHeaderTemplate.writesPlainly(signedAt) else {
            return DetachedSignature(headerPrefix: headerJSON(signedAt: signedAt), iat: nil, headerSuffix: [], encodedHeader: header.encoded, signature: raw)
        }
        return DetachedSignature(
            headerPrefix: headerTemplate.prefix, iat: signedAt, headerSuffix: headerTemplate.suffix, encodedHeader: header.encoded, signature: raw)
    }

    /// The raw ES256 signature (64-byte r‖s, low-S) of the detached JWS with `header` over `payload`
    /// (the JCS bytes of an Observation). `CompactJWS.detached(header:signature:)` writes its text.
    public func signature(over payload: [UInt8], header: ProtectedHeader) throws(IdentityError) -> [UInt8] {
        // SHA-256 of base64url(header) + "." + base64url(payload), without building that string.
        var hasher = SHA256()
        hasher.update(data: header.encoded)
        hasher.update(data: [UInt8(ascii: ".")])
        var chunk: [UInt8] = []
        chunk.reserveCapacity(1024)
        var start = 0
        while start < payload.count {
            // Multiples of 3 bytes encode to base64url without padding in the middle.
            let end = min(payload.count, start + 768)
            chunk.removeAll(keepingCapacity: true)
            Base64URL.append(payload[start..<end], to: &chunk)
            hasher.update(data: chunk)
            start = end
        }
        do {
            var raw = Array(try signingKey.key.signature(for: hasher.finalize()).rawRepresentation)
            ES256.normalizeToLowS(&raw)
            return raw
        } catch {
            throw .cryptographicFailure("ECDSA signing failed for \(kind) \(id): \(error)")
        }
    }

    /// Signs `payload` with the signing time in the protected header; the compact detached JWS.
    public func sign(_ payload: [UInt8], signedAt: Int64) throws(IdentityError) -> String {
        try signDetached(payload, signedAt: signedAt).compact
    }

    /// Canonicalizes `observation` and signs it; returns the JWS and the exact payload bytes signed.
    public func sign(observation: JSONValue) throws(IdentityError) -> (jws: String, payload: [UInt8]) {
        let payload: [UInt8]
        do {
            payload = try JCS.canonicalize(observation)
        } catch {
            throw .invalidArgument("cannot canonicalize the Observation: \(error)")
        }
        return (try sign(payload), payload)
    }

    /// ECDSA P-256/SHA-256 over arbitrary bytes, 64-byte r‖s in low-S form (e.g. for the gateway's
    /// Merkle checkpoints).
    public func rawSignature<Bytes: DataProtocol>(over bytes: Bytes) throws(IdentityError) -> [UInt8] {
        do {
            return try ES256.lowSRawSignature(of: bytes, with: signingKey.key)
        } catch {
            throw .cryptographicFailure("ECDSA signing failed for \(kind) \(id): \(error)")
        }
    }
}
