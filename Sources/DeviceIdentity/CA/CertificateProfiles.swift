import Crypto
import Foundation
import SwiftASN1
import X509

/// The certificate profiles wardgate issues. See docs/identity.md, "Certificate profiles".
enum CertificateProfiles {
    /// End-entity certificates start a little in the past so readings queued just before
    /// enrollment, or a device clock slightly behind, are still inside the validity window.
    static let backdating: TimeInterval = 300

    static func randomSerialNumber() -> Certificate.SerialNumber {
        // 20 bytes from the system CSPRNG with the top bit cleared: a positive INTEGER of at most
        // 20 octets (RFC 5280 §4.1.2.2). swift-certificates' own random serial can need 21.
        var bytes = (0..<20).map { _ in UInt8.random(in: 0...255) }
        bytes[0] &= 0x7F
        if bytes[0] == 0 { bytes[0] = 0x01 }  // keep the minimal DER form 20 bytes long
        return Certificate.SerialNumber(bytes: bytes)
    }

    static func rootExtensions(publicKey: Certificate.PublicKey) throws -> Certificate.Extensions {
        let ski = SubjectKeyIdentifier(hash: publicKey)
        return try Certificate.Extensions {
            Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 0))
            Critical(KeyUsage(keyCertSign: true, cRLSign: true))
            ski
            AuthorityKeyIdentifier(keyIdentifier: ski.keyIdentifier)
        }
    }

    static func endEntityExtensions(
        kind: IdentityKind,
        id: String,
        publicKey: Certificate.PublicKey,
        issuer: Certificate
    ) throws -> Certificate.Extensions {
        let authorityKey = try CRLBuilder.authorityKeyIdentifier(of: issuer)
        return try Certificate.Extensions {
            Critical(BasicConstraints.notCertificateAuthority)
            Critical(KeyUsage(digitalSignature: true))
            SubjectAlternativeNames([.uniformResourceIdentifier(kind.urnPrefix + id)])
            SubjectKeyIdentifier(hash: publicKey)
            authorityKey
        }
    }

    static func validityDays(_ days: Int) throws(IdentityError) -> TimeInterval {
        guard (1...36_500).contains(days) else { throw .invalidArgument("validity days must be between 1 and 36500, not \(days)") }
        return TimeInterval(days) * 86_400
    }
}
