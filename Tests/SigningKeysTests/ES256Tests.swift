import Crypto
import Foundation
import SigningKeys
import Testing
import WardgateTestSupport

@Suite("ECDSA P-256 signature encodings and the low-S rule")
struct ES256Tests {
    @Test func lowSNormalizationMatchesTheGroupOrder() {
        // s = n − 1 is high; its normalization is 1.
        var raw = [UInt8](repeating: 0x11, count: 32) + ES256.order
        raw[63] -= 1
        #expect(!ES256.isLowS(raw))
        ES256.normalizeToLowS(&raw)
        #expect(Array(raw[32...]) == [UInt8](repeating: 0, count: 31) + [1])
        // ⌊n/2⌋ itself is low; ⌊n/2⌋ + 1 is high.
        var half = [UInt8](repeating: 0x11, count: 32) + ES256.halfOrder
        #expect(ES256.isLowS(half))
        half[63] += 1
        #expect(!ES256.isLowS(half))
    }

    @Test("a low-S DER signature verifies with swift-crypto and openssl, and converts back to the same r‖s")
    func lowSDERSignature() throws {
        let key = P256.Signing.PrivateKey()
        let message = Array("checkpoint body".utf8)
        for _ in 0..<20 {
            let der = try ES256.lowSDERSignature(of: message, with: key)
            let raw = try #require(ES256.rawSignature(fromDER: der))
            #expect(ES256.isLowS(raw))
            #expect(ES256.derSignature(fromRaw: raw) == der)
            #expect(key.publicKey.isValidSignature(try P256.Signing.ECDSASignature(derRepresentation: der), for: message))
        }
        #expect(ES256.rawSignature(fromDER: [0x30, 0x02, 0x02, 0x00]) == nil)
    }

    @Test("openssl verifies a DER signature made from a raw one (independent check)")
    func opensslVerifiesDER() throws {
        let key = P256.Signing.PrivateKey()
        let message = Array("signed bytes".utf8)
        let raw = try ES256.lowSRawSignature(of: message, with: key)
        let der = try #require(ES256.derSignature(fromRaw: raw))
        let base = NSTemporaryDirectory() + "wardgate-der-\(UUID().uuidString.prefix(8))"
        defer { for suffix in [".msg", ".der", ".pem"] { try? FileManager.default.removeItem(atPath: base + suffix) } }
        try Data(message).write(to: URL(fileURLWithPath: base + ".msg"))
        try Data(der).write(to: URL(fileURLWithPath: base + ".der"))
        try Data(key.publicKey.pemRepresentation.utf8).write(to: URL(fileURLWithPath: base + ".pem"))
        let result = try ProcessRunner.runTool(["openssl", "dgst", "-sha256", "-verify", base + ".pem", "-signature", base + ".der", base + ".msg"])
        #expect(result.status == 0, "\(result.output)")
        #expect(result.stdout.contains("Verified OK"))
    }
}
