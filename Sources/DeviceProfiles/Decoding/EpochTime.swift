import Foundation
import Observations

/// Epoch timestamps (`epoch-s`, `epoch-ms`) read from the number as written.
enum EpochTime {
    /// 2000-01-01 and 2100-01-01: the window a device clock must be in.
    static let earliest: Double = 946_684_800
    static let latest: Double = 4_102_444_800

    /// Seconds since the epoch. Whole milliseconds (the form devices send) are read with integer
    /// arithmetic: the instant is then the double nearest `ms / 1000`, which rounds back to
    /// exactly `ms` wherever the gateway rounds a time to milliseconds (reading id, FHIR text,
    /// the journal), as the `Decimal` quotient did. Finer fractions keep the `Decimal` path, so
    /// their rounding stays what it was.
    static func seconds(_ number: DecimalNumber, inMilliseconds: Bool) -> Double {
        if let millis = wholeMilliseconds(number.text, inMilliseconds: inMilliseconds) {
            return Double(millis) / 1000
        }
        let divisor: Decimal = inMilliseconds ? 1000 : 1
        return NSDecimalNumber(decimal: number.decimal / divisor).doubleValue
    }

    /// The number in whole milliseconds, when it is one and has at most 15 digits.
    static func wholeMilliseconds(_ text: String, inMilliseconds: Bool) -> Int64? {
        var copy = text
        return copy.withUTF8 { bytes -> Int64? in
            var index = 0
            let negative = bytes.first == UInt8(ascii: "-")
            if negative { index += 1 }
            var value: Int64 = 0
            var digits = 0
            var fractionDigits: Int?
            while index < bytes.count {
                let byte = bytes[index]
                index += 1
                if byte == UInt8(ascii: ".") {
                    fractionDigits = 0
                    continue
                }
                guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
                if let fraction = fractionDigits {
                    fractionDigits = fraction + 1
                }
                value = value * 10 + Int64(byte - UInt8(ascii: "0"))
                digits += 1
                guard digits <= 15 else { return nil }
            }
            let allowedFraction = inMilliseconds ? 0 : 3
            var scaleUp = allowedFraction - (fractionDigits ?? 0)
            guard scaleUp >= 0 || Self.onlyZeros(bytes, last: -scaleUp) else { return nil }
            while scaleUp < 0 {
                value /= 10
                scaleUp += 1
            }
            for _ in 0..<scaleUp { value *= 10 }
            return negative ? -value : value
        }
    }

    /// Whether the last `count` bytes are all '0' (a fraction such as "123.000").
    private static func onlyZeros(_ bytes: UnsafeBufferPointer<UInt8>, last count: Int) -> Bool {
        bytes.suffix(count).allSatisfy { $0 == UInt8(ascii: "0") }
    }
}
