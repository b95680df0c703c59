import Crypto
import X509

/// What makes a certificate mean "device X" or "gateway X": the one rule, used where the gateway
/// decides whether to sign (`IdentityLoader`) and where a verifier checks a signature offline
/// (`ChainVerification`).
///
/// A device certificate and a gateway certificate can never carry the same identity: the
/// subjectAltName must hold exactly one wardgate URN, of the certificate's own kind
/// (`urn:wardgate:device:<id>` or `urn:wardgate:gateway:<id>`), and the subject CN, which the
/// broker takes as the client's username, must be that same id. With `IdentityNamespaces`
/// keeping the ids themselves apart, no certificate stands for a device and a gateway at once.
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
        guard urns.count == 1 else {
            return "its subjectAltName names \(urns.count) wardgate identities (\(urns.joined(separator: ", "))); a certificate stands for one device or one gateway"
        }
        let commonName = CertificateCoding.commonName(certificate)
        guard commonName == name.id else {
            return "its subject CN is \(commonName.map { "\"\($0)\"" } ?? "missing"), not \"\(name.id)\" (the broker knows a client by its CN)"
        }
        return nil
    }
}
