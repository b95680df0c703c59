import DeviceProfiles
import Foundation
import JSONDocument
import Nomenclature
import Observations
import Testing

/// A JSON profile using units and features the shipped profiles do not.
let conversionProfileYAML = """
    id: test-conversions
    description: Units the shipped profiles do not use
    topic: test/{device}/conv
    format: json
    timestamp: {pointer: /ts, format: epoch-ms}
    metrics:
      - {pointer: /glu, mdc: MDC_CONC_GLU_CAPILLARY_WHOLEBLOOD, unit: mmol/L, range: [1, 40]}
      - {pointer: /wt, mdc: MDC_MASS_BODY_ACTUAL, unit: "[lb_av]", range: [2, 1000]}
      - {mdc: MDC_PRESS_BLD_NONINV, unit: kPa, range: [2, 40], components: {systolic: /bp/s, diastolic: /bp/d, mean: /bp/m}}
      - {pointer: /t10, mdc: MDC_TEMP_BODY, unit: Cel, scale: 0.1, range: [27, 46]}
      - {pointer: /tf10, mdc: MDC_TEMP_BODY, unit: "[degF]", scale: "0.1"}
      - {pointer: /h, mdc: MDC_LEN_BODY_ACTUAL, unit: "[in_i]"}

    """

func reading(_ reference: String, _ value: String, _ unit: String, device: String = "dev-1", time: Date? = Fixtures.deviceTime) throws -> Reading {
    let metric = try #require(Nomenclature.metric(named: reference))
    let number = try #require(DecimalNumber(value))
    return Reading(
        deviceId: device, metric: metric, value: .single(.quantity(Quantity(value: number, unit: unit))),
        deviceTime: time.map { DeviceTime(instant: $0) })
}

@Suite("Normalization: units, scale, ranges, times, ids")
struct NormalizationTests {
    @Test("mmol/L → mg/dL, [lb_av] → kg, kPa → mm[Hg], [in_i] → cm through a profile written in the test")
    func conversionsThroughProfile() throws {
        let set = try Fixtures.profiles(["conv.yml": conversionProfileYAML])
        let payload = #"{"ts": 1763719200000, "glu": 5.5, "wt": 154.0, "bp": {"s": 16.0, "d": 10.7, "m": 12.5}, "h": 70.0}"#
        let observations = try decodeAndNormalize(topic: "test/scale-9/conv", payload: payload, profiles: set)
        #expect(observations.map(\.metricCode) == [160_184, 188_736, 150_020, 188_740])

        let glucose = observations[0].resource
        // 5.5 × 18.016 = 99.088, one fractional digit fewer than published: "99".
        #expect(glucose.at("/valueQuantity/value") == .number("99"))
        #expect(glucose.at("/valueQuantity/unit")?.stringValue == "mg/dL")
        #expect(glucose.conceptCodes("/code").loinc.isEmpty, "the table has no LOINC code for capillary glucose")
        #expect(glucose.conceptCodes("/code").mdc == ["160184"])
        #expect(glucose.notes == ["Glucose in capillary whole blood converted from 5.5 mmol/L."])

        let weight = observations[1].resource
        // 154.0 × 0.45359237 = 69.85322498, one fractional digit more: "69.85".
        #expect(weight.at("/valueQuantity/value") == .number("69.85"))
        #expect(weight.at("/valueQuantity/code")?.stringValue == "kg")
        #expect(weight.conceptCodes("/code").loinc == ["29463-7"])
        #expect(weight.notes == ["Body weight converted from 154.0 [lb_av]."])

        let bp = observations[2].resource
        // 16.0 kPa = 120.0098693 mm[Hg] → "120"; 10.7 → 80.256600 → "80"; 12.5 → 93.757710 → "94".
        #expect(bp.at("/component")?.arrayValue?.count == 3)
        #expect(bp.at("/component/0/valueQuantity/value") == .number("120"))
        #expect(bp.at("/component/1/valueQuantity/value") == .number("80"))
        #expect(bp.at("/component/2/valueQuantity/value") == .number("94"))
        #expect(bp.at("/component/2/valueQuantity/unit")?.stringValue == "mm[Hg]")
        #expect(bp.conceptCodes("/component/2/code").mdc == ["150023"])
        #expect(bp.conceptCodes("/component/2/code").loinc.isEmpty, "mean pressure has no LOINC code in the table")
        #expect(bp.notes == [
            "Systolic blood pressure converted from 16.0 kPa.",
            "Diastolic blood pressure converted from 10.7 kPa.",
            "Mean blood pressure converted from 12.5 kPa.",
        ])

        // 70.0 in × 2.54 = 177.8 cm, one more digit: "177.80".
        #expect(observations[3].resource.at("/valueQuantity/value") == .number("177.80"))
        #expect(observations[3].resource.at("/valueQuantity/unit")?.stringValue == "cm")
    }

    @Test("the same conversions straight through Normalizer", arguments: [
        ("MDC_TEMP_BODY", "98.6", "[degF]", "37.00", "Cel"),
        ("MDC_TEMP_BODY", "212", "[degF]", "100.0", "Cel"),
        ("MDC_TEMP_BODY", "-40.0", "[degF]", "-40.00", "Cel"),
        ("MDC_TEMP_BODY", "32", "[degF]", "0.0", "Cel"),
        ("MDC_CONC_GLU_CAPILLARY_WHOLEBLOOD", "5.55", "mmol/L", "100.0", "mg/dL"),
        ("MDC_CONC_GLU_CAPILLARY_WHOLEBLOOD", "10", "mmol/L", "180", "mg/dL"),
        ("MDC_MASS_BODY_ACTUAL", "1", "[lb_av]", "0.5", "kg"),
        ("MDC_MASS_BODY_ACTUAL", "220.5", "[lb_av]", "100.02", "kg"),
        ("MDC_MASS_BODY_ACTUAL", "72.35", "kg", "72.35", "kg"),
        ("MDC_LEN_BODY_ACTUAL", "1", "[in_i]", "2.5", "cm"),
        ("MDC_PULS_RATE_NON_INV", "72", "/min", "72", "/min"),
    ])
    func conversionsThroughNormalizer(_ metric: String, _ value: String, _ unit: String, _ text: String, _ canonical: String) throws {
        let observation = try Normalizer().normalize(try reading(metric, value, unit), receivedAt: Fixtures.receivedAt)
        #expect(observation.resource.at("/valueQuantity/value") == .number(text))
        #expect(observation.resource.at("/valueQuantity/unit")?.stringValue == canonical)
        #expect(observation.resource.at("/valueQuantity/code")?.stringValue == canonical)
        let notes = observation.resource.notes
        #expect(notes == (unit == canonical ? [] : ["\(Nomenclature.metric(named: metric)!.display) converted from \(value) \(unit)."]))
    }

    @Test("kPa blood pressure straight through Normalizer")
    func kilopascalPanel() throws {
        let panel = try #require(Nomenclature.metric(named: "MDC_PRESS_BLD_NONINV"))
        let value = ReadingValue.panel([
            .systolic: .quantity(Quantity(value: DecimalNumber("16.00")!, unit: "kPa")),
            .diastolic: .quantity(Quantity(value: DecimalNumber("10.67")!, unit: "kPa")),
        ])
        let observation = try Normalizer().normalize(
            Reading(deviceId: "d", metric: panel, value: value, deviceTime: DeviceTime(instant: Fixtures.deviceTime)),
            receivedAt: Fixtures.receivedAt)
        // 16.00 × 7.50061683 = 120.00986928 → "120.0"; 10.67 × 7.50061683 = 80.03158158 → "80.0".
        #expect(observation.resource.at("/component/0/valueQuantity/value") == .number("120.0"))
        #expect(observation.resource.at("/component/1/valueQuantity/value") == .number("80.0"))
    }

    @Test("every toCanonical conversion of vitals-codes.json exists with the factor it states")
    func conversionsMatchTestdata() throws {
        let data = try Data(contentsOf: try Paths.testdata().appendingPathComponent("vitals-codes.json"))
        let root = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let units = try #require(root["units"] as? [[String: Any]])
        var checked = 0
        for unit in units {
            guard let formula = unit["toCanonical"] as? String, let ucum = unit["ucum"] as? String else { continue }
            // "mm[Hg] = kPa * 7.50061683", "glucose mg/dL = mmol/L * 18.016 (...)", "Cel = ([degF] - 32) * 5/9".
            let lhs = formula.components(separatedBy: " = ")[0].split(separator: " ")
            let target = String(try #require(lhs.last))
            let conversion = try #require(UnitConversion.find(from: ucum, to: target), "no conversion \(ucum) → \(target)")
            #expect(!conversion.isIdentity)
            let rhs = formula.components(separatedBy: " * ")[1].split(separator: " ")[0]
            if ucum == "[degF]" {
                #expect(rhs == "5/9")
                let boiling = conversion.convertExactly(212) - 100
                #expect(abs(NSDecimalNumber(decimal: boiling).doubleValue) < 1e-20)
                let freezing = conversion.convertExactly(32)
                #expect(freezing == 0)
            } else {
                let factor = try #require(Decimal(string: String(rhs)), "factor of \(formula)")
                #expect(conversion.convertExactly(1) == factor, "\(formula)")
                #expect(conversion.convertExactly(10) == factor * 10, "\(formula)")
            }
            checked += 1
        }
        #expect(checked == 4)
        #expect(UnitConversion.find(from: "kg", to: "Cel") == nil)
        #expect(UnitConversion.find(from: "Cel", to: "[degF]") == nil, "conversions go to the canonical unit only")
    }

    @Test("scale multiplies the published value and adds its digits; ranges apply to the scaled value")
    func scale() throws {
        let set = try Fixtures.profiles(["conv.yml": conversionProfileYAML])
        let observations = try decodeAndNormalize(topic: "test/d/conv", payload: #"{"ts": 1763719200000, "t10": 368, "tf10": 986}"#, profiles: set)
        #expect(observations.count == 2)
        // 368 × 0.1 = "36.8": within [27, 46], so not flagged (368 would be).
        #expect(observations[0].resource.at("/valueQuantity/value") == .number("36.8"))
        #expect(!observations[0].implausible)
        #expect(observations[0].resource.notes.isEmpty)
        // 986 × 0.1 = 98.6 °F, then converted: "37.00" Cel.
        #expect(observations[1].resource.at("/valueQuantity/value") == .number("37.00"))
        #expect(observations[1].resource.notes == ["Body temperature converted from 98.6 [degF]."])

        let precise = try decodeAndNormalize(topic: "test/d/conv", payload: #"{"ts": 1763719200000, "t10": 368.5}"#, profiles: set)
        #expect(precise.first?.resource.at("/valueQuantity/value") == .number("36.85"))
        let outside = try decodeAndNormalize(topic: "test/d/conv", payload: #"{"ts": 1763719200000, "t10": 470}"#, profiles: set)
        #expect(outside.first?.implausible == true, "47.0 Cel is outside [27, 46]")
    }

    @Test("required: a payload without a required metric is an error, one with it is not")
    func required() throws {
        let yaml = """
            id: test-required
            description: Required metrics
            topic: test/{device}/req
            format: json
            metrics:
              - {pointer: /hr, mdc: MDC_PULS_RATE_NON_INV, unit: /min, required: true}
              - {pointer: /spo2, mdc: MDC_PULS_OXIM_SAT_O2, unit: "%"}
              - {mdc: MDC_PRESS_BLD_NONINV, unit: "mm[Hg]", required: yes, components: {systolic: /s, diastolic: /d}}
            """
        let set = try Fixtures.profiles(["req.yml": yaml])
        #expect(set.profiles.first?.metrics.map(\.required) == [true, false, true])
        let ok = try decodeAndNormalize(topic: "test/d/req", payload: #"{"hr": 70, "s": 120, "d": 80}"#, profiles: set)
        #expect(ok.count == 2)
        let noHR = decodeError(topic: "test/d/req", payload: #"{"spo2": 97, "s": 120, "d": 80}"#, profiles: set)
        #expect(noHR?.kind == .missingField)
        #expect(noHR?.reason == "required metric MDC_PULS_RATE_NON_INV is missing")
        let nullHR = decodeError(topic: "test/d/req", payload: #"{"hr": null, "s": 120, "d": 80}"#, profiles: set)
        #expect(nullHR?.kind == .missingField)
        let noBP = decodeError(topic: "test/d/req", payload: #"{"hr": 70}"#, profiles: set)
        #expect(noBP?.kind == .missingField)
        #expect(noBP?.reason == "required metric MDC_PRESS_BLD_NONINV is missing")
    }

    @Test("required works for SenML too")
    func requiredSenML() throws {
        let yaml = """
            id: test-senml-required
            description: Required SenML record
            topic: test/{device}/senml
            format: senml
            metrics:
              - {name: hr, mdc: MDC_PULS_RATE_NON_INV, unit: /min, senmlUnit: beat/min, required: true}
              - {name: spo2, mdc: MDC_PULS_OXIM_SAT_O2, unit: "%"}
            """
        let set = try Fixtures.profiles(["r.yml": yaml])
        let error = decodeError(topic: "test/d/senml", payload: #"[{"n": "spo2", "u": "%", "v": 97}]"#, profiles: set)
        #expect(error?.kind == .missingField)
        #expect(error?.reason == "required metric MDC_PULS_RATE_NON_INV is missing")
        #expect(try decodeAndNormalize(topic: "test/d/senml", payload: #"[{"n": "hr", "u": "beat/min", "v": 66}]"#, profiles: set).count == 1)
    }

    @Test("outside the plausible range: kept as reported, tagged implausible, with a note", arguments: [
        ("350", true), ("300", false), ("20", false), ("19.9", true), ("300.1", true), ("-1", true),
    ])
    func plausibleRange(_ value: String, _ implausible: Bool) throws {
        let set = try Fixtures.shipped()
        let observations = try decodeAndNormalize(topic: Fixtures.wearableTopic, payload: #"{"ts": 1763719200000, "hr": \#(value)}"#, profiles: set)
        let observation = try #require(observations.first)
        #expect(observation.implausible == implausible)
        let r = observation.resource
        #expect(r.at("/valueQuantity/value") == .number(value), "the value is kept as the device reported it")
        #expect(r.at("/status")?.stringValue == "final")
        if implausible {
            #expect(r.at("/meta/tag") == [[
                "system": "urn:wardgate:flag", "code": "implausible", "display": "Outside the profile's plausible range",
            ]])
            #expect(r.notes == ["Implausible value kept as reported: Heart rate \(value) /min is outside the plausible range 20–300 /min."])
        } else {
            #expect(r["meta"] == nil)
            #expect(r.notes.isEmpty)
        }
    }

    @Test("implausible panel component and implausible converted value name what was published")
    func implausibleDetails() throws {
        let set = try Fixtures.shipped()
        let bp = try decodeAndNormalize(topic: Fixtures.wearableTopic, payload: #"{"ts": 1763719200000, "bp": {"sys": 310, "dia": 76}}"#, profiles: set)
        #expect(bp.first?.implausible == true)
        #expect(bp.first?.resource.notes == ["Implausible value kept as reported: Systolic blood pressure 310 mm[Hg] is outside the plausible range 20–300 mm[Hg]."])
        #expect(bp.first?.resource.at("/component/0/valueQuantity/value") == .number("310"))

        let hot = try decodeAndNormalize(topic: Fixtures.wearableTopic, payload: #"{"ts": 1763719200000, "temp_f": 120.0}"#, profiles: set)
        #expect(hot.first?.implausible == true)
        #expect(hot.first?.resource.at("/valueQuantity/value") == .number("48.89"))
        #expect(hot.first?.resource.notes == [
            "Body temperature converted from 120.0 [degF].",
            "Implausible value kept as reported: Body temperature 120.0 [degF] is outside the plausible range 80–115 [degF].",
        ])
    }

    @Test("no device time: effectiveDateTime is the receive time, and a note says so")
    func missingDeviceTime() throws {
        let yaml = """
            id: test-no-time
            description: No timestamp
            topic: test/{device}/nt
            format: json
            metrics:
              - {pointer: /hr, mdc: MDC_PULS_RATE_NON_INV, unit: /min}
            """
        let set = try Fixtures.profiles(["nt.yml": yaml])
        let observation = try #require(try decodeAndNormalize(topic: "test/d/nt", payload: #"{"hr": 72}"#, profiles: set).first)
        #expect(observation.effectiveAt == Fixtures.receivedAt)
        #expect(observation.issuedAt == Fixtures.receivedAt)
        #expect(observation.resource.at("/effectiveDateTime")?.stringValue == Fixtures.receivedText)
        #expect(observation.resource.at("/issued")?.stringValue == Fixtures.receivedText)
        #expect(observation.resource.notes == ["The device sent no measurement time; effectiveDateTime is the gateway receive time."])

        // The id then comes from the payload: a redelivery (later) is the same reading, another payload is not.
        let redelivered = try decodeAndNormalize(topic: "test/d/nt", payload: #"{"hr": 72}"#, profiles: set, receivedAt: Fixtures.receivedAt.addingTimeInterval(30))
        #expect(redelivered.first?.id == observation.id)
        let other = try decodeAndNormalize(topic: "test/d/nt", payload: #"{"hr": 73}"#, profiles: set)
        #expect(other.first?.id != observation.id)
    }

    @Test("stable ids: same reading, same id; another time, device or metric, another id")
    func stableIds() throws {
        let set = try Fixtures.shipped()
        func ids(_ payload: String, topic: String = Fixtures.wearableTopic, receivedAt: Date = Fixtures.receivedAt) throws -> [String] {
            try decodeAndNormalize(topic: topic, payload: payload, profiles: set, receivedAt: receivedAt).map(\.id)
        }
        let base = try ids(#"{"ts": 1763719200000, "hr": 72, "spo2": 97}"#)
        #expect(base.count == 2)
        #expect(Set(base).count == 2, "two metrics at one time have two ids")
        for id in base {
            #expect(id.count == 32)
            #expect(id.allSatisfy { $0.isHexDigit && !$0.isUppercase })
        }
        // Same reading, received again later, even with other whitespace and member order: same id.
        #expect(try ids(#"{"hr":72,"spo2":97,"ts":1763719200000}"#, receivedAt: Fixtures.receivedAt.addingTimeInterval(3600)) == base)
        // A millisecond later: another reading.
        #expect(try ids(#"{"ts": 1763719200001, "hr": 72, "spo2": 97}"#).allSatisfy { !base.contains($0) })
        // Another device.
        #expect(try ids(#"{"ts": 1763719200000, "hr": 72, "spo2": 97}"#, topic: "wards/w3/devices/wr-0043/vitals").allSatisfy { !base.contains($0) })

        // The id is in the resource as id and as the reading identifier.
        let observation = try #require(try decodeAndNormalize(topic: Fixtures.wearableTopic, payload: #"{"ts": 1763719200000, "hr": 72}"#, profiles: set).first)
        #expect(observation.id == base[0])
        #expect(observation.resource.at("/id")?.stringValue == observation.id)
        #expect(observation.resource.at("/identifier") == [["system": "urn:wardgate:reading", "value": .string(observation.id)]])
        #expect(Normalizer.readingId(deviceId: "wr-0042", metricCode: 149_546, deviceTime: Fixtures.deviceTime, fallbackKey: "") == observation.id)
    }

    @Test("RFC 3339 device times keep their offset; epoch seconds keep their milliseconds")
    func deviceTimeFormats() throws {
        let yaml = """
            id: test-times
            description: Times
            topic: test/{device}/rfc
            format: json
            timestamp: {pointer: /at/time, format: rfc3339}
            metrics:
              - {pointer: /hr, mdc: MDC_PULS_RATE_NON_INV, unit: /min}
            """
        let epochYAML = """
            id: test-epoch-s
            description: Epoch seconds
            topic: test/{device}/es
            format: json
            timestamp: {pointer: /t, format: epoch-s}
            metrics:
              - {pointer: /hr, mdc: MDC_PULS_RATE_NON_INV, unit: /min}
            """
        let set = try Fixtures.profiles(["rfc.yml": yaml, "es.yml": epochYAML])
        let rfc = try #require(try decodeAndNormalize(topic: "test/d/rfc", payload: #"{"at": {"time": "2025-11-21T11:00:00+01:00"}, "hr": 72}"#, profiles: set).first)
        #expect(rfc.resource.at("/effectiveDateTime")?.stringValue == "2025-11-21T11:00:00+01:00")
        #expect(rfc.effectiveAt == Fixtures.deviceTime)
        #expect(rfc.resource.notes.isEmpty)
        let epoch = try #require(try decodeAndNormalize(topic: "test/d/es", payload: #"{"t": 1763719200.5, "hr": 72}"#, profiles: set).first)
        #expect(epoch.resource.at("/effectiveDateTime")?.stringValue == "2025-11-21T10:00:00.500Z")
        // The same instant in another offset is the same reading.
        let utc = try #require(try decodeAndNormalize(topic: "test/d/rfc", payload: #"{"at": {"time": "2025-11-21T10:00:00Z"}, "hr": 72}"#, profiles: set).first)
        #expect(utc.id == rfc.id)
        #expect(utc.resource.at("/effectiveDateTime")?.stringValue == "2025-11-21T10:00:00Z")
    }

    @Test("receive times print as FHIR instants with exact milliseconds")
    func issuedMilliseconds() throws {
        for (epoch, text) in [
            (1_763_719_260.123, "2025-11-21T10:01:00.123Z"), (1_763_719_260.001, "2025-11-21T10:01:00.001Z"),
            (1_763_719_260.999, "2025-11-21T10:01:00.999Z"), (1_763_719_260.0, "2025-11-21T10:01:00.000Z"),
        ] {
            let observation = try Normalizer().normalize(try reading("MDC_PULS_RATE_NON_INV", "70", "/min"), receivedAt: Date(timeIntervalSince1970: epoch))
            #expect(observation.resource.at("/issued")?.stringValue == text)
        }
    }

    @Test("device times with milliseconds print them exactly")
    func effectiveMilliseconds() throws {
        for (ms, text) in [
            (1_763_719_200_123, "2025-11-21T10:00:00.123Z"), (1_763_719_200_001, "2025-11-21T10:00:00.001Z"),
            (1_763_719_200_999, "2025-11-21T10:00:00.999Z"), (1_763_719_200_000, "2025-11-21T10:00:00Z"),
        ] {
            let set = try Fixtures.shipped()
            let observation = try #require(try decodeAndNormalize(topic: Fixtures.wearableTopic, payload: #"{"ts": \#(ms), "hr": 70}"#, profiles: set).first)
            #expect(observation.resource.at("/effectiveDateTime")?.stringValue == text)
        }
    }

    @Test("an assumed UTC offset is applied and noted")
    func assumedOffset() throws {
        let metric = try #require(Nomenclature.metric(named: "MDC_PULS_RATE_NON_INV"))
        let r = Reading(
            deviceId: "agent-1", metric: metric, value: .single(.quantity(Quantity(value: DecimalNumber(70), unit: "/min"))),
            deviceTime: DeviceTime(instant: Fixtures.deviceTime, utcOffsetSeconds: 3600, offsetAssumed: true))
        let observation = try Normalizer().normalize(r, receivedAt: Fixtures.receivedAt)
        #expect(observation.resource.at("/effectiveDateTime")?.stringValue == "2025-11-21T11:00:00+01:00")
        #expect(observation.resource.notes == ["The device time carried no UTC offset; the gateway's offset +01:00 was applied."])
    }

    @Test("data absent: no value, a dataAbsentReason instead, for single values and panel components")
    func dataAbsent() throws {
        let hr = try #require(Nomenclature.metric(named: "MDC_PULS_RATE_NON_INV"))
        let single = try Normalizer().normalize(
            Reading(deviceId: "d", metric: hr, value: .single(.absent(.notANumber)), deviceTime: DeviceTime(instant: Fixtures.deviceTime)),
            receivedAt: Fixtures.receivedAt, plausibleRange: PlausibleRange(low: 20, high: 300))
        #expect(single.resource["valueQuantity"] == nil)
        #expect(single.resource.at("/dataAbsentReason/coding") == [[
            "system": "http://terminology.hl7.org/CodeSystem/data-absent-reason", "code": "not-a-number",
        ]])
        #expect(!single.implausible, "an absent value is not implausible")

        let bp = try #require(Nomenclature.metric(named: "MDC_PRESS_BLD_NONINV"))
        let panel = try Normalizer().normalize(
            Reading(deviceId: "d", metric: bp, value: .panel([
                .systolic: .absent(.positiveInfinity),
                .diastolic: .quantity(Quantity(value: DecimalNumber(80), unit: "mm[Hg]")),
            ]), deviceTime: DeviceTime(instant: Fixtures.deviceTime)),
            receivedAt: Fixtures.receivedAt)
        #expect(panel.resource.at("/component/0/dataAbsentReason/coding/0/code")?.stringValue == "positive-infinity")
        #expect(panel.resource.at("/component/0/valueQuantity") == nil)
        #expect(panel.resource.at("/component/1/valueQuantity/value") == .number("80"))
        #expect(panel.resource.at("/component/1/dataAbsentReason") == nil)
    }

    @Test("a patient assignment becomes the subject")
    func subject() throws {
        let observation = try Normalizer().normalize(
            try reading("MDC_PULS_RATE_NON_INV", "70", "/min"), receivedAt: Fixtures.receivedAt,
            assignment: PatientAssignment(system: "urn:oid:1.2.36.146.595.217.0.1", value: "MRN-123", bed: "12"))
        #expect(observation.resource.at("/subject") == [
            "identifier": ["system": "urn:oid:1.2.36.146.595.217.0.1", "value": "MRN-123"], "display": "Bed 12",
        ])
    }

    @Test("normalization errors: panel shape and units")
    func normalizationErrors() throws {
        let bp = try #require(Nomenclature.metric(named: "MDC_PRESS_BLD_NONINV"))
        let hr = try #require(Nomenclature.metric(named: "MDC_PULS_RATE_NON_INV"))
        let q = MeasuredValue.quantity(Quantity(value: DecimalNumber(80), unit: "mm[Hg]"))
        #expect(throws: NormalizationError.panelNeedsComponents(metric: "MDC_PRESS_BLD_NONINV")) {
            try Normalizer().normalize(Reading(deviceId: "d", metric: bp, value: .single(q), deviceTime: nil), receivedAt: Fixtures.receivedAt)
        }
        #expect(throws: NormalizationError.panelNeedsComponents(metric: "MDC_PRESS_BLD_NONINV")) {
            try Normalizer().normalize(Reading(deviceId: "d", metric: bp, value: .panel([:]), deviceTime: nil), receivedAt: Fixtures.receivedAt)
        }
        #expect(throws: NormalizationError.notAPanel(metric: "MDC_PULS_RATE_NON_INV")) {
            try Normalizer().normalize(Reading(deviceId: "d", metric: hr, value: .panel([.systolic: q]), deviceTime: nil), receivedAt: Fixtures.receivedAt)
        }
        #expect(throws: NormalizationError.unitNotConvertible(metric: "MDC_PULS_RATE_NON_INV", unit: "mm[Hg]", canonical: "/min")) {
            try Normalizer().normalize(Reading(deviceId: "d", metric: hr, value: .single(q), deviceTime: nil), receivedAt: Fixtures.receivedAt)
        }
    }
}
