import Foundation
import SwiftASN1
import X509

/// Builds and signs an X.509 v2 CRL (RFC 5280 §5) with SwiftASN1, as swift-certificates has no
/// CRL type. Extensions: authorityKeyIdentifier and cRLNumber on the list, reasonCode on entries.
enum CRLBuilder {
    struct Entry {
        var serial: [UInt8]
        var revocationDate: Date
        var reason: RevocationReason
    }

    static let crlNumberOID: ASN1ObjectIdentifier = [2, 5, 29, 20]
    static let reasonCodeOID: ASN1ObjectIdentifier = [2, 5, 29, 21]

    static func build(
        issuer: Certificate,
        issuerKey: Certificate.PrivateKey,
        crlNumber: Int,
        thisUpdate: Date,
        nextUpdate: Date,
        entries: [Entry]
    ) throws(IdentityError) -> [UInt8] {
        let algorithm = SignatureAlgorithms.preferred(for: issuerKey)
        guard let algorithmOID = SignatureAlgorithms.oid(of: algorithm) else {
            throw .unsupportedKey(path: "CA key", reason: "no CRL signature algorithm for this key type")
        }
        do {
            var tbs = DER.Serializer()
            try tbs.appendConstructedNode(identifier: .sequence) { coder in
                try coder.serialize(1)  // v2
                try SignatureAlgorithms.serializeIdentifier(algorithmOID, into: &coder)
                try coder.serialize(issuer.subject)
                try ASN1Time.serialize(thisUpdate, into: &coder)
                try ASN1Time.serialize(nextUpdate, into: &coder)
                // RFC 5280: the list is absent, not empty, when nothing is revoked.
                if !entries.isEmpty {
                    try coder.appendConstructedNode(identifier: .sequence) { coder in
                        for entry in entries { try serialize(entry, into: &coder) }
                    }
                }
                try coder.serialize(explicitlyTaggedWithTagNumber: 0, tagClass: .contextSpecific) { coder in
                    try coder.appendConstructedNode(identifier: .sequence) { coder in
                        try coder.serialize(try authorityKeyIdentifier(of: issuer).makeCertificateExtension())
                        var number = DER.Serializer()
                        try number.serialize(crlNumber)
                        try coder.serialize(
                            Certificate.Extension(oid: crlNumberOID, critical: false, value: number.serializedBytes[...])
                        )
                    }
                }
            }
            let tbsBytes = tbs.serializedBytes
            let signature = try issuerKey.sign(bytes: tbsBytes, signatureAlgorithm: algorithm)

            var crl = DER.Serializer()
            try crl.appendConstructedNode(identifier: .sequence) { coder in
                coder.serializeRawBytes(tbsBytes)
                try SignatureAlgorithms.serializeIdentifier(algorithmOID, into: &coder)
                try coder.serialize(ASN1BitString(bytes: signature.rawRepresentation[...]))
            }
            return crl.serializedBytes
        } catch let error as IdentityError {
            throw error
        } catch {
            throw .cryptographicFailure("cannot build the CRL: \(error)")
        }
    }

    private static func serialize(_ entry: Entry, into coder: inout DER.Serializer) throws {
        try coder.appendConstructedNode(identifier: .sequence) { coder in
            coder.appendPrimitiveNode(identifier: .integer) { $0.append(contentsOf: entry.serial) }
            try ASN1Time.serialize(entry.revocationDate, into: &coder)
            // RFC 5280 §5.3.1: omit reasonCode rather than say "unspecified".
            if entry.reason != .unspecified {
                try coder.appendConstructedNode(identifier: .sequence) { coder in
                    var value = DER.Serializer()
                    value.appendPrimitiveNode(identifier: .enumerated) { $0.append(UInt8(entry.reason.rawValue)) }
                    try coder.serialize(
                        Certificate.Extension(oid: reasonCodeOID, critical: false, value: value.serializedBytes[...])
                    )
                }
            }
        }
    }

    /// The CA's own SKI when it has one, otherwise the RFC 5280 method-1 hash of its key.
    static func authorityKeyIdentifier(of issuer: Certificate) throws -> AuthorityKeyIdentifier {
        let keyIdentifier = (try? issuer.extensions.subjectKeyIdentifier)?.keyIdentifier
            ?? SubjectKeyIdentifier(hash: issuer.publicKey).keyIdentifier
        return AuthorityKeyIdentifier(keyIdentifier: keyIdentifier)
    }
}
