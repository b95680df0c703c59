import JSONDocument
import Simulation
import Testing

@Suite("Canonical numbers (RFC 8785 §3.2.2.3)")
struct CanonicalNumberTests {
    /// The lexeme path (digits taken from the text when there are at most 15) must give what the
    /// double path gives: parse to the nearest double, then its shortest round-trip digits.
    @Test("the lexeme fast path equals the double path on 50,000 seeded lexemes")
    func fastPathEqualsDoublePath() throws {
        var random = SeededGenerator(seed: 8785)
        var checked = 0
        for _ in 0..<50_000 {
            let lexeme = Self.randomLexeme(&random)
            let viaLexeme = Result { () throws(CanonicalNumber.Failure) -> [UInt8] in
                var out: [UInt8] = []
                try CanonicalNumber.append(lexeme: lexeme, to: &out)
                return out
            }
            let double = try #require(Double(lexeme), "\(lexeme)")
            let viaDouble = Result { () throws(CanonicalNumber.Failure) -> [UInt8] in
                var out: [UInt8] = []
                try CanonicalNumber.append(double, to: &out)
                return out
            }
            #expect(viaLexeme == viaDouble, "\(lexeme)")
            if viaLexeme != viaDouble { return }
            checked += 1
        }
        #expect(checked == 50_000)
    }

    @Test(arguments: [
        ("72.0", "72"), ("-0.000", "0"), ("0.1", "0.1"), ("7.50", "7.5"), ("-0.0e5", "0"), ("120.50", "120.5"),
        ("1e21", "1e+21"), ("123456789012345e7", "1.23456789012345e+21"), ("12345678901234.5e7", "123456789012345000000"),
        ("0.000001", "0.000001"), ("0.0000001", "1e-7"), ("999999999999999", "999999999999999"),
        ("9999999999999999", "10000000000000000"), ("1.7976931348623157e308", "1.7976931348623157e+308"),
        ("2e-300", "2e-300"), ("5e-324", "5e-324"), ("1e-400", "0"), ("-1e-400", "0"),
    ])
    func examples(lexeme: String, expected: String) throws {
        #expect(try CanonicalNumber.canonical(lexeme: lexeme) == expected)
    }

    @Test(arguments: ["1e400", "-1e309", "1e99999999999"])
    func beyondTheDoubleRange(lexeme: String) {
        #expect(throws: CanonicalNumber.Failure.outOfRange) { try CanonicalNumber.canonical(lexeme: lexeme) }
    }

    @Test(arguments: ["", "-", "+1", "01", "1.", ".5", "1e", "1e+", "0x10", "NaN", "Infinity", "1 ", " 1", "1.2.3", "--1", "١"])
    func notNumbers(lexeme: String) {
        #expect(throws: CanonicalNumber.Failure.invalidNumber) { try CanonicalNumber.canonical(lexeme: lexeme) }
    }

    /// Lexemes of every shape: 1 to 20 significant digits, leading and trailing zeros, signs,
    /// exponents from far below to far above the plain-notation range.
    static func randomLexeme(_ random: inout SeededGenerator) -> String {
        func digits(_ count: Int) -> String {
            String((0..<count).map { _ in Character(String(random.next() % 10)) })
        }
        var text = random.next() % 3 == 0 ? "-" : ""
        let integerDigits = Int(random.next() % 12)
        if integerDigits == 0 {
            text += "0"
        } else {
            text += String(1 + random.next() % 9) + digits(integerDigits - 1)
        }
        if random.next() % 2 == 0 {
            let zeros = random.next() % 4 == 0 ? Int(random.next() % 8) : 0
            text += "." + String(repeating: "0", count: zeros) + digits(1 + Int(random.next() % 10))
        }
        if random.next() % 3 == 0 {
            let exponent = Int(random.next() % 700) - 350
            text += (random.next() % 2 == 0 ? "e" : "E") + (exponent >= 0 && random.next() % 2 == 0 ? "+" : "") + String(exponent)
        }
        return text
    }
}
