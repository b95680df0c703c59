import Foundation

/// Exact conversions from units devices publish to the canonical UCUM unit of each metric.
///
/// Factors are the defined ones (1 lb = 0.45359237 kg exactly; 1 kPa = 7.50061683 mm[Hg];
/// glucose 1 mmol/L = 18.016 mg/dL from its molar mass). `scaleShift` sets how many fractional
/// digits the result keeps relative to the input, so a converted value claims no more precision
/// than the device measured.
public struct UnitConversion: Sendable {
    public let from: String
    public let to: String
    let factor: Decimal
    let offsetBefore: Decimal
    let scaleShift: Int
    /// The factor as an exact ratio and the offset as an integer, for `ExactDecimal`.
    let ratio: (numerator: Int128, denominator: Int128)
    let integerOffset: Int128

    public static let all: [UnitConversion] = [
        UnitConversion(from: "[degF]", to: "Cel", factor: Decimal(5) / Decimal(9), ratio: (5, 9), offset: -32, scaleShift: 1),
        UnitConversion(from: "kPa", to: "mm[Hg]", decimalFactor: "7.50061683", scaleShift: -1),
        UnitConversion(from: "[lb_av]", to: "kg", decimalFactor: "0.45359237", scaleShift: 1),
        UnitConversion(from: "mmol/L", to: "mg/dL", decimalFactor: "18.016", scaleShift: -1),
        UnitConversion(from: "[in_i]", to: "cm", decimalFactor: "2.54", scaleShift: 1),
    ]

    private init(from: String, to: String, factor: Decimal, ratio: (Int128, Int128), offset: Int128, scaleShift: Int) {
        self.from = from
        self.to = to
        self.factor = factor
        self.ratio = ratio
        self.offsetBefore = Decimal(string: String(offset))!
        self.integerOffset = offset
        self.scaleShift = scaleShift
    }

    private init(from: String, to: String, decimalFactor: String, scaleShift: Int) {
        let exact = ExactDecimal(plainText: decimalFactor)!
        self.init(
            from: from, to: to, factor: Decimal(string: decimalFactor)!,
            ratio: (exact.significand, ExactDecimal.powerOfTen(exact.scale)!), offset: 0, scaleShift: scaleShift)
    }

    /// The conversion from `unit` to `canonical`; nil when there is none. Identity when equal.
    public static func find(from unit: String, to canonical: String) -> UnitConversion? {
        if unit == canonical {
            return UnitConversion(from: unit, to: canonical, factor: 1, ratio: (1, 1), offset: 0, scaleShift: 0)
        }
        return all.first { $0.from == unit && $0.to == canonical }
    }

    public var isIdentity: Bool { from == to }

    public func convert(_ value: DecimalNumber) -> DecimalNumber {
        guard !isIdentity else { return value }
        let scale = max(0, value.scale + scaleShift)
        if let exact = convertExactly(value, scale: scale) { return DecimalNumber(exact: exact) }
        return convertWithDecimal(value, scale: scale)
    }

    /// Integer arithmetic, for values of at most 27 significant digits: there the products fit
    /// in `Int128` and `Decimal` (38 digits) is exact as well, so both round the same exact value
    /// half to even. For [degF] `Decimal` multiplies by 5/9 rounded to 38 digits; the exact
    /// value (x − 32)·5/9 is never a tie at the result's last digit plus one (100·N ≠ 18·m + 9
    /// for integers, one side even, the other odd) and lies at least 1/9 of that digit's unit away
    /// from one, far more than the 38-digit factor moves it, so the rounded results agree.
    func convertExactly(_ value: DecimalNumber, scale: Int) -> ExactDecimal? {
        guard let exact = value.exact, exact.significand.magnitude < 1_000_000_000_000_000_000_000_000_000 else { return nil }
        var shifted = exact
        if integerOffset != 0 {
            guard let offset = ExactDecimal(significand: integerOffset, scale: 0), let sum = exact.adding(offset) else { return nil }
            shifted = sum
        }
        return shifted.multiplied(byRatio: ratio.numerator, over: ratio.denominator, roundedToScale: scale)
    }

    /// Foundation `Decimal`: for numbers beyond `convertExactly`, and the tests' oracle.
    func convertWithDecimal(_ value: DecimalNumber, scale: Int) -> DecimalNumber {
        DecimalNumber((value.decimal + offsetBefore) * factor, scale: scale)
    }

    /// Converts a bound expressed in the published unit, for range checks, without rounding.
    public func convertExactly(_ value: Decimal) -> Decimal {
        isIdentity ? value : (value + offsetBefore) * factor
    }
}
