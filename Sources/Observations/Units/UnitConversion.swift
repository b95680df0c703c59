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

    public static let all: [UnitConversion] = [
        UnitConversion(from: "[degF]", to: "Cel", factor: Decimal(5) / Decimal(9), offsetBefore: -32, scaleShift: 1),
        UnitConversion(from: "kPa", to: "mm[Hg]", factor: Decimal(string: "7.50061683")!, offsetBefore: 0, scaleShift: -1),
        UnitConversion(from: "[lb_av]", to: "kg", factor: Decimal(string: "0.45359237")!, offsetBefore: 0, scaleShift: 1),
        UnitConversion(from: "mmol/L", to: "mg/dL", factor: Decimal(string: "18.016")!, offsetBefore: 0, scaleShift: -1),
        UnitConversion(from: "[in_i]", to: "cm", factor: Decimal(string: "2.54")!, offsetBefore: 0, scaleShift: 1),
    ]

    /// The conversion from `unit` to `canonical`; nil when there is none. Identity when equal.
    public static func find(from unit: String, to canonical: String) -> UnitConversion? {
        if unit == canonical {
            return UnitConversion(from: unit, to: canonical, factor: 1, offsetBefore: 0, scaleShift: 0)
        }
        return all.first { $0.from == unit && $0.to == canonical }
    }

    public var isIdentity: Bool { from == to }

    public func convert(_ value: DecimalNumber) -> DecimalNumber {
        guard !isIdentity else { return value }
        let converted = (value.decimal + offsetBefore) * factor
        return DecimalNumber(converted, scale: max(0, value.scale + scaleShift))
    }

    /// Converts a bound expressed in the published unit, for range checks, without rounding.
    public func convertExactly(_ value: Decimal) -> Decimal {
        isIdentity ? value : (value + offsetBefore) * factor
    }
}
