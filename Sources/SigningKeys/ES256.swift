import Crypto
import Foundation

/// P-256 ECDSA signature encodings (raw r‖s as JOSE uses, DER `ECDSA-Sig-Value` as X.509,
/// openssl and Fabric use) and the low-S rule.
///
/// ECDSA signatures are malleable: (r, s) and (r, n − s) both verify. wardgate emits only the
/// "low" form (s ≤ n/2) and its verifiers reject the other, so each signed Observation has exactly
/// one valid signature value; a Fabric peer refuses high-S signatures outright.
public enum ES256 {
    /// P-256 group order n, big-endian.
    public static let order: [UInt8] = [
        0xFF, 0xFF, 0xFF, 0xFF, 0x00, 0x00, 0x00, 0x00, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
        0xBC, 0xE6, 0xFA, 0xAD, 0xA7, 0x17, 0x9E, 0x84, 0xF3, 0xB9, 0xCA, 0xC2, 0xFC, 0x63, 0x25, 0x51,
    ]
    /// ⌊n/2⌋, big-endian.
    public static let halfOrder: [UInt8] = [
        0x7F, 0xFF, 0xFF, 0xFF, 0x80, 0x00, 0x00, 0x00, 0x7F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
        0xDE, 0x73, 0x7D, 0x56, 0xD3, 0x8B, 0xCF, 0x42, 0x79, 0xDC, 0xE5, 0x61, 0x7E, 0x31, 0x92, 0xA8,
    ]

    /// Compares two 32-byte big-endian integers stored at offsets of their buffers.
    static func compare(_ a: UnsafeRawBufferPointer, _ b: [UInt8]) -> Int {
        for i in 0..<32 where a[i] != b[i] { return a[i] < b[i] ? -1 : 1 }
        return 0
    }

    /// Whether the 64-byte r‖s signature has s ≤ n/2.
    public static func isLowS(_ rawSignature: [UInt8]) -> Bool {
        guard rawSignature.count == 64 else { return false }
        return rawSignature.withUnsafeBytes { compare(UnsafeRawBufferPointer(rebasing: $0[32..<64]), halfOrder) <= 0 }
    }

    /// Rewrites s as n − s in place when s > n/2.
    public static func normalizeToLowS(_ rawSignature: inout [UInt8]) {
        guard rawSignature.count == 64, !isLowS(rawSignature) else { return }
        var borrow = 0
        for i in stride(from: 31, through: 0, by: -1) {
            let difference = Int(order[i]) - Int(rawSignature[32 + i]) - borrow
            borrow = difference < 0 ? 1 : 0
            rawSignature[32 + i] = UInt8(truncatingIfNeeded: difference + (borrow << 8))
        }
    }

    /// The high-S twin of a signature (n − s); only useful to test that verifiers reject it.
    public static func flippingS(_ rawSignature: [UInt8]) -> [UInt8] {
        guard rawSignature.count == 64 else { return rawSignature }
        var out = rawSignature
        var borrow = 0
        for i in stride(from: 31, through: 0, by: -1) {
            let difference = Int(order[i]) - Int(rawSignature[32 + i]) - borrow
            borrow = difference < 0 ? 1 : 0
            out[32 + i] = UInt8(truncatingIfNeeded: difference + (borrow << 8))
        }
        return out
    }

    /// Whether r and s are both in [1, n−1].
    public static func scalarsInRange(_ rawSignature: [UInt8]) -> Bool {
        guard rawSignature.count == 64 else { return false }
        return rawSignature.withUnsafeBytes { raw in
            let r = UnsafeRawBufferPointer(rebasing: raw[0..<32])
            let s = UnsafeRawBufferPointer(rebasing: raw[32..<64])
            return !r.allSatisfy { $0 == 0 } && !s.allSatisfy { $0 == 0 } && compare(r, order) < 0 && compare(s, order) < 0
        }
    }

    /// DER `ECDSA-Sig-Value` (what `openssl dgst -verify` expects) from the JOSE r‖s form.
    public static func derSignature(fromRaw rawSignature: [UInt8]) -> [UInt8]? {
        guard rawSignature.count == 64 else { return nil }
        func integer(_ bytes: ArraySlice<UInt8>) -> [UInt8] {
            var trimmed = Array(bytes.drop { $0 == 0 })
            if trimmed.isEmpty { trimmed = [0] }
            if trimmed[0] & 0x80 != 0 { trimmed.insert(0, at: 0) }
            return [0x02, UInt8(trimmed.count)] + trimmed
        }
        let body = integer(rawSignature[0..<32]) + integer(rawSignature[32..<64])
        return [0x30, UInt8(body.count)] + body
    }

    /// The r‖s form of a DER `ECDSA-Sig-Value`; nil when it is not a valid P-256 signature encoding.
    public static func rawSignature(fromDER der: [UInt8]) -> [UInt8]? {
        (try? P256.Signing.ECDSASignature(derRepresentation: der)).map { Array($0.rawRepresentation) }
    }

    /// Signs `data` (SHA-256 inside) and returns the low-S signature, raw r‖s.
    public static func lowSRawSignature(of data: some DataProtocol, with key: P256.Signing.PrivateKey) throws -> [UInt8] {
        var raw = Array(try key.signature(for: data).rawRepresentation)
        normalizeToLowS(&raw)
        return raw
    }

    /// Signs `data` (SHA-256 inside) and returns the low-S signature, DER encoded.
    public static func lowSDERSignature(of data: some DataProtocol, with key: P256.Signing.PrivateKey) throws -> [UInt8] {
        // A raw signature of 64 bytes always has a DER form.
        derSignature(fromRaw: try lowSRawSignature(of: data, with: key)) ?? []
    }
}
