import Foundation
import Testing
import WardgateTestSupport
@testable import JSONDocument

@Suite("JCS (RFC 8785)")
struct JCSTests {
    /// RFC 8785 Appendix B: IEEE 754 bit patterns and their ECMAScript serialization.
    @Test(arguments: [
        (0x0000_0000_0000_0000 as UInt64, "0"),
        (0x8000_0000_0000_0000, "0"),
        (0x0000_0000_0000_0001, "5e-324"),
        (0x8000_0000_0000_0001, "-5e-324"),
        (0x7FEF_FFFF_FFFF_FFFF, "1.7976931348623157e+308"),
        (0xFFEF_FFFF_FFFF_FFFF, "-1.7976931348623157e+308"),
        (0x4340_0000_0000_0000, "9007199254740992"),
        (0xC340_0000_0000_0000, "-9007199254740992"),
        (0x4430_0000_0000_0000, "295147905179352830000"),
        (0x44B5_2D02_C7E1_4AF5, "9.999999999999997e+22"),
        (0x44B5_2D02_C7E1_4AF6, "1e+23"),
        (0x44B5_2D02_C7E1_4AF7, "1.0000000000000001e+23"),
        (0x444B_1AE4_D6E2_EF4E, "999999999999999700000"),
        (0x444B_1AE4_D6E2_EF4F, "999999999999999900000"),
        (0x444B_1AE4_D6E2_EF50, "1e+21"),
        (0x3EB0_C6F7_A0B5_ED8C, "9.999999999999997e-7"),
        (0x3EB0_C6F7_A0B5_ED8D, "0.000001"),
        (0x41B3_DE43_5555_5553, "333333333.3333332"),
        (0x41B3_DE43_5555_5554, "333333333.33333325"),
        (0x41B3_DE43_5555_5555, "333333333.3333333"),
        (0x41B3_DE43_5555_5556, "333333333.3333334"),
        (0x41B3_DE43_5555_5557, "333333333.33333343"),
        (0xBECB_F647_612F_3696, "-0.0000033333333333333333"),
        (0x4314_3FF3_C1CB_0959, "1424953923781206.2"),
    ])
    func appendixBNumbers(bits: UInt64, expected: String) throws {
        #expect(try ECMAScriptNumber.canonical(Double(bitPattern: bits)) == expected)
    }

    @Test func nonFiniteValuesAreRejected() {
        #expect(throws: JCSError.self) { try ECMAScriptNumber.canonical(Double(bitPattern: 0x7FFF_FFFF_FFFF_FFFF)) }
        #expect(throws: JCSError.self) { try ECMAScriptNumber.canonical(Double(bitPattern: 0x7FF0_0000_0000_0000)) }
        #expect(throws: JCSError.self) { try ECMAScriptNumber.canonical(-Double.infinity) }
    }

    @Test(arguments: [
        ("0", "0"), ("-0", "0"), ("-0.0", "0"), ("1e21", "1e+21"), ("1e20", "100000000000000000000"), ("1e-7", "1e-7"),
        ("1e-6", "0.000001"), ("333333333.33333329", "333333333.3333333"), ("295147905179352830000", "295147905179352830000"),
        ("5e-324", "5e-324"), ("1.7976931348623157e308", "1.7976931348623157e+308"), ("9007199254740992", "9007199254740992"),
        ("9007199254740993", "9007199254740992"), ("1E3", "1000"), ("4.50", "4.5"), ("2e-3", "0.002"),
        ("0.000000000000000000000000001", "1e-27"), ("1E30", "1e+30"), ("72.0", "72"), ("-12.5e-1", "-1.25"), ("123456789012345678901234567890", "1.2345678901234568e+29"),
    ])
    func lexemes(lexeme: String, expected: String) throws {
        #expect(try ECMAScriptNumber.canonical(lexeme: lexeme) == expected)
    }

    @Test(arguments: ["1e400", "-1e309"])
    func outOfRangeLexemesAreRejected(lexeme: String) {
        #expect(throws: JCSError.numberOutOfRange(lexeme)) { try JCS.canonicalize(.number(lexeme)) }
    }

    @Test(arguments: ["NaN", "inf", "+1", "0x10", "01", "1.", ".5", "", "1e", "--1", "1 "])
    func invalidLexemesAreRejected(lexeme: String) {
        #expect(throws: JCSError.invalidNumber(lexeme)) { try JCS.canonicalize(.number(lexeme)) }
    }

    /// RFC 8785 §3.2.2 example.
    @Test func rfcMainExample() throws {
        let input = #"""
            {
              "numbers": [333333333.33333329, 1E30, 4.50,
                          2e-3, 0.000000000000000000000000001],
              "string": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/",
              "literals": [null, true, false]
            }
            """#
        let expected = #"{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"string":"€$\u000f\nA'B\"\\\\\"/"}"#
        #expect(try JCS.canonicalString(JSONParser.parse(input)) == expected)
    }

    /// RFC 8785 §3.2.3 sorting example: UTF-16 code-unit order puts U+1F600 (D83D DE00) before U+FB33.
    @Test func rfcSortingExample() throws {
        let input = #"""
            {
              "\u20ac": "Euro Sign",
              "\r": "Carriage Return",
              "\ufb33": "Hebrew Letter Dalet With Dagesh",
              "1": "One",
              "\ud83d\ude00": "Emoji: Grinning Face",
              "\u0080": "Control",
              "\u00f6": "Latin Small Letter O With Diaeresis"
            }
            """#
        let expected =
            "{\"\\r\":\"Carriage Return\",\"1\":\"One\",\"\u{80}\":\"Control\",\"\u{F6}\":\"Latin Small Letter O With Diaeresis\","
            + "\"\u{20AC}\":\"Euro Sign\",\"\u{1F600}\":\"Emoji: Grinning Face\",\"\u{FB33}\":\"Hebrew Letter Dalet With Dagesh\"}"
        #expect(try JCS.canonicalString(JSONParser.parse(input)) == expected)
    }

    /// The UTF-8 fast comparison must equal plain UTF-16 code-unit order on every kind of scalar.
    @Test func memberOrderEqualsUTF16CodeUnitOrder() {
        let pool: [Unicode.Scalar] = ["a", "Z", "\u{7F}", "\u{80}", "\u{7FF}", "\u{800}", "\u{D7FF}", "\u{E000}", "\u{FB33}", "\u{FFFF}", "\u{10000}", "\u{1F600}", "\u{10FFFF}"]
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<5000 {
            func random() -> String {
                var scalars = String.UnicodeScalarView()
                for _ in 0..<Int.random(in: 0...3, using: &generator) { scalars.append(pool.randomElement(using: &generator)!) }
                return String(scalars)
            }
            let (a, b) = (random(), random())
            #expect(JCS.utf16Precedes(a, b) == a.utf16.lexicographicallyPrecedes(b.utf16), "\(a.unicodeScalars.map(\.value)) vs \(b.unicodeScalars.map(\.value))")
        }
    }

    @Test func controlCharactersUseMinimalEscapes() throws {
        let value = JSONValue.string("\u{0}\u{1}\u{8}\t\n\u{B}\u{C}\r\u{1F}\u{7F}\u{2028}/")
        #expect(try JCS.canonicalString(value) == "\"\\u0000\\u0001\\b\\t\\n\\u000b\\f\\r\\u001f\u{7F}\u{2028}/\"")
    }

    @Test func nestedObjectsAreSortedAndWhitespaceFree() throws {
        let value: JSONValue = ["b": [1, ["z": true, "a": .null]], "a": "x", "": .number("0.10")]
        #expect(try JCS.canonicalString(value) == #"{"":0.1,"a":"x","b":[1,{"a":null,"z":true}]}"#)
    }

    @Test func duplicateNamesAreRejectedEvenWhenCanonicallyEquivalent() {
        // "é" precomposed vs decomposed: equal as Swift Strings, different UTF-16, so NOT duplicates.
        let distinct = JSONValue.object([JSONMember("\u{E9}", 1), JSONMember("e\u{301}", 2)])
        #expect((try? JCS.canonicalize(distinct)) != nil)
        let duplicate = JSONValue.object([JSONMember("a", 1), JSONMember("a", 2)])
        #expect(throws: JCSError.duplicateMemberName("a")) { try JCS.canonicalize(duplicate) }
    }

    /// Cross-check against the independent `rfc8785` Python package on random doubles.
    @Test func agreesWithPythonRFC8785OnRandomNumbers() throws {
        var generator = SystemRandomNumberGenerator()
        var lexemes: [String] = []
        while lexemes.count < 3000 {
            let value = Double(bitPattern: generator.next())
            guard value.isFinite else { continue }
            lexemes.append(value.description)
        }
        lexemes += (0..<500).map { _ in String(Int.random(in: -1_000_000...1_000_000)) + "." + String(Int.random(in: 0...999_999)) }
        lexemes += (0..<500).map { _ in "\(Int.random(in: 1...9))e\(Int.random(in: -330...307))" }
        let array = JSONValue.array(lexemes.map { .number($0) })
        let ours = try JCS.canonicalize(array)
        let script = """
            import json, sys, rfc8785
            data = json.loads(sys.stdin.read(), parse_int=float)
            sys.stdout.buffer.write(rfc8785.dumps(data))
            """
        let result = try ProcessRunner.runTool(["python3", "-c", script], input: Array(array.serialized.utf8))
        #expect(result.status == 0, "python rfc8785 failed: \(result.stderr)")
        let theirs = Array(result.stdout.utf8)
        if theirs != ours {
            // Point at the first differing number for a readable failure.
            let oursParts = String(decoding: ours, as: UTF8.self).split(separator: ",")
            let theirParts = result.stdout.split(separator: ",")
            let index = zip(oursParts, theirParts).enumerated().first { $0.element.0 != $0.element.1 }?.offset ?? 0
            Issue.record("first difference at \(lexemes[min(index, lexemes.count - 1)]): ours \(oursParts[index]) vs rfc8785 \(theirParts[index])")
        }
    }
}
