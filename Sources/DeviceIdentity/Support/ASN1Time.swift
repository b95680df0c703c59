import Foundation
import SwiftASN1

/// Conversions between `Date` and the X.509 Time CHOICE (UTCTime until 2049, GeneralizedTime after,
/// as RFC 5280 §4.1.2.5 requires), done with integer civil-date arithmetic in UTC.
enum ASN1Time {
    struct Civil: Equatable {
        var year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int
    }

    static func civil(from date: Date) -> Civil {
        let seconds = Int(date.timeIntervalSince1970.rounded(.down))
        var days = seconds / 86_400
        var secondOfDay = seconds % 86_400
        if secondOfDay < 0 {
            secondOfDay += 86_400
            days -= 1
        }
        // Howard Hinnant's days_from_civil inverse.
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        let year = yoe + era * 400 + (month <= 2 ? 1 : 0)
        return Civil(year: year, month: month, day: day, hour: secondOfDay / 3600, minute: secondOfDay % 3600 / 60, second: secondOfDay % 60)
    }

    static func date(from c: Civil) -> Date {
        let y = c.month <= 2 ? c.year - 1 : c.year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = c.month > 2 ? c.month - 3 : c.month + 9
        let doy = (153 * mp + 2) / 5 + c.day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        let days = era * 146_097 + doe - 719_468
        return Date(timeIntervalSince1970: TimeInterval(days * 86_400 + c.hour * 3600 + c.minute * 60 + c.second))
    }

    static func serialize(_ date: Date, into coder: inout DER.Serializer) throws {
        let c = civil(from: date)
        if (1950...2049).contains(c.year) {
            try coder.serialize(UTCTime(year: c.year, month: c.month, day: c.day, hours: c.hour, minutes: c.minute, seconds: c.second))
        } else {
            try coder.serialize(
                GeneralizedTime(year: c.year, month: c.month, day: c.day, hours: c.hour, minutes: c.minute, seconds: c.second, fractionalSeconds: 0)
            )
        }
    }

    static func isTime(_ node: ASN1Node) -> Bool {
        node.identifier == UTCTime.defaultIdentifier || node.identifier == GeneralizedTime.defaultIdentifier
    }

    static func parse(_ node: ASN1Node) throws -> Date {
        if node.identifier == UTCTime.defaultIdentifier {
            let t = try UTCTime(derEncoded: node)
            return date(from: Civil(year: t.year, month: t.month, day: t.day, hour: t.hours, minute: t.minutes, second: t.seconds))
        }
        let t = try GeneralizedTime(derEncoded: node)
        return date(from: Civil(year: t.year, month: t.month, day: t.day, hour: t.hours, minute: t.minutes, second: t.seconds))
    }

    /// Whole seconds, as certificates and CRLs store them.
    static func truncated(_ date: Date) -> Date {
        Date(timeIntervalSince1970: date.timeIntervalSince1970.rounded(.down))
    }
}
