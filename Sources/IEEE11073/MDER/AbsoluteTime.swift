import Foundation
import CivilTime
import Observations

/// 11073-20601 AbsoluteTime: eight BCD bytes (century, year, month, day, hour, minute, second,
/// hundredths). It carries no UTC offset: the gateway decides which offset to assume.
public struct AbsoluteTime: Sendable, Hashable, CustomStringConvertible {
    public let century: Int
    public let year: Int
    public let month: Int
    public let day: Int
    public let hour: Int
    public let minute: Int
    public let second: Int
    public let hundredths: Int

    public var fullYear: Int { century * 100 + year }

    /// Validates ranges and the calendar (30 February is refused).
    public init(
        year fullYear: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int, hundredths: Int = 0
    ) throws(AbsoluteTimeError) {
        guard (0...9999).contains(fullYear) else { throw .outOfRange("year \(fullYear)") }
        guard (1...12).contains(month) else { throw .outOfRange("month \(month) is not 1-12") }
        let monthDays = Self.daysInMonth(year: fullYear, month: month)
        guard (1...monthDays).contains(day) else { throw .outOfRange("day \(day) is not 1-\(monthDays) for \(fullYear)-\(month)") }
        guard (0...23).contains(hour) else { throw .outOfRange("hour \(hour) is not 0-23") }
        guard (0...59).contains(minute) else { throw .outOfRange("minute \(minute) is not 0-59") }
        guard (0...59).contains(second) else { throw .outOfRange("second \(second) is not 0-59") }
        guard (0...99).contains(hundredths) else { throw .outOfRange("hundredths \(hundredths) is not 0-99") }
        self.century = fullYear / 100
        self.year = fullYear % 100
        self.month = month
        self.day = day
        self.hour = hour
        self.minute = minute
        self.second = second
        self.hundredths = hundredths
    }

    /// Decodes the 8 BCD bytes; every nibble must be a decimal digit.
    public init(bcd bytes: [UInt8]) throws(AbsoluteTimeError) {
        guard bytes.count == 8 else { throw .wrongSize(bytes.count) }
        var digits: [Int] = []
        for (index, byte) in bytes.enumerated() {
            let high = Int(byte >> 4), low = Int(byte & 0x0F)
            guard high <= 9, low <= 9 else { throw .notBCD(index: index, byte: byte) }
            digits.append(high * 10 + low)
        }
        try self.init(
            year: digits[0] * 100 + digits[1], month: digits[2], day: digits[3],
            hour: digits[4], minute: digits[5], second: digits[6], hundredths: digits[7])
    }

    public var bcd: [UInt8] {
        [century, year, month, day, hour, minute, second, hundredths].map { UInt8(($0 / 10) << 4 | ($0 % 10)) }
    }

    /// `2007-12-06T12:10:00.00`: wall-clock time as the device wrote it, no offset.
    public var description: String {
        func two(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }
        let yearText = String(fullYear)
        let paddedYear = String(repeating: "0", count: max(0, 4 - yearText.count)) + yearText
        return "\(paddedYear)-\(two(month))-\(two(day))T\(two(hour)):\(two(minute)):\(two(second)).\(two(hundredths))"
    }

    /// Seconds since 1970-01-01T00:00:00 if this wall-clock time were UTC (proleptic Gregorian).
    var wallClockSecondsSinceEpoch: Int {
        CivilTime(year: fullYear, month: month, day: day, hour: hour, minute: minute, second: second).secondsSinceEpoch
    }

    /// The instant, reading the wall-clock time in the gateway's assumed offset.
    /// The result is marked `offsetAssumed`: the device never said which offset it meant.
    public func deviceTime(assuming rule: UTCOffsetRule) -> DeviceTime {
        let local = wallClockSecondsSinceEpoch
        let offset = rule.offsetSeconds(forWallClockSecondsSinceEpoch: local)
        let instant = Date(timeIntervalSince1970: Double(local - offset) + Double(hundredths) / 100)
        return DeviceTime(instant: instant, utcOffsetSeconds: offset, offsetAssumed: true)
    }

    /// The wall-clock time of `date` in the given offset (what an agent writes).
    public init(date: Date, utcOffsetSeconds: Int) throws(AbsoluteTimeError) {
        // Nearest hundredth: 0.37 s is stored as 0.36999..., which must not become 36.
        let totalHundredths = Int(((date.timeIntervalSince1970 + Double(utcOffsetSeconds)) * 100).rounded())
        var seconds = totalHundredths / 100
        var hundredths = totalHundredths % 100
        if hundredths < 0 { hundredths += 100; seconds -= 1 }
        let c = CivilTime(secondsSinceEpoch: seconds)
        try self.init(
            year: c.year, month: c.month, day: c.day, hour: c.hour, minute: c.minute, second: c.second, hundredths: hundredths)
    }

    static func daysInMonth(year: Int, month: Int) -> Int {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }
}

public enum AbsoluteTimeError: Error, Sendable, Hashable, CustomStringConvertible {
    case wrongSize(Int)
    case notBCD(index: Int, byte: UInt8)
    case outOfRange(String)

    public var description: String {
        switch self {
        case .wrongSize(let count): "AbsoluteTime is 8 bytes, got \(count)"
        case .notBCD(let index, let byte):
            "AbsoluteTime byte \(index) is 0x\(String(byte, radix: 16, uppercase: true)), not two BCD digits"
        case .outOfRange(let what): "AbsoluteTime \(what)"
        }
    }
}

/// Which UTC offset to assume for device wall-clock times (AbsoluteTime has none).
/// An input to every session, never a global.
public enum UTCOffsetRule: Sendable, Hashable {
    /// A fixed offset in seconds east of UTC.
    case fixed(seconds: Int)
    /// The offset a time zone had at that wall-clock time (daylight saving aware).
    case timeZone(TimeZone)

    public static let utc = UTCOffsetRule.fixed(seconds: 0)

    func offsetSeconds(forWallClockSecondsSinceEpoch local: Int) -> Int {
        switch self {
        case .fixed(let seconds):
            return seconds
        case .timeZone(let zone):
            // Guess with the offset at the wall-clock instant, then correct once near a transition.
            let guess = zone.secondsFromGMT(for: Date(timeIntervalSince1970: Double(local)))
            return zone.secondsFromGMT(for: Date(timeIntervalSince1970: Double(local - guess)))
        }
    }
}
