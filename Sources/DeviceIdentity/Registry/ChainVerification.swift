import Foundation
import SwiftASN1
@_spi(FixedExpiryValidationTime) import X509

public enum ChainVerificationFailure: Error, Sendable, Hashable, CustomStringConvertible {
    /// swift-certificates' Verifier found no acceptable chain; the reasons come from its policies.
    case untrusted(reasons: [String])
    case revoked(reason: RevocationReason?, date: Date)
    /// The CRL offered is not signed by the trust anchor.
    case crlNotFromAnchor

    public var description: String {
        switch self {
        case .untrusted(let reasons):
            reasons.isEmpty ? "no certificate chain to the trust anchor" : "not trusted: " + reasons.joined(separator: "; ")
        case .revoked(let reason, let date):
            "revoked at \(IdentityFailure.format(date)) (\(reason?.name ?? "unspecified"))"
        case .crlNotFromAnchor:
            "the CRL is not signed by the trust anchor"
        }
    }
}

/// Verifies a certificate to the ward CA at a given time with swift-certificates' `Verifier`:
/// RFC 5280 checks (signatures, validity at `time`, basic constraints) plus wardgate's profile and,
/// when given, the CRL.
///
/// `intermediates` may complete the chain (a Fabric organization's intermediate CAs). `time` is
/// the signature's signing time; revocation follows `SigningTimePolicy`.
public enum ChainVerification {
    public static func verify(
        _ certificate: Certificate,
        anchor: Certificate,
        intermediates: [Certificate] = [],
        at time: Date,
        crl: CertificateRevocationList? = nil,
        expecting name: IdentityName? = nil
    ) async -> Result<Void, ChainVerificationFailure> {
        if let crl, !crl.isSigned(by: anchor) { return .failure(.crlNotFromAnchor) }
        var verifier = Verifier(rootCertificates: CertificateStore([anchor])) {
            RFC5280Policy(fixedExpiryValidationTime: time)
            WardgateProfilePolicy(expected: name)
            CRLRevocationPolicy(crl: crl, time: time)
        }
        switch await verifier.validate(leaf: certificate, intermediates: CertificateStore(intermediates)) {
        case .validCertificate:
            return .success(())
        case .couldNotValidate(let failures):
            if let entry = crl?.entry(for: certificate.serialNumber), CRLRevocationPolicy.counts(entry, at: time) {
                return .failure(.revoked(reason: entry.reason, date: entry.revocationDate))
            }
            return .failure(.untrusted(reasons: failures.map { String(describing: $0.policyFailureReason) }))
        }
    }
}

/// The leaf must allow digitalSignature and, when a name is expected, fit that identity's profile
/// (`IdentityProfile`, the rule the gateway signs by).
struct WardgateProfilePolicy: VerifierPolicy {
    let verifyingCriticalExtensions: [ASN1ObjectIdentifier] = [.X509ExtensionID.keyUsage]
    let expected: IdentityName?

    func chainMeetsPolicyRequirements(chain: UnverifiedCertificateChain) -> PolicyEvaluationResult {
        let leaf = chain.leaf
        if let expected {
            return IdentityProfile.problem(leaf, for: expected).map { .failsToMeetPolicy(reason: "leaf: \($0)") } ?? .meetsPolicy
        }
        guard let usage = try? leaf.extensions.keyUsage, usage.digitalSignature else {
            return .failsToMeetPolicy(reason: "leaf keyUsage does not allow digitalSignature")
        }
        return .meetsPolicy
    }
}

/// Checks certificates below the root against a CRL issued by the root.
struct CRLRevocationPolicy: VerifierPolicy {
    let verifyingCriticalExtensions: [ASN1ObjectIdentifier] = []
    let crl: CertificateRevocationList?
    let time: Date

    static func counts(_ entry: CertificateRevocationList.RevokedCertificate, at time: Date) -> Bool {
        SigningTimePolicy.standard.countsAsRevoked(entry, at: time)
    }

    func chainMeetsPolicyRequirements(chain: UnverifiedCertificateChain) -> PolicyEvaluationResult {
        guard let crl else { return .meetsPolicy }
        for certificate in chain.dropLast() where certificate.issuer == crl.issuer {
            if let entry = crl.entry(for: certificate.serialNumber), Self.counts(entry, at: time) {
                return .failsToMeetPolicy(reason: "certificate \(certificate.serialNumber) is revoked (\(entry.reason?.name ?? "unspecified"))")
            }
        }
        return .meetsPolicy
    }
}
