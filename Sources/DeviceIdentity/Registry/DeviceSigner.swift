import Crypto
import Foundation
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
