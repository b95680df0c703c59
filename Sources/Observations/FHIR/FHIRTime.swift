import CivilTime
import Foundation

/// FHIR dateTime and instant text, with the offset the time was reported in.
public enum FHIRTime {
    /// `2007-12-06T12:10:00+01:00`, with milliseconds only when the time has them.
    public static func dateTime(_ date: Date, utcOffsetSeconds: Int) -> String {
        let (text, millis) = civil(date, offsetSeconds: utcOffsetSeconds)
        return text + (millis > 0 ? "." + pad(millis, 3) : "") + offsetText(utcOffsetSeconds)
    }

    /// A FHIR instant in UTC with milliseconds: the gateway's receive time.
    public static func instant(_ date: Date) -> String {
        let (text, millis) = civil(date, offsetSeconds: 0)
        return text + "." + pad(millis, 3) + "Z"
    }

    /// Calendar fields at whole milliseconds. Rounding to integer milliseconds first keeps
    /// .123 from printing as .122 when the binary fraction falls just below it.
    private static func civil(_ date: Date, offsetSeconds: Int) -> (String, Int) {
        let totalMillis = Int64((date.timeIntervalSince1970 * 1000).rounded())
        let seconds = totalMillis >= 0 ? totalMillis / 1000 : (totalMillis - 999) / 1000
        let millis = Int(totalMillis - seconds * 1000)
        let c = CivilTime(secondsSinceEpoch: Int(seconds) + offsetSeconds)
        let text = pad(c.year, 4) + "-" + pad(c.month, 2) + "-" + pad(c.day, 2) + "T"
            + pad(c.hour, 2) + ":" + pad(c.minute, 2) + ":" + pad(c.second, 2)
        return (text, millis)
    }

    public static func offsetText(_ seconds: Int) -> String {
        if seconds == 0 { return "Z" }
        let sign = seconds < 0 ? "-" : "+"
        let magnitude = abs(seconds)
        return sign + pad(magnitude / 3600, 2) + ":" + pad((magnitude % 3600) / 60, 2)
    }

    /// Zero-padded decimal of a non-negative number.
    static func pad(_ value: Int, _ width: Int) -> String {
        let digits = String(value)
        return digits.count >= width ? digits : String(repeating: "0", count: width - digits.count) + digits
    }

    /// Parses RFC 3339 (`2026-11-21T10:00:00Z`, `...+01:00`, fractional seconds optional).
    /// Returns the instant and the offset it was written in.
    public static func parseRFC3339(_ text: String) -> (date: Date, utcOffsetSeconds: Int)? {
        guard let fields = RFC3339Fields(text) else { return nil }
        return fields.civilInstant() ?? fields.calendarInstant()
    }

    /// The fields of an RFC 3339 date-time, checked for syntax and ranges (not yet for the day of the month).
    struct RFC3339Fields {
        let year, month, day, hour, minute, second: Int
        /// The fractional-second digits as written (at most 9).
        let fraction: Int
        let fractionDigits: Int
        let utcOffsetSeconds: Int

        init?(_ text: String) {
            var copy = text
            guard let fields = copy.withUTF8({ RFC3339Fields(bytes: $0) }) else { return nil }
            self = fields
        }

        private init?(bytes: UnsafeBufferPointer<UInt8>) {
            guard bytes.count >= 20 else { return nil }
            func number(_ range: Range<Int>) -> Int? {
                guard range.upperBound <= bytes.count else { return nil }
                var value = 0
                for b in bytes[range] {
                    guard b >= 48 && b <= 57 else { return nil }
                    value = value * 10 + Int(b - 48)
                }
                return value
            }
            guard let year = number(0..<4), bytes[4] == UInt8(ascii: "-"), let month = number(5..<7),
                bytes[7] == UInt8(ascii: "-"), let day = number(8..<10),
                bytes[10] == UInt8(ascii: "T") || bytes[10] == UInt8(ascii: "t"),
                let hour = number(11..<13), bytes[13] == UInt8(ascii: ":"), let minute = number(14..<16),
                bytes[16] == UInt8(ascii: ":"), let second = number(17..<19),
                (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second < 61
            else { return nil }
            var index = 19
            var fraction = 0
            var fractionDigits = 0
            if bytes[index] == UInt8(ascii: ".") {
                index += 1
                let start = index
                while index < bytes.count, bytes[index] >= 48, bytes[index] <= 57 { index += 1 }
                fractionDigits = index - start
                guard fractionDigits > 0, fractionDigits <= 9, let value = number(start..<index) else { return nil }
                fraction = value
            }
            guard index < bytes.count else { return nil }
            var offset = 0
            switch bytes[index] {
            case UInt8(ascii: "Z"), UInt8(ascii: "z"):
                guard index + 1 == bytes.count else { return nil }
            case UInt8(ascii: "+"), UInt8(ascii: "-"):
                guard index + 6 == bytes.count, let oh = number(index + 1..<index + 3), bytes[index + 3] == UInt8(ascii: ":"),
                    let om = number(index + 4..<index + 6), oh < 24, om < 60
                else { return nil }
                offset = (oh * 3600 + om * 60) * (bytes[index] == UInt8(ascii: "-") ? -1 : 1)
                // No zone is further than 14:00 from UTC, and FHIR's dateTime allows no more.
                // (Before, an offset beyond ±18:00 trapped in `TimeZone(secondsFromGMT:)!`.)
                guard abs(offset) <= 14 * 3600 else { return nil }
            default:
                return nil
            }
            (self.year, self.month, self.day, self.hour, self.minute) = (year, month, day, hour, minute)
            // A leap second reads as the second before it.
            self.second = min(second, 59)
            (self.fraction, self.fractionDigits, self.utcOffsetSeconds) = (fraction, fractionDigits, offset)
        }

        /// Integer arithmetic for Gregorian dates (from 1583) with whole milliseconds: the
        /// instant Foundation's calendar gives, to the millisecond every consumer rounds to.
        func civilInstant() -> (date: Date, utcOffsetSeconds: Int)? {
            guard year >= 1583, fractionDigits <= 3 else { return nil }
            let local = CivilTime(year: year, month: month, day: day, hour: hour, minute: minute, second: second)
            let seconds = local.secondsSinceEpoch
            // 2025-02-30 would be 2025-03-02: not a date.
            guard CivilTime(secondsSinceEpoch: seconds).day == day else { return nil }
            var millis = fraction
            for _ in fractionDigits..<3 { millis *= 10 }
            let epochMillis = Int64(seconds - utcOffsetSeconds) * 1000 + Int64(millis)
            return (Date(timeIntervalSince1970: Double(epochMillis) / 1000), utcOffsetSeconds)
        }

        /// Foundation's calendar (Julian before 1582-10-15), for what `civilInstant` leaves.
        func calendarInstant() -> (date: Date, utcOffsetSeconds: Int)? {
            guard let zone = TimeZone(secondsFromGMT: utcOffsetSeconds) else { return nil }
            var calendar = Calendar(identifier: .gregorian)
            calendar.timeZone = zone
            var nanos = fraction
            for _ in fractionDigits..<9 { nanos *= 10 }
            let components = DateComponents(year: year, month: month, day: day, hour: hour, minute: minute, second: second, nanosecond: nanos)
            guard let date = calendar.date(from: components), calendar.component(.day, from: date) == day else { return nil }
            return (date, utcOffsetSeconds)
        }
    }
}
