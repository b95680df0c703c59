import Observations

/// The special values 11073-20601 reserves in SFLOAT and FLOAT mantissas. None of them is a number.
public enum MDERSpecialValue: String, Sendable, Hashable, CaseIterable {
    case notANumber = "NaN"
    /// "Not at this resolution": the value exists but cannot be written in this format.
    case notAtThisResolution = "NRes"
    case positiveInfinity = "+INF"
    case negativeInfinity = "-INF"
    /// Reserved for future use by the standard; an agent must not send it.
    case reserved = "reserved"

    /// The FHIR data-absent-reason the normalizer writes instead of a value.
    /// NRes is "unrepresentable", which is FHIR's not-a-number; a reserved value is an error.
    public var dataAbsentReason: DataAbsentReason {
        switch self {
        case .notANumber, .notAtThisResolution: .notANumber
        case .positiveInfinity: .positiveInfinity
        case .negativeInfinity: .negativeInfinity
        case .reserved: .error
        }
    }
}

/// An SFLOAT or FLOAT value: mantissa × 10^exponent, or a special value.
///
/// The exponent is kept, so 0xF014 is "2.0" and not "2": the precision the device reported.
public enum MDERNumber: Sendable, Hashable, CustomStringConvertible {
    case finite(mantissa: Int32, exponent: Int8)
    case special(MDERSpecialValue)

    /// The exact decimal, or nil for a special value.
    public var decimal: DecimalNumber? {
        guard case .finite(let mantissa, let exponent) = self else { return nil }
        return DecimalNumber(mantissa: Int(mantissa), exponent: Int(exponent))
    }

    public var description: String {
        switch self {
        case .finite: decimal?.text ?? "?"
        case .special(let special): special.rawValue
        }
    }

    /// The Observations value: a quantity in `unit`, or data-absent for a special value.
    public func measuredValue(unit: String) -> MeasuredValue {
        switch self {
        case .finite:
            guard let decimal else { return .absent(.error) }
            return .quantity(Quantity(value: decimal, unit: unit))
        case .special(let special):
            return .absent(special.dataAbsentReason)
        }
    }

    /// Parses plain decimal text ("98", "-36.6", "0.25") into mantissa and exponent,
    /// keeping trailing zeros: "60.0" is mantissa 600, exponent -1.
    public init?(decimalText text: String) {
        var rest = Substring(text)
        let negative = rest.first == "-"
        if negative { rest = rest.dropFirst() }
        let parts = rest.split(separator: ".", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count), !parts[0].isEmpty,
            parts.allSatisfy({ $0.allSatisfy { $0.isASCII && $0.isNumber } })
        else { return nil }
        let fraction = parts.count == 2 ? parts[1] : ""
        if parts.count == 2 && fraction.isEmpty { return nil }
        guard fraction.count <= 127, var magnitude = Int32(parts[0] + fraction) else { return nil }
        if negative { magnitude = -magnitude }
        self = .finite(mantissa: magnitude, exponent: Int8(-fraction.count))
    }
}

/// SFLOAT-Type: 4-bit two's-complement exponent, 12-bit two's-complement mantissa.
public enum SFloat {
    static let specials: [Int32: MDERSpecialValue] = [
        0x07FF: .notANumber, -0x800: .notAtThisResolution, 0x07FE: .positiveInfinity,
        -0x7FE: .negativeInfinity, -0x7FF: .reserved,
    ]
    /// Finite mantissas stay inside ±2045; the five values beyond are the specials.
    static let finiteRange: ClosedRange<Int32> = -2045...2045

    public static func decode(_ raw: UInt16) -> MDERNumber {
        var mantissa = Int32(raw & 0x0FFF)
        if mantissa >= 0x0800 { mantissa -= 0x1000 }
        var exponent = Int8(truncatingIfNeeded: raw >> 12)
        if exponent >= 8 { exponent -= 16 }
        // A special mantissa is special whatever the exponent: it is never a finite value.
        if let special = specials[mantissa] { return .special(special) }
        return .finite(mantissa: mantissa, exponent: exponent)
    }

    public static func encode(_ number: MDERNumber) throws(EncodeError) -> UInt16 {
        switch number {
        case .special(let special):
            guard let mantissa = specials.first(where: { $0.value == special })?.key else {
                throw EncodeError("no SFLOAT encoding for \(special)")
            }
            return UInt16(truncatingIfNeeded: mantissa) & 0x0FFF
        case .finite(var mantissa, var exponent):
            // Drop trailing zero digits only when the mantissa would not fit otherwise.
            while !finiteRange.contains(mantissa), mantissa % 10 == 0, exponent < 7 {
                mantissa /= 10
                exponent += 1
            }
            guard finiteRange.contains(mantissa), (-8...7).contains(exponent) else {
                throw EncodeError("\(number) does not fit SFLOAT (mantissa ±2045, exponent -8...7)")
            }
            return UInt16(truncatingIfNeeded: exponent) << 12 | (UInt16(truncatingIfNeeded: mantissa) & 0x0FFF)
        }
    }
}

/// FLOAT-Type: 8-bit two's-complement exponent, 24-bit two's-complement mantissa.
public enum MDERFloat {
    static let specials: [Int32: MDERSpecialValue] = [
        0x7FFFFF: .notANumber, -0x800000: .notAtThisResolution, 0x7FFFFE: .positiveInfinity,
        -0x7FFFFE: .negativeInfinity, -0x7FFFFF: .reserved,
    ]
    static let finiteRange: ClosedRange<Int32> = -0x7FFFFD...0x7FFFFD

    public static func decode(_ raw: UInt32) -> MDERNumber {
        var mantissa = Int32(raw & 0x00FF_FFFF)
        if mantissa >= 0x0080_0000 { mantissa -= 0x0100_0000 }
        let exponent = Int8(truncatingIfNeeded: raw >> 24)
        if let special = specials[mantissa] { return .special(special) }
        return .finite(mantissa: mantissa, exponent: exponent)
    }

    public static func encode(_ number: MDERNumber) throws(EncodeError) -> UInt32 {
        switch number {
        case .special(let special):
            guard let mantissa = specials.first(where: { $0.value == special })?.key else {
                throw EncodeError("no FLOAT encoding for \(special)")
            }
            return UInt32(bitPattern: mantissa) & 0x00FF_FFFF
        case .finite(var mantissa, var exponent):
            while !finiteRange.contains(mantissa), mantissa % 10 == 0, exponent < 127 {
                mantissa /= 10
                exponent += 1
            }
            guard finiteRange.contains(mantissa) else {
                throw EncodeError("\(number) does not fit FLOAT (mantissa ±8388605)")
            }
            return UInt32(UInt8(bitPattern: exponent)) << 24 | (UInt32(bitPattern: mantissa) & 0x00FF_FFFF)
        }
    }
}
