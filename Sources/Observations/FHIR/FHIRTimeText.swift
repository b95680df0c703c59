import CivilTime
import Foundation

/// `FHIRTime`'s text written as UTF-8 bytes, for the renderer: the same digits, no Strings.
enum FHIRTimeText {
    /// `FHIRTime.dateTime`: milliseconds only when there are some, then the offset.
    static func appendDateTime(_ date: Date, utcOffsetSeconds: Int, to out: inout [UInt8]) {
        let millis = appendCivil(date, offsetSeconds: utcOffsetSeconds, to: &out)
        if millis > 0 {
            out.append(UInt8(ascii: "."))
            appendPadded(millis, width: 3, to: &out)
        }
        appendOffset(utcOffsetSeconds, to: &out)
    }

    /// `FHIRTime.instant`: UTC with milliseconds.
    static func appendInstant(_ date: Date, to out: inout [UInt8]) {
        let millis = appendCivil(date, offsetSeconds: 0, to: &out)
        out.append(UInt8(ascii: "."))
        appendPadded(millis, width: 3, to: &out)
        out.append(UInt8(ascii: "Z"))
    }

    /// `yyyy-mm-ddThh:mm:ss` at whole milliseconds (rounded first, as `FHIRTime` does); returns the milliseconds.
    private static func appendCivil(_ date: Date, offsetSeconds: Int, to out: inout [UInt8]) -> Int {
        let totalMillis = Int64((date.timeIntervalSince1970 * 1000).rounded())
        let seconds = totalMillis >= 0 ? totalMillis / 1000 : (totalMillis - 999) / 1000
        let millis = Int(totalMillis - seconds * 1000)
        let c = CivilTime(secondsSinceEpoch: Int(seconds) + offsetSeconds)
        appendPadded(c.year, width: 4, to: &out)
        out.append(UInt8(ascii: "-"))
        appendPadded(c.month, width: 2, to: &out)
        out.append(UInt8(ascii: "-"))
        appendPadded(c.day, width: 2, to: &out)
        out.append(UInt8(ascii: "T"))
        appendPadded(c.hour, width: 2, to: &out)
        out.append(UInt8(ascii: ":"))
        appendPadded(c.minute, width: 2, to: &out)
        out.append(UInt8(ascii: ":"))
        appendPadded(c.second, width: 2, to: &out)
        return millis
    }

    static func appendOffset(_ seconds: Int, to out: inout [UInt8]) {
        if seconds == 0 {
            out.append(UInt8(ascii: "Z"))
            return
        }
        out.append(seconds < 0 ? UInt8(ascii: "-") : UInt8(ascii: "+"))
        let magnitude = abs(seconds)
        appendPadded(magnitude / 3600, width: 2, to: &out)
        out.append(UInt8(ascii: ":"))
        appendPadded((magnitude % 3600) / 60, width: 2, to: &out)
    }

    /// Zero-padded decimal of a non-negative number (as `FHIRTime.pad`; wider numbers are not cut).
    static func appendPadded(_ value: Int, width: Int, to out: inout [UInt8]) {
        guard value >= 0 else {
            out += FHIRTime.pad(value, width).utf8
            return
        }
        var digits = 1
        var rest = value / 10
        while rest > 0 {
            digits += 1
            rest /= 10
        }
        if digits < width { out.append(contentsOf: repeatElement(UInt8(ascii: "0"), count: width - digits)) }
        appendDigits(UInt64(value), to: &out)
    }

    static func appendDigits(_ value: UInt64, to out: inout [UInt8]) {
        if value >= 10 { appendDigits(value / 10, to: &out) }
        out.append(UInt8(ascii: "0") + UInt8(value % 10))
    }
}
