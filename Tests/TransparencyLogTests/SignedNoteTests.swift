import Crypto
import Foundation
import Simulation
import Testing
import WardgateTestSupport
@testable import TransparencyLog

@Suite("Signed notes")
struct SignedNoteTests {
    struct Vector {
        let verifierKey: String
        let signerKey: String
        let text: String
        let note: String

        init() throws {
            let json = try TestData.json("signed-note.json")
            guard let verifierKey = json["verifierKey"] as? String, let signerKey = json["signerKey"] as? String,
                  let text = json["text"] as? String, let note = json["note"] as? String
            else { throw TestFailure("unexpected signed-note.json layout") }
            (self.verifierKey, self.signerKey, self.text, self.note) = (verifierKey, signerKey, text, note)
        }
    }

    // MARK: - The Ed25519 vector

    @Test func ed25519VectorParsesAndVerifies() throws {
        let vector = try Vector()
        let verifier = try Ed25519NoteVerifier(verifierKey: vector.verifierKey)
        #expect(verifier.keyName == "PeterNeumann")
        #expect(verifier.keyID == 0xC74F_20A3)
        #expect(verifier.verifierKey == vector.verifierKey)

        let note = try SignedNote(parsing: vector.note)
        #expect(note.text == vector.text)
        #expect(note.signatures.count == 1)
        #expect(note.signatures.first?.keyID == 0xC74F_20A3)
        #expect(note.serialized == vector.note)
        #expect(try note.verify(using: [verifier]).count == 1)
    }

    @Test func ed25519SignerReproducesTheVector() throws {
        let vector = try Vector()
        let signer = try Ed25519NoteSigner(signerKey: vector.signerKey)
        #expect(signer.keyID == 0xC74F_20A3)
        let note = try SignedNote(signing: vector.text, with: [signer])
        try note.verify(using: [Ed25519NoteVerifier(verifierKey: vector.verifierKey)])
        // Ed25519 (RFC 8032) is deterministic: the same key and text give the vector's bytes.
        #expect(note.serialized == vector.note)
    }

    @Test func tamperedEd25519NotesFail() throws {
        let vector = try Vector()
        let verifier = try Ed25519NoteVerifier(verifierKey: vector.verifierKey)
        let changedBody = vector.note.replacingOccurrences(of: "cryptography", with: "cryptographY")
        #expect(throws: SignedNoteError.invalidSignature(keyName: "PeterNeumann", keyID: 0xC74F_20A3)) {
            try SignedNote(parsing: changedBody).verify(using: [verifier])
        }
        let renamed = vector.note.replacingOccurrences(of: "— PeterNeumann ", with: "— PeterNeuman ")
        #expect(throws: SignedNoteError.noTrustedSignature) {
            try SignedNote(parsing: renamed).verify(using: [verifier])
        }
        let otherKey = try Ed25519NoteVerifier(keyName: "PeterNeumann", publicKey: Curve25519.Signing.PrivateKey().publicKey)
        #expect(throws: SignedNoteError.noTrustedSignature) {
            try SignedNote(parsing: vector.note).verify(using: [otherKey])
        }
        // A key claiming the same name and ID but holding another key must not verify.
        let impostor = FixedIDVerifier(keyName: "PeterNeumann", keyID: 0xC74F_20A3, wrapped: otherKey)
        #expect(throws: SignedNoteError.invalidSignature(keyName: "PeterNeumann", keyID: 0xC74F_20A3)) {
            try SignedNote(parsing: vector.note).verify(using: [impostor])
        }
        #expect(throws: NoteKeyError.self) {
            try Ed25519NoteVerifier(verifierKey: vector.verifierKey.replacingOccurrences(of: "c74f20a3", with: "c74f20a4"))
        }
    }

    struct FixedIDVerifier: NoteVerifier {
        let keyName: String
        let keyID: UInt32
        let wrapped: any NoteVerifier

        func isValidSignature(_ signature: [UInt8], noteText: [UInt8]) -> Bool {
            wrapped.isValidSignature(signature, noteText: noteText)
        }
    }

    // MARK: - ECDSA P-256 checkpoints

    static let origin = "ward7.example.org/log"

    static func signedCheckpoint(size: UInt64 = 1234, key: P256.Signing.PrivateKey) throws -> SignedCheckpoint {
        var random = SeededGenerator(seed: size)
        let checkpoint = try Checkpoint(origin: origin, size: size, rootHash: random.hash())
        let signer = try ECDSAP256NoteSigner(keyName: origin, privateKey: key)
        let note = try SignedNote(signing: checkpoint.body, with: [signer])
        return try SignedCheckpoint(verifying: note.serialized, using: [signer.verifier])
    }

    @Test func ecdsaCheckpointRoundTrip() throws {
        let key = P256.Signing.PrivateKey()
        let signed = try Self.signedCheckpoint(key: key)
        let verifier = try ECDSAP256NoteVerifier(keyName: Self.origin, publicKey: key.publicKey)
        #expect(verifier.keyID == NoteKeyID.ecdsa(subjectPublicKeyInfo: Array(key.publicKey.derRepresentation)))
        let parsed = try SignedCheckpoint(verifying: signed.text, using: [verifier])
        #expect(parsed.checkpoint == signed.checkpoint)
        #expect(parsed.checkpoint.body == "\(Self.origin)\n1234\n\(signed.checkpoint.rootHash.base64)\n")
        #expect(signed.text.hasPrefix(signed.checkpoint.body + "\n\u{2014} \(Self.origin) "))
        // The verifier key string round-trips and checks its key ID.
        let fromString = try ECDSAP256NoteVerifier(verifierKey: verifier.verifierKey)
        #expect(fromString.keyID == verifier.keyID)
        try parsed.note.verify(using: fromString)
    }

    @Test func tamperedEcdsaNotesFail() throws {
        let key = P256.Signing.PrivateKey()
        let verifier = try ECDSAP256NoteVerifier(keyName: Self.origin, publicKey: key.publicKey)
        let text = try Self.signedCheckpoint(size: 1234, key: key).text
        let changedSize = text.replacingOccurrences(of: "\n1234\n", with: "\n1235\n")
        #expect(throws: SignedNoteError.invalidSignature(keyName: Self.origin, keyID: verifier.keyID)) {
            try SignedCheckpoint(verifying: changedSize, using: [verifier])
        }
        let changedOrigin = text.replacingOccurrences(of: "ward7.example.org/log\n", with: "ward8.example.org/log\n")
        #expect(throws: SignedNoteError.self) { try SignedCheckpoint(verifying: changedOrigin, using: [verifier]) }
        let wrongName = try ECDSAP256NoteVerifier(keyName: "ward7.example.org/other", publicKey: key.publicKey)
        #expect(throws: SignedNoteError.noTrustedSignature) { try SignedCheckpoint(verifying: text, using: [wrongName]) }
        let wrongKey = try ECDSAP256NoteVerifier(keyName: Self.origin, publicKey: P256.Signing.PrivateKey().publicKey)
        #expect(throws: SignedNoteError.noTrustedSignature) { try SignedCheckpoint(verifying: text, using: [wrongKey]) }
        let impostor = FixedIDVerifier(keyName: Self.origin, keyID: verifier.keyID, wrapped: wrongKey)
        #expect(throws: SignedNoteError.invalidSignature(keyName: Self.origin, keyID: verifier.keyID)) {
            try SignedCheckpoint(verifying: text, using: [impostor])
        }
    }

    @Test func unknownSignaturesAreIgnored() throws {
        let key = P256.Signing.PrivateKey()
        let verifier = try ECDSAP256NoteVerifier(keyName: Self.origin, publicKey: key.publicKey)
        let signed = try Self.signedCheckpoint(key: key)
        let witness = try Ed25519NoteSigner(keyName: "witness.example", privateKey: Curve25519.Signing.PrivateKey())
        let cosigned = try SignedNote(
            text: signed.note.text,
            signatures: signed.note.signatures + [NoteSignature(
                keyName: witness.keyName, keyID: witness.keyID,
                signature: witness.signature(noteText: Array(signed.note.text.utf8)))])
        #expect(try cosigned.verify(using: [verifier]).map(\.keyName) == [Self.origin])
        #expect(try cosigned.verify(using: [verifier, witness.verifier]).count == 2)
    }

    @Test func signaturesAreLowS() throws {
        let key = P256.Signing.PrivateKey()
        let signer = try ECDSAP256NoteSigner(keyName: "k", privateKey: key)
        for round in 0..<40 {
            let message = Array("checkpoint \(round)\n".utf8)
            let der = try signer.signature(noteText: message)
            let signature = try P256.Signing.ECDSASignature(derRepresentation: der)
            #expect(ECDSALowS.isLowS(signature))
            #expect(signer.verifier.isValidSignature(der, noteText: message))
        }
        // Normalizing a high-S signature keeps it valid.
        let message = Array("m\n".utf8)
        var seenHigh = false
        for _ in 0..<64 where !seenHigh {
            let raw = try key.signature(for: message)
            guard !ECDSALowS.isLowS(raw) else { continue }
            seenHigh = true
            let low = try ECDSALowS.normalized(raw)
            #expect(ECDSALowS.isLowS(low))
            #expect(key.publicKey.isValidSignature(low, for: message))
        }
        #expect(seenHigh, "64 signatures without a high S is astronomically unlikely")
    }

    /// Only canonical DER is accepted, so a signature line has one valid form.
    @Test func nonCanonicalSignatureEncodingsAreRejected() throws {
        let key = P256.Signing.PrivateKey()
        let signer = try ECDSAP256NoteSigner(keyName: "k", privateKey: key)
        let message = Array("text\n".utf8)
        let der = try signer.signature(noteText: message)
        #expect(signer.verifier.isValidSignature(der, noteText: message))
        // SEQUENCE length in long form (BER): 30 81 LL …
        let longForm = [der[0], 0x81] + der[1...]
        #expect(!signer.verifier.isValidSignature(longForm, noteText: message))
        // Raw r ‖ s instead of DER.
        let raw = Array(try P256.Signing.ECDSASignature(derRepresentation: der).rawRepresentation)
        #expect(!signer.verifier.isValidSignature(raw, noteText: message))
        // Trailing garbage after the SEQUENCE.
        #expect(!signer.verifier.isValidSignature(der + [0], noteText: message))
    }

    @Test func designKeyIDSchemeIsAvailable() throws {
        let key = P256.Signing.PrivateKey()
        let spki = Array(key.publicKey.derRepresentation)
        let signer = try ECDSAP256NoteSigner(keyName: "gw", privateKey: key, keyIDScheme: .nameTypeAndKey)
        #expect(signer.keyID == NoteKeyID.derived(keyName: "gw", type: 0x02, publicKey: spki))
        #expect(signer.keyID != NoteKeyID.ecdsa(subjectPublicKeyInfo: spki))
        let note = try SignedNote(signing: "hello\n", with: [signer])
        try note.verify(using: ECDSAP256NoteVerifier(keyName: "gw", publicKey: key.publicKey, keyIDScheme: .nameTypeAndKey))
        #expect(throws: SignedNoteError.noTrustedSignature) {
            try note.verify(using: ECDSAP256NoteVerifier(keyName: "gw", publicKey: key.publicKey))
        }
    }

    // MARK: - Independent check with Python `cryptography`

    @Test func pythonCryptographyVerifiesOurNote() throws {
        let key = P256.Signing.PrivateKey()
        let signed = try Self.signedCheckpoint(size: 987_654_321, key: key)
        let directory = try TemporaryDirectory()
        try Data(signed.text.utf8).write(to: URL(fileURLWithPath: directory.file("checkpoint.note")))
        try Data(key.publicKey.pemRepresentation.utf8).write(to: URL(fileURLWithPath: directory.file("gateway.pem")))

        let good = try runChecker(note: directory.file("checkpoint.note"), key: directory.file("gateway.pem"))
        #expect(good.status == 0, "checker said: \(good.output)")
        #expect(good.output == "OK \(Self.origin) 987654321 \(signed.checkpoint.rootHash.base64)\n")

        let tampered = signed.text.replacingOccurrences(of: "\n987654321\n", with: "\n987654322\n")
        try Data(tampered.utf8).write(to: URL(fileURLWithPath: directory.file("tampered.note")))
        let bad = try runChecker(note: directory.file("tampered.note"), key: directory.file("gateway.pem"))
        #expect(bad.status == 1, "checker said: \(bad.output)")
        #expect(bad.output.hasPrefix("FAIL signature by the trusted key does not verify"))

        let otherKey = P256.Signing.PrivateKey()
        try Data(otherKey.publicKey.pemRepresentation.utf8).write(to: URL(fileURLWithPath: directory.file("other.pem")))
        let wrongKey = try runChecker(note: directory.file("checkpoint.note"), key: directory.file("other.pem"))
        #expect(wrongKey.status == 1, "checker said: \(wrongKey.output)")
    }

    /// Runs the checker with python3; a missing interpreter or package fails the test.
    private func runChecker(note: String, key: String) throws -> (status: Int32, output: String) {
        let script = TestData.resource("check_note.py").path
        #expect(FileManager.default.fileExists(atPath: script), "missing \(script)")
        let result = try ProcessRunner.runTool(["python3", script, note, key, Self.origin])
        let (status, output) = (result.status, result.output)
        if status == 2 || status == 127 {
            Issue.record("python3 with the 'cryptography' package is required: \(output)")
        }
        return (status, output)
    }

    // MARK: - Strict parsing

    @Test(arguments: [
        ("", "empty"),
        ("hello\n", "no blank line"),
        ("hello\n\n", "no signature lines"),
        ("hello\n\n— k AAAAAAE=", "no final newline"),
        ("hello\n\n- k AAAAAAE=\n", "ASCII dash"),
        ("hello\n\n—  k AAAAAAE=\n", "two spaces"),
        ("hello\n\n— k+x AAAAAAE=\n", "plus in key name"),
        ("hello\n\n— k AAAAAA==\n", "signature shorter than key ID + 1"),
        ("hello\n\n— k AAAAAAE\n", "missing padding"),
        ("hello\n\n— k AAAAAAF=\n", "non-canonical base64"),
        ("hello\n\n— k AAAA AAE=\n", "space in signature"),
        ("hel\rlo\n\n— k AAAAAAE=\n", "carriage return"),
        ("hello\t\n\n— k AAAAAAE=\n", "tab"),
        ("hello\n\n— k AAAAAAE=\n\n", "blank line after signatures"),
        ("hello\n\n— \u{00A0}k AAAAAAE=\n", "unicode space in key name"),
    ])
    func malformedNotesAreRejected(note: String, reason: String) {
        #expect(throws: SignedNoteError.self, "\(reason)") { try SignedNote(parsing: note) }
    }

    @Test func minimalNoteParses() throws {
        let note = try SignedNote(parsing: "hello\n\n— k AAAAAAE=\n")
        #expect(note.text == "hello\n")
        #expect(note.signatures == [NoteSignature(keyName: "k", keyID: 0, signature: [1])])
        #expect(throws: SignedNoteError.invalidUTF8) { try SignedNote(parsing: [0x68, 0xFF, 0x0A, 0x0A]) }
        #expect(throws: SignedNoteError.tooLarge(byteCount: SignedNote.maximumByteCount + 1)) {
            try SignedNote(parsing: [UInt8](repeating: 0x61, count: SignedNote.maximumByteCount + 1))
        }
        let many = "t\n\n" + String(repeating: "— k AAAAAAE=\n", count: SignedNote.maximumSignatureCount + 1)
        #expect(throws: SignedNoteError.tooManySignatures(SignedNote.maximumSignatureCount + 1)) { try SignedNote(parsing: many) }
    }

    /// Random byte-level damage to a valid note: parsing and verifying must
    /// return or throw, never trap; a damaged note never verifies.
    @Test func damagedNotesNeverCrashOrVerify() throws {
        let key = P256.Signing.PrivateKey()
        let verifier = try ECDSAP256NoteVerifier(keyName: Self.origin, publicKey: key.publicKey)
        let original = Array(try Self.signedCheckpoint(key: key).text.utf8)
        var random = SeededGenerator(seed: 0xF022)
        var parsedCount = 0
        for _ in 0..<3_000 {
            var bytes = original
            for _ in 0..<(Int(random.next() % 3) + 1) {
                let position = Int(random.next() % UInt64(bytes.count))
                switch random.next() % 4 {
                case 0: bytes[position] ^= UInt8(1 << (random.next() % 8))
                case 1: bytes.remove(at: position)
                case 2: bytes.insert(UInt8(truncatingIfNeeded: random.next()), at: position)
                default: bytes = Array(bytes[0..<position])
                }
                if bytes.isEmpty { break }
            }
            guard bytes != original else { continue }
            guard let note = try? SignedNote(parsing: bytes) else { continue }
            parsedCount += 1
            if let checkpoint = try? SignedCheckpoint(verifying: note.serialized, using: [verifier]) {
                // Only an edit outside the signed text and signature bytes may still verify.
                #expect(checkpoint.note.text == String(decoding: original, as: UTF8.self).components(separatedBy: "\n\n")[0] + "\n")
            }
        }
        #expect(parsedCount > 0)
    }

    @Test(arguments: [
        ("o\n01\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n", "leading zero"),
        ("o\n+1\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n", "sign"),
        ("o\n 1\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n", "space"),
        ("o\n18446744073709551616\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n", "overflow"),
        ("o\n1\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB=\n", "non-canonical base64"),
        ("o\n1\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==\n", "31 bytes"),
        ("o\n1\n", "two lines"),
        ("\n1\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n", "empty origin"),
        ("o\n1\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", "no final newline"),
        ("o\n1\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n\n", "empty extension line"),
    ])
    func malformedCheckpointsAreRejected(text: String, reason: String) {
        #expect(throws: CheckpointError.self, "\(reason)") { try Checkpoint(parsing: text) }
    }

    @Test func checkpointBodyRoundTrips() throws {
        let checkpoint = try Checkpoint(origin: "example.com/log", size: 0, rootHash: RFC9162.emptyTreeRoot)
        #expect(checkpoint.body == "example.com/log\n0\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n")
        #expect(try Checkpoint(parsing: checkpoint.body) == checkpoint)
        let withExtension = try Checkpoint(parsing: checkpoint.body + "extra\n")
        #expect(withExtension.extensionLines == ["extra"])
        #expect(throws: CheckpointError.self) { try Checkpoint(origin: "two\nlines", size: 1, rootHash: .zero) }
    }
}
