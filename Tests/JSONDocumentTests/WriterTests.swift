import JSONDocument
import Testing

@Suite("JSON writer")
struct WriterTests {
    private func written(_ s: String) -> String {
        var out = ""
        JSONValue.writeString(s, into: &out)
        return out
    }

    @Test("string escapes are those RFC 8785 §3.2.2.2 prescribes")
    func rfc8785Escapes() {
        #expect(written("\"") == #""\"""#)
        #expect(written("\\") == #""\\""#)
        #expect(written("\u{08}") == #""\b""#)
        #expect(written("\u{0C}") == #""\f""#)
        #expect(written("\n") == #""\n""#)
        #expect(written("\r") == #""\r""#)
        #expect(written("\t") == #""\t""#)
        // The other control characters: \u00XX, lower-case hex.
        #expect(written("\u{00}") == #""\u0000""#)
        #expect(written("\u{01}") == #""\u0001""#)
        #expect(written("\u{0B}") == #""\u000b""#)
        #expect(written("\u{0E}") == #""\u000e""#)
        #expect(written("\u{1A}") == #""\u001a""#)
        #expect(written("\u{1F}") == #""\u001f""#)
        // Everything else is written as itself: '/', DEL, non-ASCII, line separators, astral planes.
        #expect(written("/") == #""/""#)
        #expect(written("\u{7F}") == "\"\u{7F}\"")
        #expect(written("é€\u{2028}\u{2029}😀\u{FEFF}") == "\"é€\u{2028}\u{2029}😀\u{FEFF}\"")
        #expect(written("") == #""""#)
        // Escapes between, before and after runs of plain text.
        #expect(written("ab\"c\\d\ne\u{01}fé") == #""ab\"c\\d\ne\u0001fé""#)
        #expect(written("\"\"x\t") == #""\"\"x\t""#)
    }

    @Test("every control character U+0000…U+001F is escaped, and reads back as itself")
    func allControlCharacters() throws {
        let short: [UInt32: String] = [0x08: #"\b"#, 0x09: #"\t"#, 0x0A: #"\n"#, 0x0C: #"\f"#, 0x0D: #"\r"#]
        for value in UInt32(0)...0x1F {
            let scalar = Unicode.Scalar(value)!
            let s = String(Character(scalar))
            let expected = short[value] ?? "\\u00" + (value < 0x10 ? "0" : "") + String(value, radix: 16)
            #expect(written(s) == "\"" + expected + "\"", "U+\(String(value, radix: 16))")
            #expect(written(s).unicodeScalars.allSatisfy { $0.value >= 0x20 }, "raw control character written for U+\(String(value, radix: 16))")
            #expect(try JSONParser.parse(written(s)) == .string(s))
        }
    }

    @Test("compact output, members in stored order, numbers exactly as their lexeme")
    func compactOutput() {
        let value: JSONValue = .object([
            JSONMember("z", .number("2.0")),
            JSONMember("a", .array([.number("1e3"), .number("-0.50"), .bool(true), .bool(false), .null])),
            JSONMember("k\"ey", .string("v\nal")),
            JSONMember("empty", .object([])),
            JSONMember("list", .array([])),
        ])
        #expect(value.serialized == #"{"z":2.0,"a":[1e3,-0.50,true,false,null],"k\"ey":"v\nal","empty":{},"list":[]}"#)
        #expect(value.serializedBytes == Array(value.serialized.utf8))
    }

    @Test("the optional-member builder leaves out nil members and keeps the order of the rest")
    func optionalMembers() {
        let present: JSONValue? = .string("x")
        let absent: JSONValue? = nil
        let value = JSONValue.object(["b": present, "gone": absent, "a": .integer(UInt8(7)), "n": .null])
        #expect(value.serialized == #"{"b":"x","a":7,"n":null}"#)
    }

    @Test("literals and integer helpers build the values they say")
    func literals() {
        let value: JSONValue = ["s": "t", "i": 42, "b": true, "l": [1, -2]]
        #expect(value.serialized == #"{"s":"t","i":42,"b":true,"l":[1,-2]}"#)
        #expect(JSONValue.integer(Int64.min).serialized == "-9223372036854775808")
        #expect(JSONValue.integer(UInt64.max).serialized == "18446744073709551615")
    }

    @Test("parse ∘ write is the identity on parsed documents")
    func parseWriteIdentity() throws {
        let inputs = [
            #"  { "ts" : 1763719200000 , "hr" : 72.0 , "bp" : { "sys" : 118 , "dia" : 76 } , "note" : "a\u0007b\/c" }  "#,
            #"[{"bn":"urn:dev:mac:0024befffe804ff1:","bt":1.7637192005E9},{"n":"t","v":-0.0}]"#,
            "\"\\ud834\\udd1e \\u00e9 \\u2028\"",
        ]
        for input in inputs {
            let value = try JSONParser.parse(input)
            let text = value.serialized
            #expect(try JSONParser.parse(text) == value)
            #expect(try JSONParser.parse(text).serialized == text)
        }
        // Escapes are normalized to the canonical form, lexemes are not.
        #expect(try JSONParser.parse(inputs[0]).serialized == #"{"ts":1763719200000,"hr":72.0,"bp":{"sys":118,"dia":76},"note":"a\u0007b/c"}"#)
        #expect(try JSONParser.parse(inputs[2]).serialized == "\"𝄞 é \u{2028}\"")
    }
}
