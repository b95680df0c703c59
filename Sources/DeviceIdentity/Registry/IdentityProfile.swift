import Crypto
import X509

/// What makes a certificate mean "device X" or "gateway X": the one rule, used where the gateway
/// decides whether to sign (`IdentityLoader`) and where a verifier checks a signature offline
/// (`ChainVerification`).
enum IdentityProfile {
    /// nil when `certificate` fits the profile of `name`; otherwise what is wrong.
    static func problem(_ certificate: Certificate, for name: IdentityName) -> String? {
        guard let usage = try? certificate.extensions.keyUsage, usage.digitalSignature else {
            return "keyUsage does not allow digitalSignature"
        }
        guard P256.Signing.PublicKey(certificate.publicKey) != nil else {
            return "its key is \(certificate.publicKey), not P-256"
        }
        let urn = name.kind.urnPrefix + name.id
        let urns = CertificateCoding.wardgateURNs(certificate)
        guard urns.contains(urn) else {
            return urns.isEmpty
                ? "its subjectAltName does not contain \(urn)"
                : "its subjectAltName names \(urns.joined(separator: ", ")), not \(urn)"
        }
        return nil
    }
}
