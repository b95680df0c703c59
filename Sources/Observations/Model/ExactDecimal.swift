import Foundation

/// A decimal held exactly as `significand × 10^-scale`, for the arithmetic normalization does on
/// every reading (unit conversion, profile scale factors, SenML base values, range checks)
/// without Foundation's `Decimal`, which parses text and allocates on each operation.
///
/// Results equal `Decimal`'s: every operation here refuses (returns nil) unless its exact result
/// fits comfortably in 38 decimal digits, where `Decimal` is exact too. Callers then fall back
/// to `Decimal`, so out-of-range inputs behave exactly as before. The property tests in
/// `ExactDecimalTests` check both against Foundation as the oracle.
struct ExactDecimal: Sendable, Hashable {
    /// Below 10^36: two such numbers multiplied by a 9-digit factor still fit in `Int128`.
    static let significandLimit: Int128 = 1_000_000_000_000_000_000_000_000_000_000_000_000
    static let maximumScale = 60

    let significand: Int128
    /// Digits after the point.
    let scale: Int

    init?(significand: Int128, scale: Int) {
        guard significand.magnitude < Self.significandLimit.magnitude, (0...Self.maximumScale).contains(scale) else { return nil }
        self.significand = significand
        self.scale = scale
    }

    /// Plain decimal text as `DecimalNumber` keeps it: `-?digits(.digits)?`.
    init?(plainText text: String) {
        var copy = text
        guard let parsed = copy.withUTF8({ Self.parse($0) }) else { return nil }
        self = parsed
    }

    private static func parse(_ bytes: UnsafeBufferPointer<UInt8>) -> ExactDecimal? {
        var index = 0
        let negative = bytes.first == UInt8(ascii: "-")
        if negative { index += 1 }
        var significand: Int128 = 0
        var scale = 0
        var seenPoint = false
        var digits = 0
        guard index < bytes.count else { return nil }
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: ".") {
                guard !seenPoint, digits > 0 else { return nil }
                seenPoint = true
            } else {
                guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
                significand = significand * 10 + Int128(byte - UInt8(ascii: "0"))
                guard significand < significandLimit else { return nil }
                digits += 1
                if seenPoint { scale += 1 }
            }
            index += 1
        }
        guard digits > 0, bytes.last != UInt8(ascii: ".") else { return nil }
        return ExactDecimal(significand: negative ? -significand : significand, scale: scale)
    }

    static func powerOfTen(_ exponent: Int) -> Int128? {
        guard exponent >= 0, exponent <= 38 else { return nil }
        var value: Int128 = 1
        for _ in 0..<exponent { value *= 10 }
        return value
    }

    /// The significand at a larger scale (same value).
    func significand(atScale target: Int) -> Int128? {
        guard target >= scale, let factor = Self.powerOfTen(target - scale) else { return nil }
        let (product, overflow) = significand.multipliedReportingOverflow(by: factor)
        return overflow ? nil : product
    }

    /// The exact sum.
    func adding(_ other: ExactDecimal) -> ExactDecimal? {
        let target = max(scale, other.scale)
        guard let a = significand(atScale: target), let b = other.significand(atScale: target) else { return nil }
        return ExactDecimal(significand: a + b, scale: target)
    }

    /// The exact product.
    func multiplied(by other: ExactDecimal) -> ExactDecimal? {
        let (product, overflow) = significand.multipliedReportingOverflow(by: other.significand)
        guard !overflow else { return nil }
        return ExactDecimal(significand: product, scale: scale + other.scale)
    }

    /// `self × numerator / denominator`, rounded half to even at `resultScale` digits.
    func multiplied(byRatio numerator: Int128, over denominator: Int128, roundedToScale resultScale: Int) -> ExactDecimal? {
        guard denominator > 0, resultScale >= 0 else { return nil }
        // value × n / d at scale s is the integer nearest significand × n × 10^(s − scale) / d.
        var dividend: Int128
        var divisor = denominator
        let (scaled, overflow) = significand.multipliedReportingOverflow(by: numerator)
        guard !overflow else { return nil }
        if resultScale >= scale {
            guard let factor = Self.powerOfTen(resultScale - scale) else { return nil }
            let (product, overflow) = scaled.multipliedReportingOverflow(by: factor)
            guard !overflow else { return nil }
            dividend = product
        } else {
            guard let factor = Self.powerOfTen(scale - resultScale) else { return nil }
            let (product, overflow) = divisor.multipliedReportingOverflow(by: factor)
            guard !overflow else { return nil }
            dividend = scaled
            divisor = product
        }
        return ExactDecimal(significand: Self.divideRoundingHalfEven(dividend, divisor), scale: resultScale)
    }

    /// Rounds half to even at `target` digits after the point (unchanged when already there).
    func rounded(toScale target: Int) -> ExactDecimal? {
        guard target < scale else { return significand(atScale: target).flatMap { ExactDecimal(significand: $0, scale: target) } }
        return multiplied(byRatio: 1, over: 1, roundedToScale: target)
    }

    static func divideRoundingHalfEven(_ dividend: Int128, _ divisor: Int128) -> Int128 {
        var quotient = dividend / divisor
        let remainder = dividend % divisor
        let twice = remainder.magnitude * 2
        if twice > divisor.magnitude || (twice == divisor.magnitude && quotient % 2 != 0) {
            quotient += dividend < 0 ? -1 : 1
        }
        return quotient
    }

    static func < (lhs: ExactDecimal, rhs: ExactDecimal) -> Bool? {
        let target = max(lhs.scale, rhs.scale)
        guard let a = lhs.significand(atScale: target), let b = rhs.significand(atScale: target) else { return nil }
        return a < b
    }

    /// Plain text with exactly `scale` digits after the point, as `DecimalNumber` writes it
    /// (no sign on zero, one digit before the point at least).
    var text: String {
        let digits = String(significand.magnitude)
        var body: String
        if scale == 0 {
            body = digits
        } else {
            let padded = digits.count <= scale ? String(repeating: "0", count: scale - digits.count + 1) + digits : digits
            let split = padded.index(padded.endIndex, offsetBy: -scale)
            body = padded[..<split] + "." + padded[split...]
        }
        return (significand < 0 ? "-" : "") + body
    }

    /// The same value as Foundation's `Decimal` (for the fallback paths and tests).
    var decimal: Decimal {
        Decimal(string: text, locale: Locale(identifier: "en_US_POSIX")) ?? .nan
    }
}
