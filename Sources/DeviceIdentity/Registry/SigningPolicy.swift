import Foundation
import X509

/// The gateway's decision "may this identity sign at this time?", as one value: the trust anchor
/// and CRL it decides against, and the order of the checks. The registry decides with it before
/// every signature, and `device list` shows the same decision (through the registry), so the two
/// cannot disagree.
///
/// Order: what makes the certificate unusable whatever the time (unreadable, another CA, outside
/// the profile, an id shared with a gateway), then revocation (any listed serial: signing happens
/// now, whatever the entry's date), then the validity windows of the certificate and of the CA,
/// and only then the private key (missing, permissions, unreadable, not matching). Installing a
/// key cannot help a revoked or expired certificate, so that is said first.
struct SigningPolicy: Sendable {
    let anchor: Certificate
    let crl: CertificateRevocationList?
    let timeRule = SigningTimePolicy.standard

    func decide(_ loaded: LoadedIdentity, name: IdentityName, at time: Date) -> Result<DeviceSigner, IdentityFailure> {
        let certificate: Certificate
        switch loaded.certificate {
        case .success(let value): certificate = value
        case .failure(let failure): return .failure(failure)
        }
        if let revoked = crl?.entry(for: certificate.serialNumber) {
            return .failure(.revoked(name, reason: revoked.reason, date: revoked.revocationDate))
        }
        // The windows at the signing time, by the rule every verifier applies (`SigningTimePolicy`).
        if !timeRule.isValid(certificate, at: time) {
            return time < certificate.notValidBefore
                ? .failure(.notYetValid(name, notBefore: certificate.notValidBefore)) : .failure(.expired(name, notAfter: certificate.notValidAfter))
        }
        if !timeRule.isValid(anchor, at: time) {
            return .failure(.chainInvalid(name, reason: "the CA certificate is valid only from \(anchor.notValidBefore) to \(anchor.notValidAfter)"))
        }
        return loaded.signer
    }
}
