import Crypto
import HexEncoding
import SwiftASN1
import X509

/// DER/PEM conversions and thumbprints for certificates, with errors that name the file.
public enum CertificateCoding {
    public static func derBytes(_ certificate: Certificate) -> [UInt8] {
        var serializer = DER.Serializer()
        // Serializing a parsed or freshly built Certificate re-emits stored bytes; it cannot fail
        // for values this module holds, but stay total anyway.
        guard (try? serializer.serialize(certificate)) != nil else { return [] }
        return serializer.serializedBytes
    }

    public static func pemString(_ certificate: Certificate) -> String {
        PEMDocument(type: "CERTIFICATE", derBytes: derBytes(certificate)).pemString + "\n"
    }

    /// SHA-256 of the certificate's DER: the JOSE `x5t#S256` value before base64url.
    public static func sha256Thumbprint(_ certificate: Certificate) -> [UInt8] {
        Array(SHA256.hash(data: derBytes(certificate)))
    }

    /// `x5t#S256` as it appears in a JWS header.
    public static func thumbprintBase64URL(_ certificate: Certificate) -> String {
        Base64URL.encode(sha256Thumbprint(certificate))
    }

    /// Parses PEM (first CERTIFICATE block) or raw DER.
    public static func certificate(fromFileBytes bytes: [UInt8], path: String) throws(IdentityError) -> Certificate {
        do {
            if let text = String(validating: bytes, as: UTF8.self), text.contains("-----BEGIN") {
                let documents = try PEMDocument.parseMultiple(pemString: text)
                guard let document = documents.first(where: { $0.discriminator == "CERTIFICATE" }) else {
                    throw IdentityError.malformedFile(path: path, reason: "no CERTIFICATE block in PEM file")
                }
                return try Certificate(derEncoded: document.derBytes)
            }
            return try Certificate(derEncoded: bytes)
        } catch let error as IdentityError {
            throw error
        } catch {
            throw .malformedFile(path: path, reason: "not a valid X.509 certificate (\(error))")
        }
    }

    /// Every CERTIFICATE block of a PEM file (a bundle), in order; at least one.
    public static func loadCertificates(_ path: String) throws(IdentityError) -> [Certificate] {
        let bytes = try SecureFile.read(path)
        guard let text = String(validating: bytes, as: UTF8.self), text.contains("-----BEGIN") else { return [try certificate(fromFileBytes: bytes, path: path)] }
        do {
            let certificates = try PEMDocument.parseMultiple(pemString: text).filter { $0.discriminator == "CERTIFICATE" }.map { try Certificate(derEncoded: $0.derBytes) }
            guard !certificates.isEmpty else { throw IdentityError.malformedFile(path: path, reason: "no CERTIFICATE block in PEM file") }
            return certificates
        } catch let error as IdentityError {
            throw error
        } catch {
            throw .malformedFile(path: path, reason: "not a bundle of valid X.509 certificates (\(error))")
        }
    }

    public static func loadCertificate(_ path: String) throws(IdentityError) -> Certificate {
        try certificate(fromFileBytes: try SecureFile.read(path), path: path)
    }

    /// Every wardgate URN in a certificate's SAN (`urn:wardgate:device:<id>`); a wardgate certificate has exactly one.
    public static func wardgateURNs(_ certificate: Certificate) -> [String] {
        guard let names = try? certificate.extensions.subjectAlternativeNames else { return [] }
        return names.compactMap { name in
            if case .uniformResourceIdentifier(let uri) = name, uri.hasPrefix("urn:wardgate:") { return uri }
            return nil
        }
    }

    /// The first common name in the subject.
    static func commonName(_ certificate: Certificate) -> String? {
        for rdn in certificate.subject {
            for attribute in rdn where attribute.type == .RDNAttributeType.commonName {
                if let value = String(attribute.value) { return value }
            }
        }
        return nil
    }

    static func serialHex(_ serial: Certificate.SerialNumber) -> String { Hex.encode(serial.bytes) }
}
