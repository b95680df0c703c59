/// base64url without padding (RFC 4648 §5), as JOSE uses it (and the journal, which keeps raw
/// signatures and rebuilds their text: issue #16). Hand-written because it sits on the
/// signing hot path and Foundation's Base64 would need a Data round trip plus character swaps.
public enum Base64URL {
    private static let alphabet: [UInt8] = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)

    private static let decodeTable: [UInt8] = {
        var table = [UInt8](repeating: 0xFF, count: 256)
        for (value, symbol) in alphabet.enumerated() { table[Int(symbol)] = UInt8(value) }
        return table
    }()

    public static func encode<Bytes: Collection<UInt8>>(_ bytes: Bytes) -> String {
        var out: [UInt8] = []
        append(bytes, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// Appends the encoding of `bytes` to `out` as ASCII bytes.
    public static func append<Bytes: Collection<UInt8>>(_ bytes: Bytes, to out: inout [UInt8]) {
        let done: Void? = bytes.withContiguousStorageIfAvailable { buffer in
            appendContiguous(buffer, to: &out)
        }
        if done == nil { appendContiguous(Array(bytes), to: &out) }
    }

    private static func appendContiguous(_ input: [UInt8], to out: inout [UInt8]) {
        input.withUnsafeBufferPointer { appendContiguous($0, to: &out) }
    }

    /// Whole 3-byte groups in a tight loop, then the 1- or 2-byte tail.
    private static func appendContiguous(_ input: UnsafeBufferPointer<UInt8>, to out: inout [UInt8]) {
        let wholeGroups = input.count / 3
        let tail = input.count % 3
        let produced = wholeGroups * 4 + (tail == 0 ? 0 : tail + 1)
        let start = out.count
        out.append(contentsOf: repeatElement(0, count: produced))
        alphabet.withUnsafeBufferPointer { table in
            out.withUnsafeMutableBufferPointer { output in
                var o = start
                var i = 0
                for _ in 0..<wholeGroups {
                    let value = UInt32(input[i]) << 16 | UInt32(input[i + 1]) << 8 | UInt32(input[i + 2])
                    output[o] = table[Int(value >> 18)]
                    output[o + 1] = table[Int(value >> 12 & 0x3F)]
                    output[o + 2] = table[Int(value >> 6 & 0x3F)]
                    output[o + 3] = table[Int(value & 0x3F)]
                    i += 3
                    o += 4
                }
                if tail == 1 {
                    let value = UInt32(input[i]) << 16
                    output[o] = table[Int(value >> 18)]
                    output[o + 1] = table[Int(value >> 12 & 0x3F)]
                } else if tail == 2 {
                    let value = UInt32(input[i]) << 16 | UInt32(input[i + 1]) << 8
                    output[o] = table[Int(value >> 18)]
                    output[o + 1] = table[Int(value >> 12 & 0x3F)]
                    output[o + 2] = table[Int(value >> 6 & 0x3F)]
                }
            }
        }
    }

    /// Decodes strictly: only the base64url alphabet, no padding, no whitespace, and the unused
    /// trailing bits must be zero (so each byte string has exactly one accepted encoding).
    public static func decode<Text: Collection<UInt8>>(_ text: Text) -> [UInt8]? {
        guard text.count % 4 != 1 else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(text.count * 3 / 4)
        var accumulator: UInt32 = 0
        var bits = 0
        for symbol in text {
            let value = decodeTable[Int(symbol)]
            guard value != 0xFF else { return nil }
            accumulator = accumulator << 6 | UInt32(value)
            bits += 6
            if bits >= 8 {
                bits -= 8
                out.append(UInt8(truncatingIfNeeded: accumulator >> UInt32(bits)))
                accumulator &= (1 << UInt32(bits)) - 1
            }
        }
        guard accumulator == 0 else { return nil }
        return out
    }

    public static func decode(_ text: String) -> [UInt8]? { decode(Array(text.utf8)) }
}
