import CivilTime
import Foundation
import SwiftASN1

/// Conversions between `Date` and the X.509 Time CHOICE (UTCTime until 2049, GeneralizedTime after,
/// as RFC 5280 §4.1.2.5 requires), done with integer civil-date arithmetic in UTC.
enum ASN1Time {
    typealias Civil = CivilTime

    static func civil(from date: Date) -> Civil {
        CivilTime(secondsSinceEpoch: Int(date.timeIntervalSince1970.rounded(.down)))
    }

    static func date(from c: Civil) -> Date {
        Date(timeIntervalSince1970: TimeInterval(c.secondsSinceEpoch))
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
