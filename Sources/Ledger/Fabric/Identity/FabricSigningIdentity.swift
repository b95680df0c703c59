import Crypto
import DeviceIdentity
import FabricProtos
import Foundation
import SigningKeys
import SwiftASN1
import X509

/// The gateway's Fabric client identity: an X.509 certificate from its organization's CA and the
/// P-256 key it signs proposals, transactions and commit-status requests with.
///
/// As the official fabric-gateway clients do: the creator is `msp.SerializedIdentity{mspid,
/// id_bytes = the certificate PEM}`, and every signature is ECDSA P-256 over SHA-256 of the exact
/// bytes, normalized to low S and DER-encoded. A Fabric peer refuses high-S signatures
/// (`bccsp/sw/ecdsa.go`). JWS and C2SP notes use other encodings; this type is only for Fabric.
public struct FabricSigningIdentity: Sendable {
    public let mspID: String
    /// The certificate as canonical PEM (64-column base64, trailing newline), which is what the
    /// Go clients put in `id_bytes`.
    public let certificatePEM: String
    /// `msp.SerializedIdentity` bytes: the `creator` of every header.
    public let creator: [UInt8]
    // swift-crypto 3 keys are not Sendable; the raw scalar is, and rebuilding the key per
    // signature is cheap next to signing.
    private let privateKeyBytes: [UInt8]

    public init(mspID: String, certificate: Certificate, privateKey: P256.Signing.PrivateKey) throws(FabricIdentityError) {
        guard !mspID.isEmpty else { throw .invalid("the MSP id is empty") }
        guard let certificateKey = P256.Signing.PublicKey(certificate.publicKey),
            certificateKey.rawRepresentation == privateKey.publicKey.rawRepresentation
        else { throw .invalid("the private key does not belong to the certificate (or the certificate's key is not P-256)") }
        let der: [UInt8]
        do {
            var serializer = DER.Serializer()
            try serializer.serialize(certificate)
            der = serializer.serializedBytes
        } catch {
            throw .invalid("cannot encode the certificate: \(error)")
        }
        self.mspID = mspID
        certificatePEM = FabricPEM.certificate(der: der)
        var identity = Msp_SerializedIdentity()
        identity.mspid = mspID
        identity.idBytes = Data(certificatePEM.utf8)
        do {
            creator = try identity.serializedBytes()
        } catch {
            throw .invalid("cannot encode the serialized identity: \(error)")
        }
        privateKeyBytes = Array(privateKey.rawRepresentation)
    }

    /// Loads the certificate (PEM) and the key (PKCS#8 or SEC1 PEM, mode 0600) from files; either
    /// may instead be the PEM text itself (`FabricSettings.isInlinePEM`).
    public init(mspID: String, certificatePath: String, keyPath: String) throws(FabricIdentityError) {
        let certificate: Certificate
        do {
            let pem = FabricSettings.isInlinePEM(certificatePath) ? certificatePath : try String(contentsOfFile: certificatePath, encoding: .utf8)
            certificate = try Certificate(pemEncoded: pem)
        } catch {
            throw .invalid("certificate \(FabricSettings.isInlinePEM(certificatePath) ? "(inline PEM)" : certificatePath): \(error)")
        }
        let key: P256.Signing.PrivateKey
        do {
            key = FabricSettings.isInlinePEM(keyPath) ? try P256.Signing.PrivateKey(pemRepresentation: keyPath) : try PrivateKeyFile.loadP256(keyPath)
        } catch {
            throw .invalid("key \(FabricSettings.isInlinePEM(keyPath) ? "(inline PEM)" : keyPath): \(error)")
        }
        try self.init(mspID: mspID, certificate: certificate, privateKey: key)
    }

    /// ECDSA P-256 over SHA-256 of `message`, low S, DER: what a Fabric peer accepts.
    public func sign(_ message: some DataProtocol) throws -> [UInt8] {
        let key = try P256.Signing.PrivateKey(rawRepresentation: privateKeyBytes)
        var raw = Array(try key.signature(for: message).rawRepresentation)
        ES256.normalizeToLowS(&raw)
        return Array(try P256.Signing.ECDSASignature(rawRepresentation: raw).derRepresentation)
    }
}

public enum FabricIdentityError: Error, Sendable, CustomStringConvertible {
    case invalid(String)

    public var description: String {
        switch self {
        case .invalid(let reason): "Fabric identity: \(reason)"
        }
    }
}

/// PEM as Go's `pem.EncodeToMemory` writes it.
enum FabricPEM {
    static func certificate(der: [UInt8]) -> String {
        let base64 = Data(der).base64EncodedString()
        var lines: [Substring] = []
        var index = base64.startIndex
        while index < base64.endIndex {
            let end = base64.index(index, offsetBy: 64, limitedBy: base64.endIndex) ?? base64.endIndex
            lines.append(base64[index..<end])
            index = end
        }
        return "-----BEGIN CERTIFICATE-----\n" + lines.joined(separator: "\n") + "\n-----END CERTIFICATE-----\n"
    }
}
