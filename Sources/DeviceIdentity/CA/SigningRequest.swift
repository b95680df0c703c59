import Crypto
import SwiftASN1
import X509

/// Reads a PKCS#10 CSR for enrollment and checks it before anything is signed.
enum SigningRequest {
    /// Returns the CSR's P-256 public key after checking its self-signature, and that a CN, if the
    /// CSR has one, names the identity being enrolled (a mismatch is almost always operator error).
    static func loadP256PublicKey(path: String, expectedID: String) throws(IdentityError) -> P256.Signing.PublicKey {
        let bytes = try SecureFile.read(path)
        let request: CertificateSigningRequest
        do {
            if let text = String(validating: bytes, as: UTF8.self), text.contains("-----BEGIN") {
                let document = try PEMDocument(pemString: text)
                guard document.discriminator == "CERTIFICATE REQUEST" || document.discriminator == "NEW CERTIFICATE REQUEST" else {
                    throw IdentityError.invalidCSR(path: path, reason: "PEM block is \(document.discriminator), not CERTIFICATE REQUEST")
                }
                request = try CertificateSigningRequest(derEncoded: document.derBytes)
            } else {
                request = try CertificateSigningRequest(derEncoded: bytes)
            }
        } catch let error as IdentityError {
            throw error
        } catch {
            throw .invalidCSR(path: path, reason: "not a PKCS#10 request (\(error))")
        }
        guard request.publicKey.isValidSignature(request.signature, for: request) else {
            throw .invalidCSR(path: path, reason: "its self-signature does not verify")
        }
        guard let key = P256.Signing.PublicKey(request.publicKey) else {
            throw .invalidCSR(path: path, reason: "the key is \(request.publicKey), but device keys must be P-256 (ES256)")
        }
        for rdn in request.subject {
            for attribute in rdn where attribute.type == .RDNAttributeType.commonName {
                if let name = String(attribute.value), name != expectedID {
                    throw .invalidCSR(path: path, reason: "its subject CN is \"\(name)\", not \"\(expectedID)\"")
                }
            }
        }
        return key
    }
}
