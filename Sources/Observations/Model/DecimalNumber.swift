import Foundation

/// A measured number exactly as written, so the precision a device reported survives to FHIR.
///
/// "2.0" and "2" are different readings to a clinician; a `Double` cannot tell them apart.
public struct DecimalNumber: Sendable, Hashable, CustomStringConvertible {
    /// Plain decimal notation: optional '-', digits, optional '.' and digits. No exponent.
    public let text: String

    /// Accepts any JSON number lexeme and rewrites exponents into plain notation,
    /// keeping the number of significant fractional digits.
    public init?(_ lexeme: String) {
        guard let parts = DecimalNumber.split(lexeme) else { return nil }
        self.init(negative: parts.negative, digits: parts.digits, exponent: parts.exponent)
    }

    /// mantissa × 10^exponent, as 11073 SFLOAT/FLOAT encode it: 20 × 10^-1 is "2.0".
    public init(mantissa: Int, exponent: Int) {
        let negative = mantissa < 0
        self.init(negative: negative, digits: String(mantissa.magnitude), exponent: exponent)
    }

    public init(_ value: Int) { self.init(mantissa: value, exponent: 0) }

    private init(negative: Bool, digits rawDigits: String, exponent: Int) {
        var digits = rawDigits
        var text: String
        if exponent >= 0 {
            text = digits + String(repeating: "0", count: exponent)
            text = DecimalNumber.trimLeadingZeros(text)
        } else {
            let fraction = -exponent
            if digits.count <= fraction {
                digits = String(repeating: "0", count: fraction - digits.count + 1) + digits
            }
            let split = digits.index(digits.endIndex, offsetBy: -fraction)
            text = DecimalNumber.trimLeadingZeros(String(digits[..<split])) + "." + digits[split...]
        }
        let isZero = !text.contains { $0 != "0" && $0 != "." }
        self.text = (negative && !isZero ? "-" : "") + text
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

    public var description: String { text }

    public var decimal: Decimal { Decimal(string: text, locale: Locale(identifier: "en_US_POSIX")) ?? 0 }

    public var doubleValue: Double { Double(text) ?? .nan }

    /// Digits after the decimal point.
    public var scale: Int {
        guard let dot = text.firstIndex(of: ".") else { return 0 }
        return text.distance(from: dot, to: text.endIndex) - 1
    }

    /// A computed value, rounded half-even to `scale` fractional digits and written with exactly that many.
    public init(_ value: Decimal, scale: Int) {
        var input = value
        var rounded = Decimal()
        NSDecimalRound(&rounded, &input, scale, .bankers)
        var text = NSDecimalNumber(decimal: rounded).stringValue
        if scale > 0 {
            if !text.contains(".") { text += "." }
            let have = text.distance(from: text.firstIndex(of: ".")!, to: text.endIndex) - 1
            if have < scale { text += String(repeating: "0", count: scale - have) }
        }
        self.init(text)!
    }
}
