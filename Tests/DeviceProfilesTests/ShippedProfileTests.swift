import DeviceProfiles
import Foundation
import JSONDocument
import Nomenclature
import Observations
import Testing

@Suite("Shipped device profiles")
struct ShippedProfileTests {
    @Test("every file in DeviceProfiles/ loads, with the ids, topics and formats it declares")
    func shippedProfilesLoad() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: Paths.shippedProfiles.path)
            .filter { $0.hasSuffix(".yml") || $0.hasSuffix(".yaml") }
        #expect(files.count == 3, "new shipped profiles need decode tests here: \(files)")
        let set = try Fixtures.shipped()
        #expect(set.profiles.count == files.count)
        #expect(set.profiles.map(\.id) == ["generic-wearable-json", "ieee11073-20601", "senml-vitals"])
        for profile in set.profiles {
            #expect(files.contains((profile.sourceFile as NSString).lastPathComponent), "\(profile.id) from \(profile.sourceFile)")
            #expect(!profile.description.isEmpty)
            // Profile mappings are for json and senml; 11073 payloads are decoded by the manager.
            #expect(profile.metrics.isEmpty == (profile.format == .ieee11073), "\(profile.id)")
            #expect(profile.managerTopic == nil || profile.format == .ieee11073, "\(profile.id)")
            #expect(profile.maxPayloadBytes > 0 && profile.maxPayloadBytes <= DeviceProfile.defaultMaxPayloadBytes, "\(profile.id)")
        }
        let wearable = try #require(set.profile(id: "generic-wearable-json"))
        #expect(wearable.format == .json)
        #expect(wearable.topic.pattern == "wards/+/devices/{device}/vitals")
        #expect(wearable.timestamp?.pointer.description == "/ts")
        #expect(wearable.timestamp?.format == .epochMilliseconds)
        #expect(wearable.metrics.map(\.metric.reference) == [
            "MDC_PULS_RATE_NON_INV", "MDC_PULS_OXIM_SAT_O2", "MDC_RESP_RATE", "MDC_TEMP_BODY", "MDC_TEMP_BODY", "MDC_PRESS_BLD_NONINV",
        ])
        #expect(wearable.metrics.map(\.unit) == ["/min", "%", "/min", "Cel", "[degF]", "mm[Hg]"])
        #expect(wearable.metrics.last?.source == .components([.systolic: "/bp/sys", .diastolic: "/bp/dia"]))
        #expect(wearable.metrics.first?.range == PlausibleRange(low: 20, high: 300))

        let phd = try #require(set.profile(id: "ieee11073-20601"))
        #expect(phd.format == .ieee11073)
        #expect(phd.topic.pattern == "phd/{device}/agent")
        #expect(phd.managerTopic == "phd/{device}/manager")

        let senml = try #require(set.profile(id: "senml-vitals"))
        #expect(senml.format == .senml)
        #expect(senml.maxPayloadBytes == DeviceProfile.defaultMaxPayloadBytes)
        #expect(wearable.maxPayloadBytes == DeviceProfile.defaultMaxPayloadBytes)
        #expect(senml.timestamp == nil)
        #expect(senml.metrics.map(\.senmlUnit) == ["beat/min", nil, "breaths/min", nil, nil])
        #expect(senml.metrics.last?.source == .components([.systolic: "bpSys", .diastolic: "bpDia"]))
    }

    @Test("routing: each shipped topic reaches its profile with the device id; filters are one per profile")
    func routing() throws {
        let set = try Fixtures.shipped()
        #expect(set.subscriptionFilters == ["wards/+/devices/+/vitals", "phd/+/agent", "wards/+/devices/+/senml"])
        let wearable = try #require(set.route(topic: Fixtures.wearableTopic))
        #expect(wearable.profile.id == "generic-wearable-json")
        #expect(wearable.deviceId == "wr-0042")
        let senml = try #require(set.route(topic: Fixtures.senmlTopic))
        #expect(senml.profile.id == "senml-vitals")
        #expect(senml.deviceId == "bed-7.sensor")
        let phd = try #require(set.route(topic: "phd/0024befffe804ff1/agent"))
        #expect(phd.profile.id == "ieee11073-20601")
        #expect(phd.deviceId == "0024befffe804ff1")
        #expect(set.route(topic: "phd/0024befffe804ff1/manager") == nil, "the gateway's own replies are not routed back to it")
        #expect(set.route(topic: "wards/w3/devices/wr-0042/other") == nil)
        #expect(set.route(topic: "wards/w3/devices/wr-0042") == nil)
    }

    @Test("generic-wearable-json: the full example payload gives one Observation per metric")
    func wearableFullPayload() throws {
        let set = try Fixtures.shipped()
        let payload = #"{"ts": 1763719200000, "hr": 72, "spo2": 97, "rr": 16, "temp_c": 36.8, "bp": {"sys": 118, "dia": 76}}"#
        let observations = try decodeAndNormalize(topic: Fixtures.wearableTopic, payload: payload, profiles: set)
        #expect(observations.map(\.metricCode) == [149_546, 150_456, 151_562, 150_364, 150_020])

        let expected: [(loinc: String, value: String, unit: String)] = [
            ("8867-4", "72", "/min"), ("2708-6", "97", "%"), ("9279-1", "16", "/min"), ("8310-5", "36.8", "Cel"),
        ]
        for (observation, want) in zip(observations, expected) {
            let r = observation.resource
            #expect(r.conceptCodes("/code").loinc == [want.loinc])
            #expect(r.conceptCodes("/code").mdc == [String(observation.metricCode)])
            #expect(r.at("/valueQuantity/value") == .number(want.value))
            #expect(r.at("/valueQuantity/unit")?.stringValue == want.unit)
            #expect(r.at("/valueQuantity/code")?.stringValue == want.unit)
            #expect(r.at("/effectiveDateTime")?.stringValue == "2025-11-21T10:00:00Z")
            #expect(r.at("/issued")?.stringValue == Fixtures.receivedText)
            #expect(r.at("/device/identifier/value")?.stringValue == "wr-0042")
            #expect(r.notes.isEmpty, "\(r.notes)")
            #expect(r["meta"] == nil)
            #expect(!observation.implausible)
            #expect(observation.deviceId == "wr-0042")
            #expect(observation.effectiveAt == Fixtures.deviceTime)
            #expect(observation.issuedAt == Fixtures.receivedAt)
        }

        let bp = try #require(observations.last).resource
        #expect(bp.conceptCodes("/code").loinc == ["85354-9"])
        #expect(bp.conceptCodes("/code").mdc == ["150020"])
        #expect(bp["valueQuantity"] == nil, "a panel has its values in components only")
        #expect(bp.conceptCodes("/component/0/code").loinc == ["8480-6"])
        #expect(bp.conceptCodes("/component/0/code").mdc == ["150021"])
        #expect(bp.at("/component/0/valueQuantity/value") == .number("118"))
        #expect(bp.at("/component/0/valueQuantity/code")?.stringValue == "mm[Hg]")
        #expect(bp.conceptCodes("/component/1/code").loinc == ["8462-4"])
        #expect(bp.conceptCodes("/component/1/code").mdc == ["150022"])
        #expect(bp.at("/component/1/valueQuantity/value") == .number("76"))
        #expect(bp.at("/component")?.arrayValue?.count == 2)
    }

    @Test("generic-wearable-json: each metric alone decodes to exactly its Observation", arguments: [
        (#""hr": 61"#, 149_546 as UInt32, "61", "/min"),
        (#""spo2": 99.5"#, 150_456, "99.5", "%"),
        (#""rr": 12"#, 151_562, "12", "/min"),
        (#""temp_c": 37.25"#, 150_364, "37.25", "Cel"),
        (#""temp_f": 98.6"#, 150_364, "37.00", "Cel"),
    ])
    func wearableSingleMetric(_ member: String, _ code: UInt32, _ value: String, _ unit: String) throws {
        let set = try Fixtures.shipped()
        let observations = try decodeAndNormalize(topic: Fixtures.wearableTopic, payload: #"{"ts": 1763719200000, "# + member + "}", profiles: set)
        try #require(observations.count == 1)
        let r = observations[0].resource
        #expect(observations[0].metricCode == code)
        #expect(r.at("/valueQuantity/value") == .number(value))
        #expect(r.at("/valueQuantity/unit")?.stringValue == unit)
        #expect(r.at("/valueQuantity/system")?.stringValue == "http://unitsofmeasure.org")
    }

    @Test("generic-wearable-json: 98.6 [degF] becomes 37.00 Cel (scale + 1), with a note saying so")
    func fahrenheit() throws {
        let set = try Fixtures.shipped()
        let observations = try decodeAndNormalize(topic: Fixtures.wearableTopic, payload: #"{"ts": 1763719200000, "temp_f": 98.6}"#, profiles: set)
        let r = try #require(observations.first).resource
        #expect(r.at("/valueQuantity") == .object([
            JSONMember("value", .number("37.00")), JSONMember("unit", "Cel"),
            JSONMember("system", "http://unitsofmeasure.org"), JSONMember("code", "Cel"),
        ]))
        // And the value is right: (98.6 − 32) × 5/9 = 37 exactly.
        let value = try #require(r.at("/valueQuantity/value")?.numberLexeme.flatMap { Decimal(string: $0) })
        #expect(value == 37)
        #expect(r.notes == ["Body temperature converted from 98.6 [degF]."])
        // The plausible range is in the published unit: 98.6 °F lies within [80, 115] °F.
        #expect(!observations[0].implausible)
    }

    @Test("ieee11073-20601: APDUs are left to the 11073 manager, never decoded by a profile mapping")
    func phdProfile() throws {
        let set = try Fixtures.shipped()
        let error = decodeError(topic: "phd/0024befffe804ff1/agent", payload: [0xE2, 0x00, 0x00, 0x32], profiles: set)
        #expect(error?.kind == .unsupportedFormat)
    }

    @Test("generic-wearable-json: absent and null metrics are skipped, not errors")
    func partialPayload() throws {
        let set = try Fixtures.shipped()
        let observations = try decodeAndNormalize(
            topic: Fixtures.wearableTopic, payload: #"{"ts": 1763719200000, "hr": null, "spo2": 96, "bp": null, "extra": "ignored"}"#, profiles: set)
        #expect(observations.map(\.metricCode) == [150_456])
    }

    @Test("senml-vitals: the example pack, with base name and base time")
    func senmlExample() throws {
        let set = try Fixtures.shipped()
        let payload = #"""
        [{"bn": "urn:dev:mac:0024befffe804ff1:", "bt": 1763719200.5},
         {"n": "heartRate", "u": "beat/min", "v": 72},
         {"n": "spo2", "u": "%", "v": 97},
         {"n": "respRate", "u": "breaths/min", "v": 14},
         {"n": "temp", "u": "Cel", "v": 36.9},
         {"n": "bpSys", "u": "mm[Hg]", "v": 121}, {"n": "bpDia", "u": "mm[Hg]", "v": 79}]
        """#
        let observations = try decodeAndNormalize(topic: Fixtures.senmlTopic, payload: payload, profiles: set)
        #expect(observations.map(\.metricCode) == [149_546, 150_456, 151_562, 150_364, 150_020])
        let values = observations.dropLast().map { $0.resource.at("/valueQuantity/value")?.numberLexeme }
        #expect(values == ["72", "97", "14", "36.9"])
        // The SenML unit "beat/min" is published in FHIR as the canonical UCUM "/min".
        #expect(observations[0].resource.at("/valueQuantity/unit")?.stringValue == "/min")
        #expect(observations[2].resource.at("/valueQuantity/unit")?.stringValue == "/min")
        for observation in observations {
            #expect(observation.resource.at("/effectiveDateTime")?.stringValue == "2025-11-21T10:00:00.500Z")
            #expect(observation.effectiveAt == Date(timeIntervalSince1970: 1_763_719_200.5))
            #expect(observation.deviceId == "bed-7.sensor")
            #expect(observation.resource.notes.isEmpty)
        }
        let bp = try #require(observations.last).resource
        #expect(bp.at("/component/0/valueQuantity/value") == .number("121"))
        #expect(bp.conceptCodes("/component/0/code").mdc == ["150021"])
        #expect(bp.at("/component/1/valueQuantity/value") == .number("79"))
        #expect(bp.conceptCodes("/component/1/code").mdc == ["150022"])
    }

    @Test("senml-vitals: records match by n alone or by the full base name + n")
    func senmlNames() throws {
        let set = try Fixtures.shipped()
        // With no bn, n is the full name.
        let plain = try decodeAndNormalize(topic: Fixtures.senmlTopic, payload: #"[{"n": "spo2", "u": "%", "v": 95, "t": 1763719200}]"#, profiles: set)
        #expect(plain.map(\.metricCode) == [150_456])
        // A record whose base name + name does not end in a mapped name is ignored.
        let other = decodeError(topic: Fixtures.senmlTopic, payload: #"[{"bn": "dev:", "n": "spo2x", "u": "%", "v": 95}]"#, profiles: set)
        #expect(other?.kind == .noReadings)
    }

    @Test("senml-vitals: t is relative to bt; small times are relative to the receive time (RFC 8428 §4.5.3)")
    func senmlTimes() throws {
        let set = try Fixtures.shipped()
        let absolute = try decodeAndNormalize(
            topic: Fixtures.senmlTopic,
            payload: #"[{"bt": 1763719200, "n": "heartRate", "u": "beat/min", "v": 70}, {"n": "heartRate", "u": "beat/min", "v": 71, "t": 60}]"#,
            profiles: set)
        #expect(absolute.map { $0.resource.at("/effectiveDateTime")?.stringValue } == ["2025-11-21T10:00:00Z", "2025-11-21T10:01:00Z"])
        #expect(absolute.map { $0.resource.at("/valueQuantity/value")?.numberLexeme } == ["70", "71"])
        #expect(absolute[0].id != absolute[1].id, "two times, two readings, two ids")

        let relative = try decodeAndNormalize(
            topic: Fixtures.senmlTopic, payload: #"[{"n": "heartRate", "u": "beat/min", "v": 70, "t": -5}]"#, profiles: set)
        #expect(relative.first?.effectiveAt == Fixtures.receivedAt.addingTimeInterval(-5))
        #expect(relative.first?.resource.at("/effectiveDateTime")?.stringValue == "2025-11-21T10:00:55.250Z")

        let now = try decodeAndNormalize(topic: Fixtures.senmlTopic, payload: #"[{"n": "heartRate", "u": "beat/min", "v": 70}]"#, profiles: set)
        #expect(now.first?.effectiveAt == Fixtures.receivedAt, "no time at all means 'now'")
    }

    @Test("senml-vitals: a base unit (bu) applies to records without u; a record's own u wins")
    func senmlBaseUnit() throws {
        let set = try Fixtures.shipped()
        let observations = try decodeAndNormalize(
            topic: Fixtures.senmlTopic,
            payload: #"[{"bt": 1763719200, "bu": "%", "n": "spo2", "v": 93}, {"n": "temp", "u": "Cel", "v": 37.1}]"#,
            profiles: set)
        #expect(observations.map(\.metricCode) == [150_456, 150_364])
        let wrongBase = decodeError(topic: Fixtures.senmlTopic, payload: #"[{"bu": "Cel", "n": "spo2", "v": 93}]"#, profiles: set)
        #expect(wrongBase?.kind == .unitMismatch)
    }

    @Test("senml-vitals: a base value (bv) is added to v, keeping the finer precision of the two")
    func senmlBaseValue() throws {
        let set = try Fixtures.shipped()
        let observations = try decodeAndNormalize(
            topic: Fixtures.senmlTopic,
            payload: #"[{"bt": 1763719200, "bv": 36.5, "n": "temp", "u": "Cel", "v": 1}, {"n": "temp", "u": "Cel", "v": 0.25, "t": 1}, {"bv": 0, "n": "temp", "u": "Cel", "v": 37.0, "t": 2}]"#,
            profiles: set)
        #expect(observations.map { $0.resource.at("/valueQuantity/value")?.numberLexeme } == ["37.5", "36.75", "37.0"])
    }

    @Test("senml-vitals: blood-pressure components are grouped into one panel per time")
    func senmlPanelsByTime() throws {
        let set = try Fixtures.shipped()
        let payload = #"""
        [{"bt": 1763719200, "n": "bpSys", "u": "mm[Hg]", "v": 120}, {"n": "bpDia", "u": "mm[Hg]", "v": 80},
         {"n": "bpSys", "u": "mm[Hg]", "v": 130, "t": 300}, {"n": "bpDia", "u": "mm[Hg]", "v": 85, "t": 300}]
        """#
        let observations = try decodeAndNormalize(topic: Fixtures.senmlTopic, payload: payload, profiles: set)
        #expect(observations.count == 2)
        #expect(observations.map { $0.resource.at("/component/0/valueQuantity/value")?.numberLexeme } == ["120", "130"])
        #expect(observations.map { $0.resource.at("/component/1/valueQuantity/value")?.numberLexeme } == ["80", "85"])
        #expect(observations.map { $0.resource.at("/effectiveDateTime")?.stringValue } == ["2025-11-21T10:00:00Z", "2025-11-21T10:05:00Z"])
    }
}
