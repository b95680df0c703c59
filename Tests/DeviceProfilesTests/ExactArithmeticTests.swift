import Foundation
import Nomenclature
import Simulation
import Testing
@testable import Observations

/// The integer arithmetic of the hot path against Foundation's `Decimal`, which did the same
/// work before and is the oracle here. A fast path that gives up must fall back, never differ.
@Suite("Exact decimal arithmetic against Foundation Decimal")
struct ExactArithmeticTests {
    /// Values as devices and conversions produce them: 1 to 27 significant digits, 0 to 8 decimals.
    static func randomNumber(_ random: inout SeededGenerator, maxDigits: Int = 27) -> DecimalNumber {
        let digits = 1 + Int(random.next() % UInt64(maxDigits))
        var text = random.next() % 4 == 0 ? "-" : ""
        // Mostly short values (vital signs), sometimes long ones.
        let count = random.next() % 3 == 0 ? digits : min(digits, 1 + Int(random.next() % 5))
        let body = String((0..<count).map { _ in Character(String(random.next() % 10)) })
        let scale = min(count - 1, Int(random.next() % 9))
        if scale > 0 {
            text += String(body.dropLast(scale)) + "." + String(body.suffix(scale))
        } else {
            text += body
        }
        return DecimalNumber(text)!
    }

    @Test("every unit conversion: the exact path equals Decimal on 20,000 seeded values each, and is taken")
    func conversions() throws {
        var random = SeededGenerator(seed: 1_180)
        for conversion in UnitConversion.all {
            var fast = 0
            for _ in 0..<20_000 {
                let value = Self.randomNumber(&random)
                let scale = max(0, value.scale + conversion.scaleShift)
                let oracle = conversion.convertWithDecimal(value, scale: scale)
                let exact = try #require(conversion.convertExactly(value, scale: scale), "\(value) \(conversion.from) left the exact path")
                fast += 1
                #expect(DecimalNumber(exact: exact) == oracle, "\(value) \(conversion.from) → \(conversion.to): \(exact.text) vs \(oracle)")
                if DecimalNumber(exact: exact) != oracle { return }
                #expect(conversion.convert(value) == oracle)
            }
            #expect(fast == 20_000)
        }
    }

    @Test("conversion ties round half to even, as Decimal's bankers rounding does")
    func ties() {
        let kPa = UnitConversion.find(from: "kPa", to: "mm[Hg]")!
        let inch = UnitConversion.find(from: "[in_i]", to: "cm")!
        for text in ["0.2", "2", "2.5", "12.25", "-12.25", "0.05", "1.0", "3.75"] {
            let value = DecimalNumber(text)!
            for conversion in [kPa, inch] {
                #expect(conversion.convert(value) == conversion.convertWithDecimal(value, scale: max(0, value.scale + conversion.scaleShift)))
            }
        }
        // 1.25 in × 2.54 = 3.175 cm, at 3 decimals: no rounding; 0.5 in = 1.27 cm.
        #expect(inch.convert(DecimalNumber("1.25")!).text == "3.175")
        // 98.6 °F = 37.0 Cel exactly; 32.9 °F = 0.5 Cel.
        #expect(UnitConversion.find(from: "[degF]", to: "Cel")!.convert(DecimalNumber("98.6")!).text == "37.00")
        #expect(UnitConversion.find(from: "[degF]", to: "Cel")!.convert(DecimalNumber("32.9")!).text == "0.50")
    }

    @Test("values beyond 27 digits keep Foundation's arithmetic")
    func beyondTheFastPath() {
        let conversion = UnitConversion.find(from: "[degF]", to: "Cel")!
        let huge = DecimalNumber("123456789012345678901234567890.5")!
        #expect(conversion.convertExactly(huge, scale: 2) == nil)
        #expect(conversion.convert(huge) == conversion.convertWithDecimal(huge, scale: 2))
    }

    @Test("sums (SenML bv + v) and products (profile scale) equal Decimal on 30,000 seeded pairs")
    func sumsAndProducts() {
        var random = SeededGenerator(seed: 8428)
        for _ in 0..<30_000 {
            let a = Self.randomNumber(&random, maxDigits: 18)
            let b = Self.randomNumber(&random, maxDigits: 18)
            let sum = DecimalNumber(a.decimal + b.decimal, scale: max(a.scale, b.scale))
            let product = DecimalNumber(a.decimal * b.decimal, scale: a.scale + b.scale)
            #expect(a.adding(b) == sum, "\(a) + \(b)")
            #expect(a.multiplied(by: b) == product, "\(a) × \(b)")
            if a.adding(b) != sum || a.multiplied(by: b) != product { return }
        }
    }

    @Test("plausible-range checks equal Decimal comparison on 30,000 seeded values")
    func ranges() throws {
        var random = SeededGenerator(seed: 20_300)
        for _ in 0..<300 {
            let low = Self.randomNumber(&random, maxDigits: 6)
            let high = Self.randomNumber(&random, maxDigits: 6)
            guard let range = PlausibleRange(low: min(low.decimal, high.decimal), high: max(low.decimal, high.decimal)) else { continue }
            for _ in 0..<100 {
                let value = random.next() % 4 == 0 ? [low, high].randomElement(using: &random)! : Self.randomNumber(&random, maxDigits: 7)
                #expect(range.contains(value) == range.contains(value.decimal), "\(value) in \(range)")
            }
        }
        #expect(PlausibleRange(low: 20, high: 300)!.description == "[20, 300]")
    }

    @Test("DecimalNumber reads lexemes exactly as before: 30,000 seeded lexemes against the reference")
    func lexemes() {
        var random = SeededGenerator(seed: 6901)
        let alphabet: [Character] = ["0", "1", "5", "9", "0", ".", "-", "e", "E", "+", "0", "7", "x", " ", "é"]
        for index in 0..<30_000 {
            var lexeme: String
            if index % 2 == 0 {
                lexeme = String((0..<(1 + Int(random.next() % 8))).map { _ in alphabet[Int(random.next() % UInt64(alphabet.count))] })
            } else {
                // A number with an exponent that moves the point anywhere from far left to far right.
                let exponent = Int(random.next() % 40) - 20
                lexeme = Self.randomNumber(&random).text + (random.next() % 2 == 0 ? "e" : "E") + String(exponent)
            }
            #expect(DecimalNumber(lexeme)?.text == ReferenceDecimalText.plainText(lexeme), "\(lexeme)")
            if DecimalNumber(lexeme)?.text != ReferenceDecimalText.plainText(lexeme) { return }
        }
        #expect(DecimalNumber(mantissa: -5, exponent: -3).text == "-0.005")
        #expect(DecimalNumber(mantissa: 0, exponent: -2).text == "0.00")
        #expect(DecimalNumber(mantissa: 0, exponent: 2).text == "0")
        #expect(DecimalNumber(mantissa: -20, exponent: -1).text == "-2.0")
        #expect(DecimalNumber(mantissa: 12, exponent: 3).text == "12000")
    }

    @Test("what is exactly representable passes Foundation's range check too")
    func representable() {
        var random = SeededGenerator(seed: 100)
        for _ in 0..<10_000 {
            let value = Self.randomNumber(&random, maxDigits: 36)
            guard value.isExactlyRepresentable else { continue }
            let decimal = Decimal(string: value.text, locale: Locale(identifier: "en_US_POSIX"))
            #expect(decimal == value.decimal && decimal.map { !$0.isNaN && abs($0) < Decimal(sign: .plus, exponent: 100, significand: 1) } == true)
        }
    }
}

/// `DecimalNumber(lexeme)` as it was written before the byte-level parser (String operations),
/// kept as the reference the new parser must equal.
enum ReferenceDecimalText {
    static func plainText(_ lexeme: String) -> String? {
        guard let parts = split(lexeme) else { return nil }
        var digits = parts.digits
        var text: String
        if parts.exponent >= 0 {
            text = trimLeadingZeros(digits + String(repeating: "0", count: parts.exponent))
        } else {
            let fraction = -parts.exponent
            if digits.count <= fraction {
                digits = String(repeating: "0", count: fraction - digits.count + 1) + digits
            }
            let split = digits.index(digits.endIndex, offsetBy: -fraction)
            text = trimLeadingZeros(String(digits[..<split])) + "." + digits[split...]
        }
        let isZero = !text.contains { $0 != "0" && $0 != "." }
        return (parts.negative && !isZero ? "-" : "") + text
    }

    private static func trimLeadingZeros(_ s: String) -> String {
        let trimmed = s.drop { $0 == "0" }
        return trimmed.isEmpty ? "0" : String(trimmed)
    }

    private static func split(_ lexeme: String) -> (negative: Bool, digits: String, exponent: Int)? {
        var rest = Substring(lexeme)
        let negative = rest.first == "-"
        if negative { rest = rest.dropFirst() }
        var mantissa = rest
        var exponent = 0
        if let e = rest.firstIndex(where: { $0 == "e" || $0 == "E" }) {
            mantissa = rest[..<e]
            guard let exp = Int(rest[rest.index(after: e)...]), abs(exp) < 400 else { return nil }
            exponent = exp
        }
        let pieces = mantissa.split(separator: ".", omittingEmptySubsequences: false)
        guard (1...2).contains(pieces.count), !pieces[0].isEmpty,
            pieces.allSatisfy({ $0.allSatisfy(\.isASCII) && $0.allSatisfy(\.isNumber) })
        else { return nil }
        let fraction = pieces.count == 2 ? pieces[1] : ""
        if pieces.count == 2 && fraction.isEmpty { return nil }
        return (negative, String(pieces[0] + fraction), exponent - fraction.count)
    }
}
