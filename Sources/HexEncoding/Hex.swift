/// Why a hexadecimal string was rejected.
public enum HexDecodingError: Error, Equatable, Sendable, CustomStringConvertible {
    case oddLength(Int)
    case invalidCharacter(position: Int)
    case wrongLength(expectedBytes: Int, actualBytes: Int)

    public var description: String {
        switch self {
        case .oddLength(let length):
            "hex string has an odd number of digits (\(length))"
        case .invalidCharacter(let position):
            "invalid hex digit at position \(position)"
        case .wrongLength(let expected, let actual):
            "expected \(expected) bytes (\(expected * 2) hex digits), got \(actual) bytes"
        }
    }
}

/// Lowercase hex encoding and strict hex decoding (no prefix, no sign, no spaces), shared by
/// every module that writes or reads hex: digests, serial numbers, key ids, APDUs.
public enum Hex {
    private static let digits = Array("0123456789abcdef".utf8)

    public static func encode(_ bytes: some Sequence<UInt8>) -> String {
        // Through a buffer: iterating the generic sequence byte by byte profiled at 3.7 % of the
        // daemon (reading ids, payload keys, journal keys).
        if let text = bytes.withContiguousStorageIfAvailable(encode(buffer:)) { return text }
        return Array(bytes).withUnsafeBufferPointer(encode(buffer:))
    }

    private static func encode(buffer: UnsafeBufferPointer<UInt8>) -> String {
        digits.withUnsafeBufferPointer { digits in
            String(unsafeUninitializedCapacity: buffer.count * 2) { out in
                var o = 0
                for byte in buffer {
                    out[o] = digits[Int(byte >> 4)]
                    out[o + 1] = digits[Int(byte & 0x0F)]
                    o += 2
                }
                return o
            }
        }
    }

    public static func decode(_ text: some StringProtocol) throws(HexDecodingError) -> [UInt8] {
        try decode(utf8: Array(text.utf8))
    }

    /// Decodes hex digits given as UTF-8 bytes.
    public static func decode(utf8 bytes: some Collection<UInt8>) throws(HexDecodingError) -> [UInt8] {
        let utf8 = Array(bytes)
        guard utf8.count % 2 == 0 else { throw .oddLength(utf8.count) }
        var bytes = [UInt8]()
        bytes.reserveCapacity(utf8.count / 2)
        var index = 0
        while index < utf8.count {
            guard let high = nibble(utf8[index]) else { throw .invalidCharacter(position: index) }
            guard let low = nibble(utf8[index + 1]) else { throw .invalidCharacter(position: index + 1) }
            bytes.append(high << 4 | low)
            index += 2
        }
        return bytes
    }

    private static func nibble(_ character: UInt8) -> UInt8? {
        switch character {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): character - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): character - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): character - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    /// Decodes hex typed by a person: whitespace between the digits is ignored.
    public static func decode(ignoringWhitespace text: some StringProtocol) throws(HexDecodingError) -> [UInt8] {
        try decode(utf8: text.utf8.filter { $0 != 0x20 && $0 != 0x09 && $0 != 0x0A && $0 != 0x0D })
    }
}
