/// Standard padded base64 (RFC 4648 §4). Decoding is canonical-only: it
/// rejects missing padding, whitespace and non-zero trailing bits, so every
/// byte string has exactly one accepted text form.
enum Base64 {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    private static let decodeTable: [UInt8] = {
        var table = [UInt8](repeating: 0xFF, count: 256)
        for (value, character) in alphabet.enumerated() {
            table[Int(character)] = UInt8(value)
        }
        return table
    }()

    static func encode(_ bytes: some Collection<UInt8>) -> String {
        let input = Array(bytes)
        var output = [UInt8]()
        output.reserveCapacity((input.count + 2) / 3 * 4)
        var index = 0
        while index + 3 <= input.count {
            let chunk = UInt32(input[index]) << 16 | UInt32(input[index + 1]) << 8 | UInt32(input[index + 2])
            output.append(alphabet[Int(chunk >> 18 & 0x3F)])
            output.append(alphabet[Int(chunk >> 12 & 0x3F)])
            output.append(alphabet[Int(chunk >> 6 & 0x3F)])
            output.append(alphabet[Int(chunk & 0x3F)])
            index += 3
        }
        switch input.count - index {
        case 1:
            let chunk = UInt32(input[index]) << 16
            output.append(alphabet[Int(chunk >> 18 & 0x3F)])
            output.append(alphabet[Int(chunk >> 12 & 0x3F)])
            output.append(contentsOf: Array("==".utf8))
        case 2:
            let chunk = UInt32(input[index]) << 16 | UInt32(input[index + 1]) << 8
            output.append(alphabet[Int(chunk >> 18 & 0x3F)])
            output.append(alphabet[Int(chunk >> 12 & 0x3F)])
            output.append(alphabet[Int(chunk >> 6 & 0x3F)])
            output.append(UInt8(ascii: "="))
        default:
            break
        }
        return String(decoding: output, as: UTF8.self)
    }

    /// Returns nil for anything but canonical padded base64.
    static func decode(_ text: some StringProtocol) -> [UInt8]? {
        let input = Array(text.utf8)
        guard input.count % 4 == 0 else { return nil }
        var output = [UInt8]()
        output.reserveCapacity(input.count / 4 * 3)
        var index = 0
        while index < input.count {
            let isLastQuad = index + 4 == input.count
            let padding: Int
            if isLastQuad && input[index + 3] == UInt8(ascii: "=") {
                padding = input[index + 2] == UInt8(ascii: "=") ? 2 : 1
            } else {
                padding = 0
            }
            var chunk: UInt32 = 0
            for offset in 0..<4 {
                let character = input[index + offset]
                let value: UInt8
                if offset >= 4 - padding {
                    value = 0
                } else {
                    value = decodeTable[Int(character)]
                    guard value != 0xFF else { return nil }
                }
                chunk = chunk << 6 | UInt32(value)
            }
            let decoded = [UInt8(chunk >> 16 & 0xFF), UInt8(chunk >> 8 & 0xFF), UInt8(chunk & 0xFF)]
            switch padding {
            case 0:
                output.append(contentsOf: decoded)
            case 1:
                guard decoded[2] == 0 else { return nil }  // non-canonical trailing bits
                output.append(contentsOf: decoded[0..<2])
            default:
                guard decoded[1] == 0, decoded[2] == 0 else { return nil }
                output.append(decoded[0])
            }
            index += 4
        }
        return output
    }
}
