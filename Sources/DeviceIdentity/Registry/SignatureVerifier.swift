import Foundation
import HexEncoding
import JSONDocument
import X509

/// Offline verification of a signed Observation, for `wardgate verify`: resolve the JWS's
/// `x5t#S256` to a certificate, verify the ES256 signature over the Observation's JCS bytes, then
/// verify the certificate to the CA at the signing time, the JWS `iat` (with the CRL when there is one).
public struct SignatureVerifier: Sendable {
    public struct Verified: Sendable {
        public var name: IdentityName
        public var certificate: Certificate
        public var header: JWSHeader
    }

    public enum Failure: Error, Sendable, Hashable, CustomStringConvertible {
        case signature(JWSVerificationError)
        case unknownCertificate(thumbprint: String?)
        case chain(ChainVerificationFailure)
        /// The header's `kid` is not the identity named in the certificate.
        case identityMismatch(keyID: String?, certificateURNs: [String])

        public var description: String {
            switch self {
            case .signature(let error): error.description
            case .unknownCertificate(let thumbprint): "no certificate with x5t#S256 \(thumbprint ?? "(missing)") is known"
            case .chain(let error): "signer certificate: \(error)"
            case .identityMismatch(let keyID, let urns):
                "the JWS kid \(keyID ?? "(missing)") does not match the certificate (\(urns.joined(separator: ", ")))"
            }
        }
    }

    public let anchor: Certificate
    public let crl: CertificateRevocationList?
    private let certificates: [String: Certificate]

    /// - Parameter certificates: signer certificates to resolve `x5t#S256` against (current and rotated).
    public init(anchor: Certificate, crl: CertificateRevocationList?, certificates: [Certificate]) {
        self.anchor = anchor
        self.crl = crl
        var byThumbprint: [String: Certificate] = [:]
        for certificate in certificates { byThumbprint[CertificateCoding.thumbprintBase64URL(certificate)] = certificate }
        self.certificates = byThumbprint
    }

    /// Everything from a keystore: its CA, its (verified) CRL and its certificate archive.
    public init(keystore: Keystore) throws(IdentityError) {
        self.init(
            anchor: try CertificateCoding.loadCertificate(keystore.caCertificatePath),
            crl: try keystore.verifiedCRL(),
            certificates: keystore.archivedCertificates()
        )
    }

    public func certificate(forThumbprint thumbprint: String) -> Certificate? { certificates[thumbprint] }

    /// - Parameter signedAt: when the signature was made (the Provenance `signature.when`); used only
    ///   when the JWS has no `iat` (signatures made before it existed), which otherwise decides.
    public func verify(jws: String, observation: JSONValue, signedAt: Date) async -> Result<Verified, Failure> {
        let payload: [UInt8]
        do {
            payload = try JCS.canonicalize(observation)
        } catch {
            return .failure(.signature(.payloadNotCanonicalizable(error)))
        }
        return await verify(jws: jws, payload: payload, signedAt: signedAt)
    }

    public func verify(jws: String, payload: [UInt8], signedAt: Date) async -> Result<Verified, Failure> {
        let parsed: JWSVerifier.DetachedJWS
        do {
            parsed = try JWSVerifier.parse(jws)
        } catch {
            return .failure(.signature(error))
        }
        guard let thumbprint = parsed.header.certificateThumbprint, let certificate = certificates[thumbprint] else {
            return .failure(.unknownCertificate(thumbprint: parsed.header.certificateThumbprint))
        }
        let header: JWSHeader
        do {
            header = try JWSVerifier.verify(jws, detachedPayload: payload, certificate: certificate)
        } catch {
            return .failure(.signature(error))
        }
        let urns = CertificateCoding.wardgateURNs(certificate)
        guard let keyID = header.keyID,
            let kind = [IdentityKind.device, .gateway].first(where: { urns.contains($0.urnPrefix + keyID) })
        else {
            return .failure(.identityMismatch(keyID: header.keyID, certificateURNs: urns))
        }
        let name = IdentityName(kind: kind, id: keyID)
        // The signing time inside the signature wins; `signedAt` is for signatures made before `iat`.
        let time = header.signedAt.map(SigningTimePolicy.standard.date(ofSigningTime:)) ?? signedAt
        switch await ChainVerification.verify(certificate, anchor: anchor, at: time, crl: crl, expecting: name) {
        case .success: return .success(Verified(name: name, certificate: certificate, header: header))
        case .failure(let failure): return .failure(.chain(failure))
        }
    }
}
