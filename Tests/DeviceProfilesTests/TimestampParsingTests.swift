import Foundation
import Simulation
import Testing
@testable import DeviceProfiles
@testable import Observations

/// Device times read from their text without Foundation's calendar or `Decimal`, against the
/// code that read them before (the reference below) on seeded inputs. Every consumer rounds a
/// time to whole milliseconds (reading id, FHIR text, the journal), so that is what must agree.
@Suite("Timestamp parsing against the calendar and Decimal it replaces")
struct TimestampParsingTests {
    static func milliseconds(_ date: Date) -> Int64 { Int64((date.timeIntervalSince1970 * 1000).rounded()) }

    @Test("RFC 3339: 20,000 seeded date-times parse to the same millisecond and offset, or are refused alike")
    func rfc3339() {
        var random = SeededGenerator(seed: 3339)
        func two(_ value: UInt64) -> String { value < 10 ? "0\(value)" : "\(value)" }
        var parsed = 0
        for _ in 0..<20_000 {
            let year = 1583 + random.next() % 8417
            // Days up to 31 in every month, so invalid dates (Feb 30, Apr 31) come up often.
            var text = "\(year)-\(two(1 + random.next() % 12))-\(two(1 + random.next() % 31))"
            text += (random.next() % 8 == 0 ? "t" : "T") + "\(two(random.next() % 24)):\(two(random.next() % 60)):\(two(random.next() % 61))"
            if random.next() % 2 == 0 {
                let digits = 1 + Int(random.next() % 3)
                text += "." + String((0..<digits).map { _ in Character(String(random.next() % 10)) })
            }
            switch random.next() % 4 {
            case 0: text += random.next() % 2 == 0 ? "Z" : "z"
            default:
                let hours = random.next() % 15
                text += (random.next() % 2 == 0 ? "+" : "-") + two(hours) + ":" + two(hours == 14 ? 0 : random.next() % 60)
            }
            let ours = FHIRTime.parseRFC3339(text)
            let reference = ReferenceRFC3339.parse(text)
            #expect(ours.map { Self.milliseconds($0.date) } == reference.map { Self.milliseconds($0.date) }, "\(text)")
            #expect(ours?.utcOffsetSeconds == reference?.utcOffsetSeconds, "\(text)")
            if ours.map({ Self.milliseconds($0.date) }) != reference.map({ Self.milliseconds($0.date) }) { return }
            if ours != nil { parsed += 1 }
        }
        #expect(parsed > 16_000, "most seeded date-times are valid: \(parsed)")
    }

    @Test(arguments: [
        "2025-02-29T00:00:00Z", "2024-02-30T00:00:00Z", "2025-04-31T10:00:00+02:00", "2025-13-01T00:00:00Z",
        "2025-11-21T24:00:00Z", "2025-11-21T10:00:00", "2025-11-21T10:00:00.Z", "2025-11-21 10:00:00Z",
        "2025-11-21T10:00:00.1234567890Z", "2025-11-21T10:00:00+0100",
        // Offsets no zone has (FHIR allows ±14:00 at most); beyond ±18:00 the old code trapped.
        "2025-11-21T10:00:00+14:01", "2025-11-21T10:00:00-20:00", "2025-11-21T10:00:00+23:59",
    ])
    func refused(text: String) {
        #expect(FHIRTime.parseRFC3339(text) == nil)
    }

    @Test("leap seconds, nanoseconds and dates before the Gregorian reform read as before")
    func edges() throws {
        for text in [
            "2016-12-31T23:59:60Z", "2025-11-21T10:00:00.123456789+05:30", "2025-11-21T10:00:00.0005Z", "1582-10-04T12:00:00Z",
            "1500-02-29T00:00:00Z", "2024-02-29T23:59:59.999-14:00", "2000-01-01T00:00:00.000+14:00",
        ] {
            let ours = try #require(FHIRTime.parseRFC3339(text), "\(text)")
            let reference = try #require(ReferenceRFC3339.parse(text), "\(text)")
            #expect(Self.milliseconds(ours.date) == Self.milliseconds(reference.date), "\(text)")
        }
        #expect(FHIRTime.parseRFC3339("2025-11-21T10:00:00.123+01:00").map { Self.milliseconds($0.date) } == 1_763_715_600_123)
    }

    @Test("epoch-ms and epoch-s: 30,000 seeded values give the same millisecond as the Decimal quotient")
    func epoch() throws {
        var random = SeededGenerator(seed: 1970)
        for index in 0..<30_000 {
            let inMilliseconds = index % 2 == 0
            let millis = Int64(946_684_800_000) + Int64(random.next() % 3_155_760_000_000)
            var text: String
            if inMilliseconds {
                text = String(millis)
            } else {
                let digits = Int(random.next() % 4)
                text = String(millis / 1000)
                if digits > 0 { text += "." + String(String(millis % 1000 + 1000).dropFirst()).prefix(digits) }
            }
            let number = try #require(DecimalNumber(text))
            let divisor: Decimal = inMilliseconds ? 1000 : 1
            let reference = NSDecimalNumber(decimal: number.decimal / divisor).doubleValue
            let ours = EpochTime.seconds(number, inMilliseconds: inMilliseconds)
            #expect(EpochTime.wholeMilliseconds(text, inMilliseconds: inMilliseconds) != nil, "\(text) left the integer path")
            let same = Self.milliseconds(Date(timeIntervalSince1970: ours)) == Self.milliseconds(Date(timeIntervalSince1970: reference))
            #expect(same, "\(text)")
            #expect((ours >= EpochTime.earliest && ours < EpochTime.latest) == (reference >= EpochTime.earliest && reference < EpochTime.latest), "\(text)")
            if !same { return }
        }
    }

    @Test("the 2000–2100 window edges, and fractions finer than a millisecond, as before")
    func epochEdges() throws {
        for (text, inMilliseconds) in [
            ("946684800000", true), ("946684799999", true), ("4102444800000", true), ("4102444799999", true),
            ("946684800", false), ("946684799.999", false), ("4102444799.9995", false), ("1763719200123.5", true), ("1763719200.000", false),
        ] {
            let number = try #require(DecimalNumber(text))
            let reference = NSDecimalNumber(decimal: number.decimal / (inMilliseconds ? 1000 : 1)).doubleValue
            let ours = EpochTime.seconds(number, inMilliseconds: inMilliseconds)
            #expect(Self.milliseconds(Date(timeIntervalSince1970: ours)) == Self.milliseconds(Date(timeIntervalSince1970: reference)), "\(text)")
            #expect((ours >= EpochTime.earliest) == (reference >= EpochTime.earliest) && (ours < EpochTime.latest) == (reference < EpochTime.latest), "\(text)")
        }
    }
}

/// `FHIRTime.parseRFC3339` as it was before: the same syntax checks, then Foundation's Gregorian
/// calendar for every time (it has no offsets beyond ±14:00 to refuse here: the generator stays within).
enum ReferenceRFC3339 {
    static func parse(_ text: String) -> (date: Date, utcOffsetSeconds: Int)? {
        FHIRTime.RFC3339Fields(text)?.calendarInstant()
    }
}
