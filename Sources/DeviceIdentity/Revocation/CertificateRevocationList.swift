import Foundation
import SwiftASN1
import X509

/// A parsed X.509 v2 CRL. Parsing never traps: malformed input throws.
public struct CertificateRevocationList: Sendable, Hashable {
    public struct RevokedCertificate: Sendable, Hashable {
        /// The serial number as its DER INTEGER content bytes (as `Certificate.SerialNumber.bytes`).
        public var serial: [UInt8]
        public var revocationDate: Date
        /// nil when the entry carries no reasonCode (RFC 5280: "unspecified"), or a code wardgate
        /// does not issue.
        public var reason: RevocationReason?
        public var reasonCode: Int?
    }

    public let issuer: DistinguishedName
    public let thisUpdate: Date
    public let nextUpdate: Date?
    public let crlNumber: Int?
    public let authorityKeyIdentifier: [UInt8]?
    public let revokedCertificates: [RevokedCertificate]
    public let derBytes: [UInt8]

    let tbsBytes: [UInt8]
    let signatureAlgorithmOID: ASN1ObjectIdentifier
    let signatureBytes: [UInt8]
    private let bySerial: [[UInt8]: Int]

    public init(derEncoded bytes: [UInt8]) throws(IdentityError) {
        do {
            let (tbsNode, outerAlgorithm, signature) = try Self.parseCertificateList(bytes)
            let tbs = try TBSCertList(tbsNode, outerAlgorithm: outerAlgorithm)
            self.issuer = tbs.issuer
            self.thisUpdate = tbs.thisUpdate
            self.nextUpdate = tbs.nextUpdate
            self.crlNumber = tbs.crlNumber
            self.authorityKeyIdentifier = tbs.authorityKeyIdentifier
            self.revokedCertificates = tbs.revoked
            self.derBytes = bytes
            self.tbsBytes = Array(tbsNode.encodedBytes)
            self.signatureAlgorithmOID = outerAlgorithm
            self.signatureBytes = signature
            var index: [[UInt8]: Int] = [:]
            for (position, entry) in tbs.revoked.enumerated() where index[entry.serial] == nil { index[entry.serial] = position }
            self.bySerial = index
        } catch let error as IdentityError {
            throw error
        } catch {
            throw .malformedFile(path: "CRL", reason: "not a valid X.509 CRL (\(error))")
        }
    }

    /// CertificateList ::= SEQUENCE { tbsCertList, signatureAlgorithm, signatureValue }.
    private static func parseCertificateList(_ bytes: [UInt8]) throws -> (tbs: ASN1Node, algorithm: ASN1ObjectIdentifier, signature: [UInt8]) {
        let root = try DER.parse(bytes)
        guard case .constructed(let top) = root.content, root.identifier == .sequence else {
            throw ASN1Error.unexpectedFieldType(root.identifier)
        }
        let parts = Array(top)
        guard parts.count == 3 else { throw ASN1Error.invalidASN1Object(reason: "CertificateList must have 3 fields") }
        let algorithm = try SignatureAlgorithms.parseIdentifierOID(parts[1])
        let bitString = try ASN1BitString(derEncoded: parts[2])
        guard bitString.paddingBits == 0 else { throw ASN1Error.invalidASN1Object(reason: "signature has padding bits") }
        return (parts[0], algorithm, Array(bitString.bytes))
    }

    /// The fields of a TBSCertList (RFC 5280, 5.1.2), in their order, each optional one only
    /// where it may be; anything left over is an error.
    private struct TBSCertList {
        let issuer: DistinguishedName
        let thisUpdate: Date
        var nextUpdate: Date?
        var revoked: [RevokedCertificate] = []
        var crlNumber: Int?
        var authorityKeyIdentifier: [UInt8]?

        init(_ node: ASN1Node, outerAlgorithm: ASN1ObjectIdentifier) throws {
            guard case .constructed(let children) = node.content, node.identifier == .sequence else {
                throw ASN1Error.unexpectedFieldType(node.identifier)
            }
            var fields = Array(children)[...]
            if let first = fields.first, first.identifier == .integer {
                let version = try Int(derEncoded: first)
                guard version == 1 else { throw ASN1Error.invalidASN1Object(reason: "unsupported CRL version \(version + 1)") }
                fields = fields.dropFirst()
            }
            guard let algorithmNode = fields.popFirst() else { throw ASN1Error.truncatedASN1Field() }
            guard try SignatureAlgorithms.parseIdentifierOID(algorithmNode) == outerAlgorithm else {
                throw ASN1Error.invalidASN1Object(reason: "inner and outer signature algorithms differ")
            }
            guard let issuerNode = fields.popFirst() else { throw ASN1Error.truncatedASN1Field() }
            issuer = try DistinguishedName(derEncoded: issuerNode)
            guard let thisUpdateNode = fields.popFirst(), ASN1Time.isTime(thisUpdateNode) else {
                throw ASN1Error.invalidASN1Object(reason: "missing thisUpdate")
            }
            thisUpdate = try ASN1Time.parse(thisUpdateNode)
            if let node = fields.first, ASN1Time.isTime(node) {
                nextUpdate = try ASN1Time.parse(node)
                fields = fields.dropFirst()
            }
            if let node = fields.first, node.identifier == .sequence {
                revoked = try CertificateRevocationList.parseEntries(node)
                fields = fields.dropFirst()
            }
            if let node = fields.first, node.identifier == ASN1Identifier(tagWithNumber: 0, tagClass: .contextSpecific) {
                fields = fields.dropFirst()
                try readExtensions(node)
            }
            guard fields.isEmpty else { throw ASN1Error.invalidASN1Object(reason: "unexpected fields in TBSCertList") }
        }

        /// crlExtensions [0]: the CRL number and the authority key identifier; an unknown critical
        /// extension makes the CRL unusable (RFC 5280, 5.2).
        private mutating func readExtensions(_ node: ASN1Node) throws {
            let extensions = try DER.explicitlyTagged(node, tagNumber: 0, tagClass: .contextSpecific) { inner in
                try DER.sequence(of: Certificate.Extension.self, identifier: .sequence, rootNode: inner)
            }
            for ext in extensions {
                switch ext.oid {
                case CRLBuilder.crlNumberOID:
                    crlNumber = try? Int(derEncoded: ext.value)
                case .X509ExtensionID.authorityKeyIdentifier:
                    authorityKeyIdentifier = (try AuthorityKeyIdentifier(ext)).keyIdentifier.map(Array.init)
                default:
                    if ext.critical { throw ASN1Error.invalidASN1Object(reason: "unsupported critical CRL extension \(ext.oid)") }
                }
            }
        }
    }

    /// Parses PEM (`X509 CRL`) or DER file content.
    public init(fileBytes: [UInt8], path: String) throws(IdentityError) {
        var der = fileBytes
        if let text = String(validating: fileBytes, as: UTF8.self), text.contains("-----BEGIN") {
            guard let document = try? PEMDocument(pemString: text), document.discriminator == "X509 CRL" else {
                throw .malformedFile(path: path, reason: "expected a PEM \"X509 CRL\" block")
            }
            der = document.derBytes
        }
        do {
            try self.init(derEncoded: der)
        } catch {
            if case .malformedFile(_, let reason) = error { throw .malformedFile(path: path, reason: reason) }
            throw error
        }
    }

    public static func load(_ path: String) throws(IdentityError) -> CertificateRevocationList {
        try CertificateRevocationList(fileBytes: try SecureFile.read(path), path: path)
    }

    public var pemString: String { PEMDocument(type: "X509 CRL", derBytes: derBytes).pemString + "\n" }

    /// Whether `issuer` signed this CRL: same name, signature valid under its key, and (when the CA
    /// has a key usage extension) cRLSign allowed.
    public func isSigned(by issuer: Certificate) -> Bool {
        guard self.issuer == issuer.subject,
            let algorithm = SignatureAlgorithms.algorithm(for: signatureAlgorithmOID)
        else { return false }
        if let usage = try? issuer.extensions.keyUsage, !usage.cRLSign { return false }
        return issuer.publicKey.isValidSignature(signatureBytes, for: tbsBytes, signatureAlgorithm: algorithm)
    }

    public func entry(for serial: Certificate.SerialNumber) -> RevokedCertificate? {
        bySerial[Array(serial.bytes)].map { revokedCertificates[$0] }
    }

    fileprivate static func parseEntries(_ node: ASN1Node) throws -> [RevokedCertificate] {
        try DER.sequence(node, identifier: .sequence) { nodes in
            var entries: [RevokedCertificate] = []
            while let entryNode = nodes.next() {
                entries.append(try DER.sequence(entryNode, identifier: .sequence) { fields in try parseEntry(&fields) })
            }
            return entries
        }
    }

    /// One revokedCertificates entry: serial, date, and the reasonCode among its extensions.
    private static func parseEntry(_ fields: inout ASN1NodeCollection.Iterator) throws -> RevokedCertificate {
        guard let serialNode = fields.next(), serialNode.identifier == .integer,
            case .primitive(let serial) = serialNode.content
        else { throw ASN1Error.invalidASN1Object(reason: "revoked entry without serial") }
        guard let dateNode = fields.next(), ASN1Time.isTime(dateNode) else {
            throw ASN1Error.invalidASN1Object(reason: "revoked entry without date")
        }
        let date = try ASN1Time.parse(dateNode)
        let code = try fields.next().flatMap(reasonCode(inExtensions:))
        return RevokedCertificate(
            serial: Array(serial),
            revocationDate: date,
            reason: code.map { RevocationReason(rawValue: $0) } ?? .unspecified,
            reasonCode: code
        )
    }

    /// The reasonCode (an ENUMERATED of one byte) among an entry's extensions; nil without one.
    private static func reasonCode(inExtensions node: ASN1Node) throws -> Int? {
        let extensions = try DER.sequence(of: Certificate.Extension.self, identifier: .sequence, rootNode: node)
        var code: Int?
        for ext in extensions where ext.oid == CRLBuilder.reasonCodeOID {
            let valueNode = try DER.parse(ext.value)
            guard valueNode.identifier == .enumerated, case .primitive(let content) = valueNode.content,
                content.count == 1
            else { throw ASN1Error.invalidASN1Object(reason: "invalid reasonCode") }
            code = Int(content[content.startIndex])
        }
        return code
    }
}
