import Foundation
import X509

/// How a certificate is judged at a signature's signing time: the one rule the gateway applies
/// before it signs and every verifier applies afterwards, so the two cannot disagree.
///
/// - The signing time is the JWS `iat` header (RFC 7519 NumericDate), in whole seconds rounded
///   down: X.509 validity and CRL dates have second precision too, and rounding down never
///   moves a signature after the moment it was made (or after its anchor).
/// - A certificate is valid at T when notBefore ≤ T ≤ notAfter (RFC 5280 §4.1.2.5), and so is
///   the CA that issued it.
/// - It counts as revoked at T when its CRL entry's date is at or before T, and whatever the
///   date when the reason is keyCompromise (the key may have leaked before anyone noticed).
/// - Once a ledger receipt exists, T must not be later than the anchor's time: a signature
///   cannot claim to be younger than the ledger block that anchors it.
/// The device's own clock (FHIR `effectiveDateTime`) plays no part in any of these.
public struct SigningTimePolicy: Sendable, Hashable {
    public static let standard = SigningTimePolicy()

    /// The `iat` for a signature made at `now`.
    public func signingTime(at now: Date) -> Int64 {
        Int64((now.timeIntervalSince1970).rounded(.down))
    }

    public func date(ofSigningTime seconds: Int64) -> Date { Date(timeIntervalSince1970: TimeInterval(seconds)) }

    public func isValid(_ certificate: Certificate, at time: Date) -> Bool {
        certificate.notValidBefore <= time && time <= certificate.notValidAfter
    }

    public func countsAsRevoked(_ entry: CertificateRevocationList.RevokedCertificate, at time: Date) -> Bool {
        entry.reason == .keyCompromise || entry.revocationDate <= time
    }

    /// Whether a signature made at `signingTime` may be anchored by a ledger block of `anchoredAt`.
    public func isConsistent(signingTime: Date, anchoredAt: Date) -> Bool { signingTime <= anchoredAt }
}
