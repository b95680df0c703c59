import Crypto
import Foundation
import HexEncoding

/// C2SP signed-note signature type bytes used here.
public enum NoteSignatureType: UInt8, Sendable {
    case ed25519 = 0x01
    /// ECDSA with SHA-256 as in github.com/transparency-dev/witness (P-256 here).
    case ecdsa = 0x02
}

/// Checks note signatures made by one key.
public protocol NoteVerifier: Sendable {
    var keyName: String { get }
    var keyID: UInt32 { get }
    /// `signature` is the part of the signature line after the 4-byte key ID;
    /// `noteText` is the UTF-8 note text (ending in a newline).
    func isValidSignature(_ signature: [UInt8], noteText: [UInt8]) -> Bool
}

/// Signs note texts with one key.
public protocol NoteSigner: Sendable {
    var keyName: String { get }
    var keyID: UInt32 { get }
    func signature(noteText: [UInt8]) throws -> [UInt8]
    /// A verifier for this signer's public key.
    var verifier: any NoteVerifier { get }
}

/// Key IDs: the first four bytes (big-endian) of a SHA-256 hash.
public enum NoteKeyID {
    /// The C2SP recommendation, used for Ed25519 (type 0x01):
    /// SHA-256(key name ‖ 0x0A ‖ type byte ‖ public key)[0..<4].
    public static func derived(keyName: String, type: UInt8, publicKey: some Collection<UInt8>) -> UInt32 {
        var input = Array(keyName.utf8)
        input.append(0x0A)
        input.append(type)
        input.append(contentsOf: publicKey)
        return firstFourBytes(SHA256.hash(data: input))
    }

    /// C2SP type 0x02 (ECDSA): SHA-256(DER SubjectPublicKeyInfo)[0..<4].
    /// The spec names this exception to the recommendation; the witness and
    /// Sigstore verifiers compute it this way.
    public static func ecdsa(subjectPublicKeyInfo: some Collection<UInt8>) -> UInt32 {
        firstFourBytes(SHA256.hash(data: Array(subjectPublicKeyInfo)))
    }

    static func firstFourBytes(_ digest: SHA256Digest) -> UInt32 {
        digest.withUnsafeBytes { raw in raw.prefix(4).reduce(0) { $0 << 8 | UInt32($1) } }
    }

    static func bigEndianBytes(_ keyID: UInt32) -> [UInt8] {
        [UInt8(keyID >> 24 & 0xFF), UInt8(keyID >> 16 & 0xFF), UInt8(keyID >> 8 & 0xFF), UInt8(keyID & 0xFF)]
    }
}

/// How the key ID of an ECDSA (type 0x02) key is computed.
public enum ECDSAKeyIDScheme: Sendable, Hashable {
    /// SHA-256(DER SPKI)[0..<4], as the C2SP signed-note spec states for type 0x02
    /// and interoperable verifiers (transparency-dev witness, Sigstore) compute. Default.
    case subjectPublicKeyInfoHash
    /// SHA-256(name ‖ 0x0A ‖ 0x02 ‖ DER SPKI)[0..<4]: the generic recommendation
    /// applied to ECDSA (the formula in the project's DESIGN.md).
    case nameTypeAndKey

    func keyID(keyName: String, subjectPublicKeyInfo: [UInt8]) -> UInt32 {
        switch self {
        case .subjectPublicKeyInfoHash:
            NoteKeyID.ecdsa(subjectPublicKeyInfo: subjectPublicKeyInfo)
        case .nameTypeAndKey:
            NoteKeyID.derived(keyName: keyName, type: NoteSignatureType.ecdsa.rawValue, publicKey: subjectPublicKeyInfo)
        }
    }
}

/// Why a key or key string was rejected.
public enum NoteKeyError: Error, Equatable, Sendable, CustomStringConvertible {
    case invalidKeyName(String)
    case malformedKeyString(String)
    case keyIDMismatch(stated: UInt32, computed: UInt32)
    case unsupportedSignatureType(UInt8)
    case invalidPublicKey
    case invalidPrivateKey

    public var description: String {
        switch self {
        case .invalidKeyName(let name): "invalid key name \"\(name.prefix(60))\": must be non-empty, without spaces or '+'"
        case .malformedKeyString(let reason): "malformed key string: \(reason)"
        case .keyIDMismatch(let stated, let computed):
            "key string states key ID \(NoteKeyText.hex(stated)) but the key has \(NoteKeyText.hex(computed))"
        case .unsupportedSignatureType(let type): "unsupported signature type 0x\(String(type, radix: 16))"
        case .invalidPublicKey: "invalid public key"
        case .invalidPrivateKey: "invalid private key"
        }
    }
}

/// Key names and the `name+keyid+base64(type ‖ key)` key strings of the Go note tools.
enum NoteKeyText {
    /// Non-empty, no Unicode white space, no '+'.
    static func isValidKeyName(_ name: String) -> Bool {
        !name.isEmpty && !name.unicodeScalars.contains { $0.properties.isWhitespace || $0 == "+" || $0.value < 0x20 }
    }

    static func hex(_ keyID: UInt32) -> String {
        Hex.encode(NoteKeyID.bigEndianBytes(keyID))
    }

    /// Splits `name+hex8+base64`; the base64 part may itself contain '+'.
    static func parseVerifierKey(_ text: String) throws(NoteKeyError) -> (name: String, keyID: UInt32, type: UInt8, key: [UInt8]) {
        let parts = text.split(separator: "+", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3 else { throw .malformedKeyString("expected name+keyid+key") }
        let name = String(parts[0])
        guard isValidKeyName(name) else { throw .invalidKeyName(name) }
        guard parts[1].utf8.count == 8, let idBytes = try? Hex.decode(parts[1]) else {
            throw .malformedKeyString("the key ID must be 8 hex digits")
        }
        let keyID = idBytes.reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
        guard let keyBytes = Base64.decode(parts[2]), keyBytes.count >= 2 else {
            throw .malformedKeyString("the key must be base64 of a type byte and a key")
        }
        return (name, keyID, keyBytes[0], Array(keyBytes.dropFirst()))
    }
}

// MARK: - ECDSA P-256 (type 0x02)

/// Signs notes with an ECDSA P-256 key: ASN.1 DER signatures over SHA-256 of
/// the note text, normalized to low S.
public struct ECDSAP256NoteSigner: NoteSigner {
    public let keyName: String
    public let keyID: UInt32
    public let keyIDScheme: ECDSAKeyIDScheme
    // swift-crypto 3 keys are not Sendable; the raw scalar is, and rebuilding
    // the key per signature is cheap next to signing.
    private let privateKeyBytes: [UInt8]
    private let subjectPublicKeyInfo: [UInt8]

    public init(
        keyName: String,
        privateKey: P256.Signing.PrivateKey,
        keyIDScheme: ECDSAKeyIDScheme = .subjectPublicKeyInfoHash
    ) throws(NoteKeyError) {
        guard NoteKeyText.isValidKeyName(keyName) else { throw .invalidKeyName(keyName) }
        self.keyName = keyName
        privateKeyBytes = Array(privateKey.rawRepresentation)
        subjectPublicKeyInfo = Array(privateKey.publicKey.derRepresentation)
        self.keyIDScheme = keyIDScheme
        keyID = keyIDScheme.keyID(keyName: keyName, subjectPublicKeyInfo: subjectPublicKeyInfo)
    }

    public func signature(noteText: [UInt8]) throws -> [UInt8] {
        let privateKey = try P256.Signing.PrivateKey(rawRepresentation: privateKeyBytes)
        let signature = try privateKey.signature(for: noteText)
        return Array(try ECDSALowS.normalized(signature).derRepresentation)
    }

    public var verifier: any NoteVerifier { publicVerifier }

    /// The concrete verifier, e.g. for `verifierKey`.
    public var publicVerifier: ECDSAP256NoteVerifier {
        ECDSAP256NoteVerifier(validatedKeyName: keyName, subjectPublicKeyInfo: subjectPublicKeyInfo, keyIDScheme: keyIDScheme)
    }
}

/// Verifies ECDSA P-256 note signatures (DER, SHA-256 over the note text).
public struct ECDSAP256NoteVerifier: NoteVerifier {
    public let keyName: String
    public let keyID: UInt32
    /// The public key as DER SubjectPublicKeyInfo (Sendable, unlike the key type).
    public let subjectPublicKeyInfo: [UInt8]
    public let keyIDScheme: ECDSAKeyIDScheme

    public init(
        keyName: String,
        publicKey: P256.Signing.PublicKey,
        keyIDScheme: ECDSAKeyIDScheme = .subjectPublicKeyInfoHash
    ) throws(NoteKeyError) {
        guard NoteKeyText.isValidKeyName(keyName) else { throw .invalidKeyName(keyName) }
        self.init(validatedKeyName: keyName, subjectPublicKeyInfo: Array(publicKey.derRepresentation), keyIDScheme: keyIDScheme)
    }

    init(validatedKeyName keyName: String, subjectPublicKeyInfo: [UInt8], keyIDScheme: ECDSAKeyIDScheme) {
        self.keyName = keyName
        self.subjectPublicKeyInfo = subjectPublicKeyInfo
        self.keyIDScheme = keyIDScheme
        keyID = keyIDScheme.keyID(keyName: keyName, subjectPublicKeyInfo: subjectPublicKeyInfo)
    }

    public var publicKey: P256.Signing.PublicKey {
        get throws { try P256.Signing.PublicKey(derRepresentation: subjectPublicKeyInfo) }
    }

    /// Parses `name+keyid+base64(0x02 ‖ DER SPKI)` (the transparency-dev witness
    /// format) and checks the stated key ID.
    public init(verifierKey: String, keyIDScheme: ECDSAKeyIDScheme = .subjectPublicKeyInfoHash) throws(NoteKeyError) {
        let parsed = try NoteKeyText.parseVerifierKey(verifierKey)
        guard parsed.type == NoteSignatureType.ecdsa.rawValue else { throw .unsupportedSignatureType(parsed.type) }
        guard let publicKey = try? P256.Signing.PublicKey(derRepresentation: parsed.key) else { throw .invalidPublicKey }
        // Re-encode so the key ID is computed over canonical DER.
        self.init(validatedKeyName: parsed.name, subjectPublicKeyInfo: Array(publicKey.derRepresentation), keyIDScheme: keyIDScheme)
        guard keyID == parsed.keyID else { throw .keyIDMismatch(stated: parsed.keyID, computed: keyID) }
    }

    /// `name+keyid+base64(0x02 ‖ DER SPKI)`.
    public var verifierKey: String {
        let key = [NoteSignatureType.ecdsa.rawValue] + subjectPublicKeyInfo
        return "\(keyName)+\(NoteKeyText.hex(keyID))+\(Base64.encode(key))"
    }

    public func isValidSignature(_ signature: [UInt8], noteText: [UInt8]) -> Bool {
        guard let parsed = try? P256.Signing.ECDSASignature(derRepresentation: signature),
              let publicKey = try? P256.Signing.PublicKey(derRepresentation: subjectPublicKeyInfo)
        else { return false }
        // Accept only the canonical DER form, so each signature has one encoding.
        guard Array(parsed.derRepresentation) == signature else { return false }
        return publicKey.isValidSignature(parsed, for: noteText)
    }
}

/// ECDSA signatures (r, s) and (r, n − s) are both valid; emitting only the
/// low one (s ≤ n/2) keeps signatures acceptable to strict verifiers.
enum ECDSALowS {
    /// The order n of the P-256 group, big-endian.
    private static let order: [UInt8] = [
        0xFF, 0xFF, 0xFF, 0xFF, 0x00, 0x00, 0x00, 0x00, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
        0xBC, 0xE6, 0xFA, 0xAD, 0xA7, 0x17, 0x9E, 0x84, 0xF3, 0xB9, 0xCA, 0xC2, 0xFC, 0x63, 0x25, 0x51,
    ]
    /// ⌊n / 2⌋, big-endian.
    private static let halfOrder: [UInt8] = [
        0x7F, 0xFF, 0xFF, 0xFF, 0x80, 0x00, 0x00, 0x00, 0x7F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
        0xDE, 0x73, 0x7D, 0x56, 0xD3, 0x8B, 0xCF, 0x42, 0x79, 0xDC, 0xE5, 0x61, 0x7E, 0x31, 0x92, 0xA8,
    ]

    static func isLowS(_ signature: P256.Signing.ECDSASignature) -> Bool {
        // Equal-length big-endian byte strings compare like the numbers they encode.
        !halfOrder.lexicographicallyPrecedes(Array(signature.rawRepresentation)[32..<64])
    }

    static func normalized(_ signature: P256.Signing.ECDSASignature) throws -> P256.Signing.ECDSASignature {
        guard !isLowS(signature) else { return signature }
        let raw = Array(signature.rawRepresentation)
        var s = Array(raw[32..<64])
        // s := n − s, big-endian with borrow.
        var borrow = 0
        for index in stride(from: 31, through: 0, by: -1) {
            let difference = Int(order[index]) - Int(s[index]) - borrow
            s[index] = UInt8((difference + 256) % 256)
            borrow = difference < 0 ? 1 : 0
        }
        return try P256.Signing.ECDSASignature(rawRepresentation: raw[0..<32] + s)
    }
}

// MARK: - Ed25519 (type 0x01)

/// Signs notes with Ed25519 (RFC 8032 over the note text).
public struct Ed25519NoteSigner: NoteSigner {
    public let keyName: String
    public let keyID: UInt32
    // Raw seed and public key instead of the (non-Sendable) swift-crypto key.
    private let seed: [UInt8]
    private let publicKeyBytes: [UInt8]

    public init(keyName: String, privateKey: Curve25519.Signing.PrivateKey) throws(NoteKeyError) {
        guard NoteKeyText.isValidKeyName(keyName) else { throw .invalidKeyName(keyName) }
        self.keyName = keyName
        seed = Array(privateKey.rawRepresentation)
        publicKeyBytes = Array(privateKey.publicKey.rawRepresentation)
        keyID = NoteKeyID.derived(keyName: keyName, type: NoteSignatureType.ed25519.rawValue, publicKey: publicKeyBytes)
    }

    /// Parses the Go note signer key `PRIVATE+KEY+name+keyid+base64(0x01 ‖ seed)`.
    public init(signerKey: String) throws(NoteKeyError) {
        guard signerKey.hasPrefix("PRIVATE+KEY+") else { throw .malformedKeyString("expected PRIVATE+KEY+ prefix") }
        let parsed = try NoteKeyText.parseVerifierKey(String(signerKey.dropFirst("PRIVATE+KEY+".count)))
        guard parsed.type == NoteSignatureType.ed25519.rawValue else { throw .unsupportedSignatureType(parsed.type) }
        guard let key = try? Curve25519.Signing.PrivateKey(rawRepresentation: parsed.key) else { throw .invalidPrivateKey }
        try self.init(keyName: parsed.name, privateKey: key)
        guard keyID == parsed.keyID else { throw .keyIDMismatch(stated: parsed.keyID, computed: keyID) }
    }

    public func signature(noteText: [UInt8]) throws -> [UInt8] {
        Array(try Curve25519.Signing.PrivateKey(rawRepresentation: seed).signature(for: noteText))
    }

    public var verifier: any NoteVerifier {
        Ed25519NoteVerifier(validatedKeyName: keyName, publicKeyBytes: publicKeyBytes)
    }
}

/// Verifies Ed25519 note signatures.
public struct Ed25519NoteVerifier: NoteVerifier {
    public let keyName: String
    public let keyID: UInt32
    /// The 32-byte RFC 8032 public key.
    public let publicKeyBytes: [UInt8]

    public init(keyName: String, publicKey: Curve25519.Signing.PublicKey) throws(NoteKeyError) {
        guard NoteKeyText.isValidKeyName(keyName) else { throw .invalidKeyName(keyName) }
        self.init(validatedKeyName: keyName, publicKeyBytes: Array(publicKey.rawRepresentation))
    }

    init(validatedKeyName keyName: String, publicKeyBytes: [UInt8]) {
        self.keyName = keyName
        self.publicKeyBytes = publicKeyBytes
        keyID = NoteKeyID.derived(keyName: keyName, type: NoteSignatureType.ed25519.rawValue, publicKey: publicKeyBytes)
    }

    /// Parses the Go note verifier key `name+keyid+base64(0x01 ‖ public key)`.
    public init(verifierKey: String) throws(NoteKeyError) {
        let parsed = try NoteKeyText.parseVerifierKey(verifierKey)
        guard parsed.type == NoteSignatureType.ed25519.rawValue else { throw .unsupportedSignatureType(parsed.type) }
        guard (try? Curve25519.Signing.PublicKey(rawRepresentation: parsed.key)) != nil else { throw .invalidPublicKey }
        self.init(validatedKeyName: parsed.name, publicKeyBytes: parsed.key)
        guard keyID == parsed.keyID else { throw .keyIDMismatch(stated: parsed.keyID, computed: keyID) }
    }

    public var verifierKey: String {
        let key = [NoteSignatureType.ed25519.rawValue] + publicKeyBytes
        return "\(keyName)+\(NoteKeyText.hex(keyID))+\(Base64.encode(key))"
    }

    public func isValidSignature(_ signature: [UInt8], noteText: [UInt8]) -> Bool {
        guard signature.count == 64, let publicKey = try? Curve25519.Signing.PublicKey(rawRepresentation: publicKeyBytes) else {
            return false
        }
        return publicKey.isValidSignature(signature, for: noteText)
    }
}
