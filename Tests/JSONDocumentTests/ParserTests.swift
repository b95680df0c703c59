import JSONDocument
import Testing

/// Parses `bytes` and expects a rejection whose reason contains `reason`; returns the error.
@discardableResult
func expectRejection(
    _ bytes: [UInt8], reason: String, maxDepth: Int = JSONParser.defaultMaxDepth,
    sourceLocation: SourceLocation = #_sourceLocation
) -> JSONParseError? {
    do throws(JSONParseError) {
        let value = try JSONParser.parse(bytes, maxDepth: maxDepth)
        Issue.record("accepted \(String(decoding: bytes.prefix(80), as: UTF8.self)) as \(value)", sourceLocation: sourceLocation)
        return nil
    } catch {
        #expect(error.reason.contains(reason), "reason \"\(error.reason)\" does not mention \"\(reason)\"", sourceLocation: sourceLocation)
        #expect(error.offset >= 0 && error.offset <= bytes.count, "offset \(error.offset) outside the input", sourceLocation: sourceLocation)
        #expect(error.description.hasPrefix("invalid JSON at byte \(error.offset): "), sourceLocation: sourceLocation)
        return error
    }
}

@discardableResult
func expectRejection(_ text: String, reason: String, maxDepth: Int = JSONParser.defaultMaxDepth, sourceLocation: SourceLocation = #_sourceLocation) -> JSONParseError? {
    expectRejection(Array(text.utf8), reason: reason, maxDepth: maxDepth, sourceLocation: sourceLocation)
}

/// `"` + bytes + `"`: a JSON string whose body is raw bytes.
func quoted(_ body: [UInt8]) -> [UInt8] { [0x22] + body + [0x22] }

@Suite("JSONParser: what it accepts")
struct ParserAcceptanceTests {
    @Test("compact documents round-trip byte for byte", arguments: [
        #"{"b":1,"a":[2.0,1e3,-0,0.5E-7,1E+2,-12.50,0,true,false,null,"x"]}"#,
        #"{"z":{"y":{"x":[]}},"a":{},"m":""}"#,
        #"[[[[1]]],{"":null}]"#,
        #""plain string""#,
        #"12345678901234567890123456789.000000000000000000001"#,
        #"-0.0e-0"#,
        #"true"#,
        #"null"#,
        #"{"é":"ü","emoji":"😀","cjk":"漢字"}"#,
        #"{"esc":"\"\\\b\f\n\r\t\u0001\u001f"}"#,
    ])
    func roundTrip(_ text: String) throws {
        let value = try JSONParser.parse(text)
        #expect(value.serialized == text)
        #expect(value.serializedBytes == Array(text.utf8))
        // And again: writing is a fixed point.
        #expect(try JSONParser.parse(value.serialized) == value)
    }

    @Test("number lexemes are kept exactly: 2.0 stays 2.0, 1e3 stays 1e3")
    func numberLexemes() throws {
        let value = try JSONParser.parse("[2.0, 1e3, 1E3, 1e+3, 100, -0, 0.10, 1.5e-10]")
        #expect(value == .array([.number("2.0"), .number("1e3"), .number("1E3"), .number("1e+3"), .number("100"), .number("-0"), .number("0.10"), .number("1.5e-10")]))
        #expect(value.arrayValue?.first?.numberLexeme == "2.0")
        #expect(value.serialized == "[2.0,1e3,1E3,1e+3,100,-0,0.10,1.5e-10]")
        // Equal numerically, different readings: the values differ.
        #expect(try JSONParser.parse("2.0") != (try JSONParser.parse("2")))
    }

    @Test("member order is kept as written, not sorted")
    func memberOrder() throws {
        let value = try JSONParser.parse(#"{"z": 1, "a": 2, "m": {"y": 3, "b": 4}}"#)
        #expect(value.objectMembers?.map(\.key) == ["z", "a", "m"])
        #expect(value["m"]?.objectMembers?.map(\.key) == ["y", "b"])
        #expect(value.serialized == #"{"z":1,"a":2,"m":{"y":3,"b":4}}"#)
    }

    @Test("insignificant whitespace (space, tab, CR, LF) is skipped anywhere between tokens")
    func whitespace() throws {
        let value = try JSONParser.parse(" \t\r\n{ \"a\" :\n[ 1 ,\t2 ] , \"b\":\r\n true }\n\t ")
        #expect(value.serialized == #"{"a":[1,2],"b":true}"#)
    }

    @Test("escapes decode: short forms, \\u escapes, surrogate pairs, \\/")
    func escapesDecode() throws {
        let value = try JSONParser.parse(#"["\u00e9\u00C9", "\ud83d\ude00", "\/", "\u0000", "a\"b\\c", "\b\f\n\r\t", "\uFFFF"]"#)
        #expect(value == .array(["éÉ", "😀", "/", "\u{0}", "a\"b\\c", "\u{08}\u{0C}\n\r\t", "\u{FFFF}"]))
    }

    @Test("raw UTF-8 in strings is kept; DEL (0x7F) is not a control character in JSON")
    func rawUTF8() throws {
        let value = try JSONParser.parse(quoted([0xC3, 0xA9, 0xF0, 0x9F, 0x98, 0x80, 0x7F, 0xE2, 0x80, 0xA8]))
        #expect(value == .string("é😀\u{7F}\u{2028}"))
    }

    @Test("nesting exactly at the limit is accepted; one more level is not")
    func nestingAtLimit() throws {
        let limit = JSONParser.defaultMaxDepth
        #expect(limit == 64)
        let arrays = String(repeating: "[", count: limit) + String(repeating: "]", count: limit)
        #expect(try JSONParser.parse(arrays).serialized == arrays)
        let objects = String(repeating: #"{"a":"#, count: limit) + "1" + String(repeating: "}", count: limit)
        #expect(try JSONParser.parse(objects).serialized == objects)

        expectRejection("[" + arrays + "]", reason: "nesting deeper than 64")
        expectRejection(#"{"a":"# + objects + "}", reason: "nesting deeper than 64")
        // Arrays and objects count together.
        expectRejection("[" + objects + "]", reason: "nesting deeper than 64")
    }

    @Test("a custom depth limit is honoured")
    func customDepth() throws {
        #expect(try JSONParser.parse("[[1]]", maxDepth: 2) == [[1]])
        expectRejection("[[[1]]]", reason: "nesting deeper than 2", maxDepth: 2)
        #expect(try JSONParser.parse("1", maxDepth: 0) == 1)
        expectRejection("[]", reason: "nesting deeper than 0", maxDepth: 0)
    }
}

@Suite("JSONParser: what it rejects, and why")
struct ParserRejectionTests {
    @Test("invalid UTF-8 inside a string", arguments: [
        [0xC3, 0x28],                 // 2-byte lead followed by ASCII
        [0xC3],                       // truncated 2-byte sequence
        [0xE2, 0x82],                 // truncated 3-byte sequence
        [0xC0, 0xAF],                 // overlong '/'
        [0xE0, 0x80, 0xAF],           // overlong, 3 bytes
        [0xED, 0xA0, 0x80],           // UTF-16 surrogate encoded in UTF-8
        [0xF4, 0x90, 0x80, 0x80],     // above U+10FFFF
        [0x80],                       // lone continuation byte
        [0xFF],
        [0x61, 0xFE, 0x62],
    ] as [[UInt8]])
    func invalidUTF8InString(_ body: [UInt8]) {
        let error = expectRejection(quoted(body), reason: "invalid UTF-8")
        #expect(error?.offset == 1, "the offset points at the start of the bad run")
    }

    @Test("invalid UTF-8 next to escapes, and in member names")
    func invalidUTF8AroundEscapes() {
        expectRejection(quoted(Array(#"ok\n"#.utf8) + [0xC3, 0x28]), reason: "invalid UTF-8")
        expectRejection([0x7B] + quoted([0xC3, 0x28]) + Array(":1}".utf8), reason: "invalid UTF-8")
    }

    @Test("raw non-ASCII bytes outside strings")
    func bytesOutsideStrings() {
        expectRejection([0xC3, 0xA9], reason: "unexpected character")
        expectRejection([0x5B, 0xFF, 0x5D], reason: "unexpected character")
        // A byte-order mark is not JSON text (RFC 8259 §8.1: MUST NOT be added; a strict parser refuses it).
        expectRejection([0xEF, 0xBB, 0xBF, 0x7B, 0x7D], reason: "unexpected character")
    }

    @Test("lone and mismatched surrogate escapes", arguments: [
        (#""\ud800""#, "lone high surrogate"),
        (#""\uDBFF x""#, "lone high surrogate"),
        (#""\ud800\n""#, "lone high surrogate"),
        (#""\udc00""#, "lone low surrogate"),
        (#""\uDFFF\ud800""#, "lone low surrogate"),
        (#""\ud800\u0041""#, "invalid low surrogate"),
        (#""\ud800\ud800""#, "invalid low surrogate"),
    ])
    func surrogates(_ text: String, _ reason: String) {
        expectRejection(text, reason: reason)
    }

    @Test("duplicate member names, however they are spelled", arguments: [
        #"{"a":1,"a":2}"#,
        #"{"a":1,"b":2,"a":1}"#,
        #"{"a":1,"\u0061":2}"#,
        #"{"x":{"k":1,"k":null}}"#,
        #"[{"":1,"":2}]"#,
    ])
    func duplicateMembers(_ text: String) {
        expectRejection(text, reason: "duplicate member name")
    }

    @Test("the same name in different objects is fine")
    func sameNameInSiblings() throws {
        #expect(try JSONParser.parse(#"[{"a":1},{"a":2},{"b":{"a":3}}]"#).serialized == #"[{"a":1},{"a":2},{"b":{"a":3}}]"#)
    }

    @Test("data after the value", arguments: [
        "{} x", "1 2", "[]]", #"{"a":1}}"#, "null,", "true false", "\"a\"\"b\"", "0 0",
    ])
    func trailingData(_ text: String) {
        expectRejection(text, reason: "unexpected data after the JSON value")
    }

    @Test("raw control characters in strings", arguments: [0x00, 0x01, 0x09, 0x0A, 0x0D, 0x1F] as [UInt8])
    func controlCharacters(_ byte: UInt8) {
        let error = expectRejection(quoted([0x61, byte, 0x62]), reason: "control character in string")
        #expect(error?.offset == 2)
    }

    @Test("numbers with leading zeros", arguments: ["01", "-01", "00", "[00]", #"{"a":012}"#, "0123.5", "-00.5", "[1, 02]"])
    func leadingZeros(_ text: String) {
        expectRejection(text, reason: "leading zero")
    }

    @Test("malformed numbers", arguments: [
        ("1.", "digits must follow '.'"),
        ("-", "invalid number"),
        ("-a", "invalid number"),
        ("1e", "digits must follow the exponent"),
        ("1e+", "digits must follow the exponent"),
        ("1.e5", "digits must follow '.'"),
        (".5", "unexpected character"),
        ("+1", "unexpected character"),
        ("NaN", "unexpected character"),
        ("Infinity", "unexpected character"),
        ("-Infinity", "invalid number"),
        ("0x10", "unexpected data after the JSON value"),
        ("1_000", "unexpected data after the JSON value"),
    ])
    func malformedNumbers(_ text: String, _ reason: String) {
        expectRejection(text, reason: reason)
    }

    @Test("10,000 opening brackets throw instead of overflowing the stack")
    func deepNesting() {
        let error = expectRejection(String(repeating: "[", count: 10_000), reason: "nesting deeper than 64")
        #expect(error?.offset == 64, "the 65th bracket is the first too deep")
        expectRejection(String(repeating: #"{"a":"#, count: 10_000), reason: "nesting deeper than 64")
        expectRejection(String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000), reason: "nesting deeper than 64")
    }

    @Test("empty and whitespace-only input")
    func emptyInput() {
        let error = expectRejection([], reason: "unexpected end of input")
        #expect(error?.offset == 0)
        expectRejection(" \n\t\r ", reason: "unexpected end of input")
    }

    @Test("truncated documents", arguments: [
        ("[", "unexpected end of input"),
        ("[1", "expected ',' or ']'"),
        ("[1,", "unexpected end of input"),
        ("{", "expected a member name"),
        (#"{"a""#, "expected ':'"),
        (#"{"a":"#, "unexpected end of input"),
        (#"{"a":1"#, "expected ',' or '}'"),
        (#""abc"#, "unterminated string"),
        (#""abc\"#, "unterminated escape"),
        (#""\u12"#, "truncated \\u escape"),
    ])
    func truncated(_ text: String, _ reason: String) {
        expectRejection(text, reason: reason)
    }

    @Test("not JSON: trailing commas, comments, single quotes, bare words, bad literals and escapes", arguments: [
        ("[1,]", "unexpected character"),
        (#"{"a":1,}"#, "expected a member name"),
        ("[,1]", "unexpected character"),
        ("{1:2}", "expected a member name"),
        ("{'a':1}", "expected a member name"),
        ("'a'", "unexpected character"),
        ("// c\n1", "unexpected character"),
        ("[1 /* c */]", "expected ',' or ']'"),
        ("tru", "invalid literal"),
        ("nul", "invalid literal"),
        ("True", "unexpected character"),
        ("[truex]", "expected ',' or ']'"),
        (#""\x""#, "invalid escape"),
        (#""\U0041""#, "invalid escape"),
        (#""\u12G4""#, "invalid \\u escape"),
        (#"{"a" 1}"#, "expected ':'"),
        (#"{"a":1 "b":2}"#, "expected ',' or '}'"),
        ("\u{0B}1", "unexpected character"),  // vertical tab is not JSON whitespace
        ("\u{A0}1", "unexpected character"),  // nor is NO-BREAK SPACE
    ])
    func notJSON(_ text: String, _ reason: String) {
        expectRejection(text, reason: reason)
    }

    @Test("errors carry the byte offset of the problem")
    func offsets() {
        #expect(expectRejection("[1,2,x]", reason: "unexpected character")?.offset == 5)
        #expect(expectRejection("{} x", reason: "unexpected data")?.offset == 3)
        #expect(expectRejection(#"{"a":1,"a":2}"#, reason: "duplicate member name \"a\"")?.offset == 10)
        #expect(expectRejection(#"["ok", "\ud800"]"#, reason: "lone high surrogate")?.offset == 14)
        #expect(expectRejection("01", reason: "leading zero")?.offset == 1)
    }
}
