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
        var copy = lexeme
        guard let text = copy.withUTF8({ DecimalNumber.plainText(lexeme: $0) }) else { return nil }
        self.text = text
    }

    /// mantissa × 10^exponent, as 11073 SFLOAT/FLOAT encode it: 20 × 10^-1 is "2.0".
    public init(mantissa: Int, exponent: Int) {
        var digits: [UInt8] = []
        var magnitude = mantissa.magnitude
        repeat {
            digits.append(UInt8(ascii: "0") + UInt8(magnitude % 10))
            magnitude /= 10
        } while magnitude > 0
        digits.reverse()
        text = DecimalNumber.layOut(negative: mantissa < 0, digits: digits[...], exponent: exponent)
    }

    public init(_ value: Int) { self.init(mantissa: value, exponent: 0) }

    /// Plain text of an exact value (its `text` has exactly `scale` fractional digits).
    init(exact: ExactDecimal) {
        // ExactDecimal writes no sign on zero and keeps one digit before the point: already plain.
        text = exact.text
    }

    /// Parses `-?digits(.digits)?([eE][+-]?digits)?` (leading zeros allowed, |exponent| < 400).
    private static func plainText(lexeme bytes: UnsafeBufferPointer<UInt8>) -> String? {
        var index = 0
        let negative = bytes.first == UInt8(ascii: "-")
        if negative { index += 1 }
        let mantissaStart = index
        var mantissaEnd = bytes.count
        var exponent = 0
        if let e = bytes[index...].firstIndex(where: { $0 == UInt8(ascii: "e") || $0 == UInt8(ascii: "E") }) {
            mantissaEnd = e
            guard let value = exponentValue(bytes[(e + 1)...]), abs(value) < 400 else { return nil }
            exponent = value
        }
        var digits: [UInt8] = []
        digits.reserveCapacity(mantissaEnd - mantissaStart)
        var fractionDigits = 0
        var seenPoint = false
        var integerDigits = 0
        for byte in bytes[mantissaStart..<mantissaEnd] {
            if byte == UInt8(ascii: ".") {
                guard !seenPoint else { return nil }
                seenPoint = true
            } else {
                guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
                digits.append(byte)
                if seenPoint { fractionDigits += 1 } else { integerDigits += 1 }
            }
        }
        guard integerDigits > 0, !seenPoint || fractionDigits > 0 else { return nil }
        return layOut(negative: negative, digits: digits[...], exponent: exponent - fractionDigits)
    }

    /// Swift's `Int(String)` grammar: an optional sign, then at least one ASCII digit.
    private static func exponentValue(_ bytes: Slice<UnsafeBufferPointer<UInt8>>) -> Int? {
        var rest = bytes[...]
        var sign = 1
        if let first = rest.first, first == UInt8(ascii: "+") || first == UInt8(ascii: "-") {
            sign = first == UInt8(ascii: "-") ? -1 : 1
            rest = rest.dropFirst()
        }
        guard !rest.isEmpty else { return nil }
        var value = 0
        for byte in rest {
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
            // Far beyond the ±400 accepted; keeps the arithmetic from overflowing.
            if value < 1_000_000 { value = value * 10 + Int(byte - UInt8(ascii: "0")) }
        }
        return sign * value
    }

    /// digits × 10^exponent in plain notation: no leading zeros before the point, "-" only on a non-zero value.
    private static func layOut(negative: Bool, digits: ArraySlice<UInt8>, exponent: Int) -> String {
        let zero = UInt8(ascii: "0")
        var out: [UInt8] = []
        out.reserveCapacity(digits.count + abs(exponent) + 3)
        if negative { out.append(UInt8(ascii: "-")) }
        let bodyStart = out.count
        if exponent >= 0 {
            let significant = digits.drop { $0 == zero }
            if significant.isEmpty {
                out.append(zero)
            } else {
                out.append(contentsOf: significant)
                out.append(contentsOf: repeatElement(zero, count: exponent))
            }
        } else {
            let fraction = -exponent
            let integerCount = digits.count - fraction
            if integerCount > 0 {
                let integer = digits.prefix(integerCount).drop { $0 == zero }
                if integer.isEmpty { out.append(zero) } else { out.append(contentsOf: integer) }
                out.append(UInt8(ascii: "."))
                out.append(contentsOf: digits.suffix(fraction))
            } else {
                out.append(contentsOf: [zero, UInt8(ascii: ".")])
                out.append(contentsOf: repeatElement(zero, count: -integerCount))
                out.append(contentsOf: digits)
            }
        }
        if negative && !out[bodyStart...].contains(where: { $0 != zero && $0 != UInt8(ascii: ".") }) {
            out.removeFirst()
        }
        return String(decoding: out, as: UTF8.self)
    }

    public var description: String { text }

    public var decimal: Decimal { Decimal(string: text, locale: Locale(identifier: "en_US_POSIX")) ?? 0 }

    public var doubleValue: Double { Double(text) ?? .nan }

    /// The exact value, when it has at most 36 significant digits (nearly always).
    var exact: ExactDecimal? { ExactDecimal(plainText: text) }

    /// Digits after the decimal point.
    public var scale: Int {
        guard let dot = text.utf8.firstIndex(of: UInt8(ascii: ".")) else { return 0 }
        return text.utf8.distance(from: dot, to: text.utf8.endIndex) - 1
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

extension DecimalNumber {
    /// Whether `decimal` is this number exactly (at most 36 significant digits and a modest scale).
    public var isExactlyRepresentable: Bool { exact != nil }

    /// The exact sum, written with the finer precision of the two (36.5 + 1 is "37.5", not "38").
    public func adding(_ other: DecimalNumber) -> DecimalNumber {
        if let a = exact, let b = other.exact, let sum = a.adding(b) { return DecimalNumber(exact: sum) }
        return DecimalNumber(decimal + other.decimal, scale: Swift.max(scale, other.scale))
    }

    /// The exact product, written with the digits of both factors (368 × 0.1 is "36.8").
    public func multiplied(by other: DecimalNumber) -> DecimalNumber {
        if let a = exact, let b = other.exact, let product = a.multiplied(by: b) { return DecimalNumber(exact: product) }
        return DecimalNumber(decimal * other.decimal, scale: scale + other.scale)
    }
}
