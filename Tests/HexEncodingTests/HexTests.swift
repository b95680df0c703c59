import HexEncoding
import Testing

@Suite("Hex: lower-case encoding, strict decoding")
struct HexTests {
    @Test("every byte value encodes to two lower-case digits and decodes back")
    func roundTrip() throws {
        let bytes = (0...255).map { UInt8($0) }
        let text = Hex.encode(bytes)
        #expect(text.count == 512)
        #expect(text.hasPrefix("000102") && text.hasSuffix("fdfeff"))
        #expect(text == text.lowercased())
        #expect(try Hex.decode(text) == bytes)
        #expect(try Hex.decode(text.uppercased()) == bytes)
        #expect(Hex.encode([]) == "")
        // A sequence without contiguous storage, and a slice, give the same digits.
        #expect(Hex.encode((0...255).lazy.map { UInt8($0) }) == text)
        #expect(Hex.encode(bytes[254...]) == "feff")
    }

    @Test("odd length, a non-digit, a sign or a prefix is refused, naming where")
    func refusals() {
        #expect(throws: HexDecodingError.oddLength(3)) { try Hex.decode("abc") }
        #expect(throws: HexDecodingError.invalidCharacter(position: 1)) { try Hex.decode("0g") }
        // Integer parsing would take "+f" as 15; hex digits only.
        #expect(throws: HexDecodingError.invalidCharacter(position: 0)) { try Hex.decode("+f") }
        #expect(throws: HexDecodingError.invalidCharacter(position: 1)) { try Hex.decode("0x00") }
        #expect(throws: HexDecodingError.invalidCharacter(position: 2)) { try Hex.decode("e7 00 ") }
    }

    @Test("hex typed by a person may be spaced and broken over lines")
    func whitespace() throws {
        #expect(try Hex.decode(ignoringWhitespace: "E2 00\n00\t32\r\n") == [0xE2, 0x00, 0x00, 0x32])
        #expect(throws: HexDecodingError.oddLength(3)) { try Hex.decode(ignoringWhitespace: "e2 0") }
    }
}
