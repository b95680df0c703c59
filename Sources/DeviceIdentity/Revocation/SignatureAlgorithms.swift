import Crypto
import SwiftASN1
import X509
import _CryptoExtras

/// The signature algorithms this module writes and reads outside swift-certificates' own types
/// (CRLs), with their AlgorithmIdentifier encodings.
enum SignatureAlgorithms {
    static let ecdsaWithSHA256: ASN1ObjectIdentifier = [1, 2, 840, 10045, 4, 3, 2]
    static let ecdsaWithSHA384: ASN1ObjectIdentifier = [1, 2, 840, 10045, 4, 3, 3]
    static let ecdsaWithSHA512: ASN1ObjectIdentifier = [1, 2, 840, 10045, 4, 3, 4]
    static let sha256WithRSAEncryption: ASN1ObjectIdentifier = [1, 2, 840, 113549, 1, 1, 11]
    static let sha384WithRSAEncryption: ASN1ObjectIdentifier = [1, 2, 840, 113549, 1, 1, 12]
    static let sha512WithRSAEncryption: ASN1ObjectIdentifier = [1, 2, 840, 113549, 1, 1, 13]
    static let ed25519: ASN1ObjectIdentifier = [1, 3, 101, 112]

    /// The algorithm a CA key signs with: ECDSA with the hash matching the curve, SHA-256 for RSA.
    static func preferred(for key: Certificate.PrivateKey) -> Certificate.SignatureAlgorithm {
        let publicKey = key.publicKey
        if P256.Signing.PublicKey(publicKey) != nil { return .ecdsaWithSHA256 }
        if P384.Signing.PublicKey(publicKey) != nil { return .ecdsaWithSHA384 }
        if P521.Signing.PublicKey(publicKey) != nil { return .ecdsaWithSHA512 }
        if Curve25519.Signing.PublicKey(publicKey) != nil { return .ed25519 }
        return .sha256WithRSAEncryption
    }

    static func oid(of algorithm: Certificate.SignatureAlgorithm) -> ASN1ObjectIdentifier? {
        switch algorithm {
        case .ecdsaWithSHA256: ecdsaWithSHA256
        case .ecdsaWithSHA384: ecdsaWithSHA384
        case .ecdsaWithSHA512: ecdsaWithSHA512
        case .sha256WithRSAEncryption: sha256WithRSAEncryption
        case .sha384WithRSAEncryption: sha384WithRSAEncryption
        case .sha512WithRSAEncryption: sha512WithRSAEncryption
        case .ed25519: ed25519
        default: nil
        }
    }

    static func algorithm(for oid: ASN1ObjectIdentifier) -> Certificate.SignatureAlgorithm? {
        switch oid {
        case ecdsaWithSHA256: .ecdsaWithSHA256
        case ecdsaWithSHA384: .ecdsaWithSHA384
        case ecdsaWithSHA512: .ecdsaWithSHA512
        case sha256WithRSAEncryption: .sha256WithRSAEncryption
        case sha384WithRSAEncryption: .sha384WithRSAEncryption
        case sha512WithRSAEncryption: .sha512WithRSAEncryption
        case ed25519: .ed25519
        default: nil
        }
    }

    /// AlgorithmIdentifier: ECDSA and Ed25519 omit parameters (RFC 5758, RFC 8410); RSA carries NULL.
    static func serializeIdentifier(_ oid: ASN1ObjectIdentifier, into coder: inout DER.Serializer) throws {
        try coder.appendConstructedNode(identifier: .sequence) { coder in
            try coder.serialize(oid)
            if oid == sha256WithRSAEncryption || oid == sha384WithRSAEncryption || oid == sha512WithRSAEncryption {
                try coder.serialize(ASN1Null())
            }
        }
    }

    static func parseIdentifierOID(_ node: ASN1Node) throws -> ASN1ObjectIdentifier {
        try DER.sequence(node, identifier: .sequence) { nodes in
            guard let first = nodes.next() else { throw ASN1Error.invalidASN1Object(reason: "empty AlgorithmIdentifier") }
            let oid = try ASN1ObjectIdentifier(derEncoded: first)
            while nodes.next() != nil {}
            return oid
        }
    }
}
