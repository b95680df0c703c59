/// Why a signed note was rejected.
public enum SignedNoteError: Error, Equatable, Sendable, CustomStringConvertible {
    case tooLarge(byteCount: Int)
    case invalidUTF8
    case controlCharacter
    case malformedText(String)
    case missingSignatures
    case tooManySignatures(Int)
    case malformedSignatureLine(line: Int, reason: String)
    /// A signature from a trusted key (name and key ID match) did not verify.
    case invalidSignature(keyName: String, keyID: UInt32)
    /// No signature came from a trusted key.
    case noTrustedSignature
    case signingFailed(String)

    public var description: String {
        switch self {
        case .tooLarge(let count): "note of \(count) bytes is larger than \(SignedNote.maximumByteCount)"
        case .invalidUTF8: "note is not valid UTF-8"
        case .controlCharacter: "note contains a control character other than newline"
        case .malformedText(let reason): "malformed note text: \(reason)"
        case .missingSignatures: "note has no signature block (text, blank line, signature lines)"
        case .tooManySignatures(let count): "note has \(count) signatures, more than \(SignedNote.maximumSignatureCount)"
        case .malformedSignatureLine(let line, let reason): "signature line \(line): \(reason)"
        case .invalidSignature(let name, let id):
            "the signature of trusted key \(name) (\(NoteKeyText.hex(id))) does not verify"
        case .noTrustedSignature: "the note has no signature from a trusted key"
        case .signingFailed(let reason): "signing failed: \(reason)"
        }
    }
}

/// One signature line: `— <key name> <base64(key ID ‖ signature)>`.
public struct NoteSignature: Hashable, Sendable {
    public let keyName: String
    public let keyID: UInt32
    /// The signature bytes after the 4-byte key ID.
    public let signature: [UInt8]

    public init(keyName: String, keyID: UInt32, signature: [UInt8]) {
        self.keyName = keyName
        self.keyID = keyID
        self.signature = signature
    }

    /// The line as it appears in the note, with its final newline.
    public var line: String {
        "\(SignedNote.signatureLinePrefix)\(keyName) \(Base64.encode(NoteKeyID.bigEndianBytes(keyID) + signature))\n"
    }
}

/// A C2SP signed note: a text ending in a newline, a blank line, and one or
/// more signature lines. Each signature is over the UTF-8 bytes of the text
/// (including its final newline, not the blank line).
public struct SignedNote: Hashable, Sendable {
    public let text: String
    public let signatures: [NoteSignature]

    /// Parsing limits (the spec requires accepting at least 16 signatures).
    public static let maximumByteCount = 1 << 20
    public static let maximumSignatureCount = 64
    /// U+2014 EM DASH and a space.
    static let signatureLinePrefix = "\u{2014} "

    /// Builds a note from a text and signatures, validating both.
    public init(text: String, signatures: [NoteSignature]) throws(SignedNoteError) {
        let note = text + "\n" + signatures.map(\.line).joined()
        self = try SignedNote(parsing: note)
    }

    /// Signs `text` with each signer.
    public init(signing text: String, with signers: [any NoteSigner]) throws(SignedNoteError) {
        try SignedNote.validateText(text)
        var signatures: [NoteSignature] = []
        for signer in signers {
            do {
                let signature = try signer.signature(noteText: Array(text.utf8))
                signatures.append(NoteSignature(keyName: signer.keyName, keyID: signer.keyID, signature: signature))
            } catch {
                throw .signingFailed(String(describing: error))
            }
        }
        try self.init(text: text, signatures: signatures)
    }

    /// The full note: text, blank line, signature lines.
    public var serialized: String {
        text + "\n" + signatures.map(\.line).joined()
    }

    /// Parses a note from raw bytes (which must be valid UTF-8).
    public init(parsing bytes: some Collection<UInt8>) throws(SignedNoteError) {
        guard bytes.count <= SignedNote.maximumByteCount else { throw .tooLarge(byteCount: bytes.count) }
        guard let text = String(validating: bytes, as: UTF8.self) else { throw .invalidUTF8 }
        try self.init(parsing: text)
    }

    /// Parses a note strictly; never traps on hostile input.
    public init(parsing note: String) throws(SignedNoteError) {
        let utf8 = Array(note.utf8)
        guard utf8.count <= SignedNote.maximumByteCount else { throw .tooLarge(byteCount: utf8.count) }
        guard !utf8.contains(where: { $0 < 0x20 && $0 != 0x0A }) else { throw .controlCharacter }

        // The text ends at the last blank line; signature lines are never empty.
        guard let separator = SignedNote.lastBlankLine(in: utf8) else { throw .missingSignatures }
        let text = String(decoding: utf8[..<(separator + 1)], as: UTF8.self)
        let block = utf8[(separator + 2)...]
        guard !block.isEmpty else { throw .missingSignatures }
        guard block.last == 0x0A else {
            throw .malformedSignatureLine(line: 1, reason: "the note must end with a newline")
        }
        let lines = block.dropLast().split(separator: 0x0A, omittingEmptySubsequences: false)
        guard lines.count <= SignedNote.maximumSignatureCount else { throw .tooManySignatures(lines.count) }

        var signatures: [NoteSignature] = []
        for (number, line) in lines.enumerated() {
            signatures.append(try SignedNote.parseSignatureLine(line, number: number + 1))
        }
        try SignedNote.validateText(text)
        self.text = text
        self.signatures = signatures
    }

    /// Verifies the note against trusted keys, per C2SP signed-note:
    /// signatures from unknown keys (name and key ID not both matching) are
    /// ignored; a failing signature from a known key rejects the whole note;
    /// at least one known key must have signed. Returns the verified signatures.
    @discardableResult
    public func verify(using verifiers: [any NoteVerifier]) throws(SignedNoteError) -> [NoteSignature] {
        let message = Array(text.utf8)
        var verified: [NoteSignature] = []
        for signature in signatures {
            let known = verifiers.filter { $0.keyName == signature.keyName && $0.keyID == signature.keyID }
            guard !known.isEmpty else { continue }
            guard known.contains(where: { $0.isValidSignature(signature.signature, noteText: message) }) else {
                throw .invalidSignature(keyName: signature.keyName, keyID: signature.keyID)
            }
            verified.append(signature)
        }
        guard !verified.isEmpty else { throw .noTrustedSignature }
        return verified
    }

    public func verify(using verifier: any NoteVerifier) throws(SignedNoteError) {
        try verify(using: [verifier])
    }

    // MARK: - Parsing helpers

    /// Index of the first newline of the last "\n\n".
    private static func lastBlankLine(in utf8: [UInt8]) -> Int? {
        guard utf8.count >= 2 else { return nil }
        var index = utf8.count - 2
        while index >= 0 {
            if utf8[index] == 0x0A && utf8[index + 1] == 0x0A { return index }
            index -= 1
        }
        return nil
    }

    private static func parseSignatureLine(_ line: ArraySlice<UInt8>, number: Int) throws(SignedNoteError) -> NoteSignature {
        let prefix = Array(signatureLinePrefix.utf8)
        guard line.starts(with: prefix) else {
            throw .malformedSignatureLine(line: number, reason: "must start with an em dash (U+2014) and a space")
        }
        let fields = line.dropFirst(prefix.count).split(separator: UInt8(ascii: " "), omittingEmptySubsequences: false)
        guard fields.count == 2 else {
            throw .malformedSignatureLine(line: number, reason: "expected a key name and a signature separated by one space")
        }
        let keyName = String(decoding: fields[0], as: UTF8.self)
        guard NoteKeyText.isValidKeyName(keyName) else {
            throw .malformedSignatureLine(line: number, reason: "invalid key name")
        }
        guard let decoded = Base64.decode(String(decoding: fields[1], as: UTF8.self)) else {
            throw .malformedSignatureLine(line: number, reason: "the signature is not canonical base64")
        }
        guard decoded.count > 4 else {
            throw .malformedSignatureLine(line: number, reason: "the signature is shorter than a key ID and one byte")
        }
        let keyID = decoded.prefix(4).reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
        return NoteSignature(keyName: keyName, keyID: keyID, signature: Array(decoded.dropFirst(4)))
    }

    private static func validateText(_ text: String) throws(SignedNoteError) {
        guard !text.isEmpty, text.hasSuffix("\n") else { throw .malformedText("the text must end with a newline") }
        guard !text.utf8.contains(where: { $0 < 0x20 && $0 != 0x0A }) else { throw .controlCharacter }
    }
}
