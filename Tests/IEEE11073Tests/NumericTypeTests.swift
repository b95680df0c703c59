import Foundation
import IEEE11073
import Observations
import Simulation
import Testing

@Suite("SFLOAT, FLOAT and AbsoluteTime")
struct NumericTypeTests {
    static func special(_ name: String) -> MDERSpecialValue? {
        switch name {
        case "NaN": .notANumber
        case "NRes": .notAtThisResolution
        case "+INF": .positiveInfinity
        case "-INF": .negativeInfinity
        case "reserved": .reserved
        default: nil
        }
    }

    @Test func sfloatTable() throws {
        let table = try #require(Vectors.floats["sfloat"] as? [[String: String]])
        #expect(table.count == 8)
        for entry in table {
            let hex = try #require(entry["hex"])
            let raw = try #require(UInt16(hex, radix: 16))
            let number = SFloat.decode(raw)
            if let decimal = entry["decimal"] {
                #expect(number.decimal?.text == decimal, "SFLOAT \(entry)")
                #expect(try SFloat.encode(number) == raw, "re-encode \(entry)")
            } else {
                let name = try #require(entry["special"])
                let expected = try #require(Self.special(name))
                #expect(number == .special(expected), "SFLOAT \(entry)")
                #expect(number.decimal == nil)
                #expect(try SFloat.encode(number) == raw)
            }
        }
    }

    @Test func floatTable() throws {
        let table = try #require(Vectors.floats["float"] as? [[String: String]])
        #expect(table.count == 7)
        for entry in table {
            let hex = try #require(entry["hex"])
            let raw = try #require(UInt32(hex, radix: 16))
            let number = MDERFloat.decode(raw)
            if let decimal = entry["decimal"] {
                #expect(number.decimal?.text == decimal, "FLOAT \(entry)")
                #expect(try MDERFloat.encode(number) == raw)
            } else {
                let name = try #require(entry["special"])
                let expected = try #require(Self.special(name))
                #expect(number == .special(expected), "FLOAT \(entry)")
                #expect(try MDERFloat.encode(number) == raw)
            }
        }
    }

    @Test func specialValuesBecomeDataAbsentReasons() {
        #expect(SFloat.decode(0x07FF).measuredValue(unit: "%") == .absent(.notANumber))
        #expect(SFloat.decode(0x0800).measuredValue(unit: "%") == .absent(.notANumber))
        #expect(SFloat.decode(0x07FE).measuredValue(unit: "%") == .absent(.positiveInfinity))
        #expect(SFloat.decode(0x0802).measuredValue(unit: "%") == .absent(.negativeInfinity))
        #expect(SFloat.decode(0x0801).measuredValue(unit: "%") == .absent(.error))
        #expect(MDERFloat.decode(0x0080_0001).measuredValue(unit: "kg") == .absent(.error))
        // A special mantissa with a non-zero exponent is still not a number.
        #expect(SFloat.decode(0xF7FF) == .special(.notANumber))
    }

    @Test func negativeAndExponentForms() {
        #expect(SFloat.decode(0xFFFF).decimal?.text == "-0.1")  // mantissa -1, exponent -1
        #expect(SFloat.decode(0x2005).decimal?.text == "500")   // 5 x 10^2
        #expect(MDERFloat.decode(0xFEFF_FF9C).decimal?.text == "-1.00")  // -100 x 10^-2
        #expect(SFloat.decode(0x8001).decimal?.text == "0.00000001")
    }

    @Test func sfloatRoundTripsEveryFiniteCode() throws {
        for raw in UInt16.min...UInt16.max {
            let number = SFloat.decode(raw)
            guard case .finite = number else { continue }
            #expect(SFloat.decode(try SFloat.encode(number)) == number)
        }
    }

    @Test func floatRoundTripsSampledCodes() throws {
        var random = SeededGenerator(seed: 11)
        for _ in 0..<50_000 {
            let raw = UInt32.random(in: 0...UInt32.max, using: &random)
            let number = MDERFloat.decode(raw)
            #expect(MDERFloat.decode(try MDERFloat.encode(number)) == number)
        }
    }

    @Test func decimalTextKeepsPrecision() throws {
        #expect(MDERNumber(decimalText: "60.0") == .finite(mantissa: 600, exponent: -1))
        #expect(MDERNumber(decimalText: "-36.6") == .finite(mantissa: -366, exponent: -1))
        #expect(try SFloat.encode(try #require(MDERNumber(decimalText: "60.0"))) == 0xF258)
        #expect(MDERNumber(decimalText: "1e5") == nil)
        #expect(throws: EncodeError.self) { try SFloat.encode(.finite(mantissa: 123_456, exponent: 0)) }
        // Trailing zeros are dropped only when needed to fit.
        #expect(try SFloat.encode(.finite(mantissa: 20_000, exponent: 0)) == SFloat.encode(.finite(mantissa: 2000, exponent: 1)))
    }

    @Test func absoluteTimeBCD() throws {
        let time = try AbsoluteTime(bcd: [0x20, 0x07, 0x12, 0x06, 0x12, 0x10, 0x00, 0x00])
        #expect(time.description == "2007-12-06T12:10:00.00")
        #expect(time.bcd == [0x20, 0x07, 0x12, 0x06, 0x12, 0x10, 0x00, 0x00])
        #expect(throws: AbsoluteTimeError.self) { try AbsoluteTime(bcd: [0x20, 0x07, 0x1A, 0x06, 0x12, 0x10, 0x00, 0x00]) }
        #expect(throws: AbsoluteTimeError.self) { try AbsoluteTime(bcd: [0x20, 0x07, 0x02, 0x30, 0x12, 0x10, 0x00, 0x00]) }
        #expect(throws: AbsoluteTimeError.self) { try AbsoluteTime(bcd: [0x20, 0x07, 0x13, 0x01, 0x00, 0x00, 0x00, 0x00]) }
        #expect(throws: AbsoluteTimeError.self) { try AbsoluteTime(bcd: [0x20, 0x07, 0x12, 0x01]) }
        #expect(try AbsoluteTime(bcd: [0x20, 0x08, 0x02, 0x29, 0x23, 0x59, 0x59, 0x99]).description == "2008-02-29T23:59:59.99")
    }

    @Test func absoluteTimeAppliesTheAssumedOffset() throws {
        let time = try AbsoluteTime(bcd: [0x20, 0x07, 0x12, 0x06, 0x12, 0x10, 0x00, 0x50])
        let utc = time.deviceTime(assuming: .utc)
        // 2007-12-06T12:10:00.50Z
        #expect(utc.instant == Date(timeIntervalSince1970: 1_196_943_000.5))
        #expect(utc.offsetAssumed)
        let plusOne = time.deviceTime(assuming: .fixed(seconds: 3600))
        #expect(plusOne.instant == Date(timeIntervalSince1970: 1_196_943_000.5 - 3600))
        #expect(plusOne.utcOffsetSeconds == 3600)
        let zone = try #require(TimeZone(identifier: "Europe/Berlin"))
        let summer = try AbsoluteTime(year: 2024, month: 7, day: 1, hour: 12, minute: 0, second: 0)
        #expect(summer.deviceTime(assuming: .timeZone(zone)).utcOffsetSeconds == 7200)
        #expect(time.deviceTime(assuming: .timeZone(zone)).utcOffsetSeconds == 3600)
    }

    @Test func absoluteTimeFromDateRoundTrips() throws {
        let date = Date(timeIntervalSince1970: 1_700_000_123.25)
        let time = try AbsoluteTime(date: date, utcOffsetSeconds: -18000)
        #expect(time.description == "2023-11-14T17:15:23.25")
        #expect(time.deviceTime(assuming: .fixed(seconds: -18000)).instant == date)
        let epoch = try AbsoluteTime(date: Date(timeIntervalSince1970: 0), utcOffsetSeconds: 0)
        #expect(epoch.description == "1970-01-01T00:00:00.00")
    }
}
