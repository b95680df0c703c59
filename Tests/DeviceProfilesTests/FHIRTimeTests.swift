import Foundation
import Observations
import Testing

@Suite("FHIR time text against Foundation's calendar")
struct FHIRTimeTests {
    /// The reference: Foundation's Gregorian calendar in a fixed-offset zone.
    static func reference(_ date: Date, offset: Int) -> String {
        let millis = Int64((date.timeIntervalSince1970 * 1000).rounded())
        let seconds = millis >= 0 ? millis / 1000 : (millis - 999) / 1000
        let fraction = Int(millis - seconds * 1000)
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(secondsFromGMT: offset)!
        let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: Date(timeIntervalSince1970: TimeInterval(seconds)))
        func pad(_ v: Int, _ w: Int) -> String { String(repeating: "0", count: max(0, w - String(v).count)) + String(v) }
        var text = "\(pad(c.year!, 4))-\(pad(c.month!, 2))-\(pad(c.day!, 2))T\(pad(c.hour!, 2)):\(pad(c.minute!, 2)):\(pad(c.second!, 2))"
        if fraction > 0 { text += "." + pad(fraction, 3) }
        if offset == 0 { return text + "Z" }
        return text + (offset < 0 ? "-" : "+") + pad(abs(offset) / 3600, 2) + ":" + pad(abs(offset) % 3600 / 60, 2)
    }

    @Test("dateTime matches the calendar for 20,000 seeded instants from 1900 to 2200, at offsets from -12:00 to +14:00")
    func matchesCalendar() {
        var state: UInt64 = 20601
        func next() -> UInt64 {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return state >> 11
        }
        let offsets = [0, 3600, -3600, 19800, -34200, 50400, -43200, 45 * 60]
        for _ in 0..<20_000 {
            let millis = Int64(next() % 9_467_280_000_000) - 2_208_988_800_000  // 1900 … 2200
            let date = Date(timeIntervalSince1970: Double(millis) / 1000)
            let offset = offsets[Int(next() % UInt64(offsets.count))]
            let expected = FHIRTimeTests.reference(date, offset: offset)
            #expect(FHIRTime.dateTime(date, utcOffsetSeconds: offset) == expected)
            if FHIRTime.dateTime(date, utcOffsetSeconds: offset) != expected { return }
        }
    }

    @Test("edge days: leap days, the turn of centuries, the epoch and just before it")
    func edges() {
        #expect(FHIRTime.instant(Date(timeIntervalSince1970: 0)) == "1970-01-01T00:00:00.000Z")
        #expect(FHIRTime.instant(Date(timeIntervalSince1970: -0.001)) == "1969-12-31T23:59:59.999Z")
        #expect(FHIRTime.instant(Date(timeIntervalSince1970: 951_782_400)) == "2000-02-29T00:00:00.000Z")
        #expect(FHIRTime.instant(Date(timeIntervalSince1970: 4_107_542_400)) == "2100-03-01T00:00:00.000Z")
        #expect(FHIRTime.dateTime(Date(timeIntervalSince1970: 1_763_719_200.123), utcOffsetSeconds: 3600) == "2025-11-21T11:00:00.123+01:00")
    }
}
