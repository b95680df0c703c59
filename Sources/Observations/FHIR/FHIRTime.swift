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
        let bytes = Array(text.utf8)
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
        var nanos = 0
        if bytes[index] == UInt8(ascii: ".") {
            index += 1
            let start = index
            while index < bytes.count, bytes[index] >= 48, bytes[index] <= 57 { index += 1 }
            let digits = bytes[start..<index]
            guard !digits.isEmpty, digits.count <= 9 else { return nil }
            nanos = Int(String(decoding: digits, as: UTF8.self))! * Int(pow(10.0, Double(9 - digits.count)))
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
        default:
            return nil
        }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(secondsFromGMT: offset)!
        let components = DateComponents(year: year, month: month, day: day, hour: hour, minute: minute, second: min(second, 59), nanosecond: nanos)
        guard let date = calendar.date(from: components), calendar.component(.day, from: date) == day else { return nil }
        return (date, offset)
    }
}
