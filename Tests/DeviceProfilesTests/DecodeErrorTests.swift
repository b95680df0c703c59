import DeviceProfiles
import Foundation
import JSONDocument
import Observations
import Testing

@Suite("Bad payloads: the right DecodeError.Kind and a clear reason")
struct DecodeErrorTests {
    private func expectError(
        _ kind: DecodeError.Kind, _ reason: String, topic: String = Fixtures.wearableTopic, payload: [UInt8],
        profiles: ProfileSet? = nil, sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        let set = try profiles ?? Fixtures.shipped()
        let error = try #require(decodeError(topic: topic, payload: payload, profiles: set, sourceLocation: sourceLocation), sourceLocation: sourceLocation)
        #expect(error.kind == kind, "\(error)", sourceLocation: sourceLocation)
        #expect(error.reason.contains(reason), "reason \"\(error.reason)\" does not contain \"\(reason)\"", sourceLocation: sourceLocation)
        #expect(error.description == "\(kind.rawValue): \(error.reason)", sourceLocation: sourceLocation)
    }

    private func expectError(
        _ kind: DecodeError.Kind, _ reason: String, topic: String = Fixtures.wearableTopic, payload: String,
        profiles: ProfileSet? = nil, sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        try expectError(kind, reason, topic: topic, payload: Array(payload.utf8), profiles: profiles, sourceLocation: sourceLocation)
    }

    @Test("invalid JSON, with the parser's byte offset", arguments: [
        (#"{"ts": 1763719200000, "hr": }"#, "invalid JSON at byte 28: unexpected character"),
        (#"{"ts": 1763719200000, "hr": 72"#, "invalid JSON at byte 30: expected ',' or '}'"),
        (#"{"ts": 1763719200000, "hr": 72, "hr": 73}"#, "duplicate member name \"hr\""),
        (#"{"ts": 1763719200000, "hr": 072}"#, "leading zero"),
        (#"{"ts": 1763719200000, "hr": 72} trailing"#, "unexpected data after the JSON value"),
        ("", "unexpected end of input"),
        (#"{"ts": 1763719200000, "hr": NaN}"#, "unexpected character"),
        (#"{"ts": 1763719200000, "hr": 72, "n": "\ud800"}"#, "lone high surrogate"),
    ])
    func invalidJSON(_ payload: String, _ reason: String) throws {
        try expectError(.invalidJSON, reason, payload: payload)
    }

    @Test("deeply nested payloads are refused, not a crash")
    func deepNesting() throws {
        try expectError(.invalidJSON, "nesting deeper than", payload: String(repeating: "[", count: 10_000))
        try expectError(.invalidJSON, "nesting deeper than", payload: #"{"ts": 1763719200000, "hr": 72, "x": "# + String(repeating: "[", count: 5_000))
    }

    @Test("wrong types", arguments: [
        (#"{"ts": 1763719200000, "hr": "72"}"#, "/hr must be a number, found string"),
        (#"{"ts": 1763719200000, "hr": true}"#, "/hr must be a number, found boolean"),
        (#"{"ts": 1763719200000, "hr": [72]}"#, "/hr must be a number, found array"),
        (#"{"ts": 1763719200000, "bp": {"sys": {"v": 1}, "dia": 70}}"#, "/bp/sys must be a number, found object"),
        (#"[{"ts": 1763719200000, "hr": 72}]"#, "payload must be a JSON object, found array"),
        (#""hr""#, "payload must be a JSON object, found string"),
        ("72", "payload must be a JSON object, found number"),
        ("null", "payload must be a JSON object, found null"),
        (#"{"ts": "1763719200000", "hr": 72}"#, "/ts must be a number, found string"),
        (#"{"ts": 1763719200000, "hr": 1e999}"#, "/hr holds a number out of range"),
        // Beyond what Foundation.Decimal holds: refused, never read as 0 (which would convert to -17.78 Cel).
        (#"{"ts": 1763719200000, "temp_f": 1e300}"#, "/temp_f holds a number out of range"),
        (#"{"ts": 1763719200000, "hr": 0.0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000001}"#, "/hr holds a number out of range"),
    ])
    func wrongTypes(_ payload: String, _ reason: String) throws {
        try expectError(.wrongType, reason, payload: payload)
    }

    @Test("SenML: wrong types", arguments: [
        (#"{"n": "spo2", "v": 97}"#, "a SenML pack must be a JSON array, found object"),
        (#"[{"n": "spo2", "v": "97"}]"#, "SenML record 0 field \"v\" must be a number, found string"),
        (#"[{"n": "spo2", "v": 97}, 5]"#, "SenML record 1 must be an object, found number"),
        (#"[{"n": 7, "v": 97}]"#, "SenML record 0 field \"n\" must be a string, found number"),
        (#"[{"n": "spo2", "u": 1, "v": 97}]"#, "SenML record 0 field \"u\" must be a string, found number"),
        (#"[{"bt": "now", "n": "spo2", "v": 97}]"#, "SenML record 0 field \"bt\" must be a number, found string"),
    ])
    func senmlWrongTypes(_ payload: String, _ reason: String) throws {
        try expectError(.wrongType, reason, topic: Fixtures.senmlTopic, payload: payload)
    }

    @Test("huge values that would overflow a unit conversion or scale are refused, not a crash")
    func overflow() throws {
        let set = try Fixtures.profiles(["conv.yml": conversionProfileYAML])
        // 1e165 kPa × 7.50061683 exceeds Decimal's range (about 3.4e165).
        try expectError(.wrongType, "/bp/s holds a number out of range", topic: "test/d/conv",
                        payload: #"{"ts": 1763719200000, "bp": {"s": 1e165, "d": 10, "m": 12}}"#, profiles: set)
        try expectError(.wrongType, "/glu holds a number out of range", topic: "test/d/conv",
                        payload: #"{"ts": 1763719200000, "glu": -3e165}"#, profiles: set)
        try expectError(.wrongType, "SenML record 0 field \"bv\" holds a number out of range", topic: Fixtures.senmlTopic,
                        payload: #"[{"bv": 1e165, "n": "temp", "u": "Cel", "v": 1e165}]"#)
        try expectError(.wrongType, "SenML record 1 field \"v\" holds a number out of range", topic: Fixtures.senmlTopic,
                        payload: #"[{"bv": 1, "n": "temp", "u": "Cel", "v": 1}, {"n": "temp", "u": "Cel", "v": 1e100}]"#)
        try expectError(.wrongType, "/hr holds a number out of range", payload: #"{"ts": 1763719200000, "hr": -1e100}"#)
        // Large but sane values still decode.
        let big = try decodeAndNormalize(topic: "test/d/conv", payload: #"{"ts": 1763719200000, "glu": 1e40}"#, profiles: set)
        #expect(big.first?.implausible == true)
    }

    @Test("SenML absolute times outside 2000–2100 are refused like JSON ones")
    func senmlTimeRange() throws {
        // Milliseconds where SenML wants seconds: the year 57859.
        try expectError(.invalidTimestamp, "SenML record 0 time 1763719200000.0 is not between 2000 and 2100", topic: Fixtures.senmlTopic,
                        payload: #"[{"bt": 1763719200000, "n": "heartRate", "u": "beat/min", "v": 72}]"#)
        try expectError(.invalidTimestamp, "is not between 2000 and 2100", topic: Fixtures.senmlTopic,
                        payload: #"[{"bt": -300000000, "n": "heartRate", "u": "beat/min", "v": 72}]"#)
        try expectError(.invalidTimestamp, "is not between 2000 and 2100", topic: Fixtures.senmlTopic,
                        payload: #"[{"bt": 1763719200, "n": "heartRate", "u": "beat/min", "v": 72, "t": 1e10}]"#)
        // Relative times (|t| < 2^28) are fine, so is the edge of the window.
        let edge = try decodeAndNormalize(topic: Fixtures.senmlTopic, payload: #"[{"bt": 946684800, "n": "heartRate", "u": "beat/min", "v": 72}]"#,
                                          profiles: try Fixtures.shipped())
        #expect(edge.first?.resource.at("/effectiveDateTime")?.stringValue == "2000-01-01T00:00:00Z")
    }

    @Test("missing or unusable timestamp")
    func timestamps() throws {
        try expectError(.missingField, "timestamp /ts is missing", payload: #"{"hr": 72}"#)
        try expectError(.missingField, "timestamp /ts is missing", payload: #"{"ts": null, "hr": 72}"#)
        // Seconds where milliseconds are expected land in January 1970.
        try expectError(.invalidTimestamp, "timestamp /ts = 1763719200 (epoch-ms) is not between 2000 and 2100", payload: #"{"ts": 1763719200, "hr": 72}"#)
        try expectError(.invalidTimestamp, "is not between 2000 and 2100", payload: #"{"ts": 4102444800000, "hr": 72}"#)
        try expectError(.invalidTimestamp, "is not between 2000 and 2100", payload: #"{"ts": -1, "hr": 72}"#)
        try expectError(.invalidTimestamp, "is not between 2000 and 2100", payload: #"{"ts": 1e60, "hr": 72}"#)
    }

    @Test("RFC 3339 timestamps that are not RFC 3339")
    func badRFC3339() throws {
        let yaml = """
            id: test-rfc
            description: RFC 3339 time
            topic: test/{device}/rfc
            format: json
            timestamp: {pointer: /time, format: rfc3339}
            metrics:
              - {pointer: /hr, mdc: MDC_PULS_RATE_NON_INV, unit: /min}
            """
        let set = try Fixtures.profiles(["rfc.yml": yaml])
        for text in ["2025-11-21 10:00:00Z", "2025-11-21T10:00:00", "2025-13-01T10:00:00Z", "2025-02-30T10:00:00Z", "2025-11-21T25:00:00Z", "yesterday",
                     // An offset no zone has: this trapped the processor before (TimeZone(secondsFromGMT:)!),
                     // and again on every restart, since the record stays next in the inbox.
                     "2025-11-21T10:00:00+20:00", "2025-11-21T10:00:00-14:30"] {
            try expectError(.invalidTimestamp, "is not RFC 3339", topic: "test/d/rfc", payload: #"{"time": "\#(text)", "hr": 72}"#, profiles: set)
        }
        try expectError(.wrongType, "timestamp /time must be an RFC 3339 string, found number", topic: "test/d/rfc", payload: #"{"time": 1763719200, "hr": 72}"#, profiles: set)
    }

    @Test("an incomplete blood-pressure panel", arguments: [
        (#"{"ts": 1763719200000, "bp": {"sys": 118}}"#, "MDC_PRESS_BLD_NONINV is incomplete: missing /bp/dia"),
        (#"{"ts": 1763719200000, "bp": {"dia": 76, "sys": null}}"#, "MDC_PRESS_BLD_NONINV is incomplete: missing /bp/sys"),
    ])
    func incompletePanel(_ payload: String, _ reason: String) throws {
        try expectError(.missingField, reason, payload: payload)
    }

    @Test("SenML: an incomplete blood-pressure panel, and a record without a value")
    func senmlIncompletePanel() throws {
        try expectError(
            .missingField, "MDC_PRESS_BLD_NONINV at t=1763719200.0 is incomplete: missing bpDia", topic: Fixtures.senmlTopic,
            payload: #"[{"bt": 1763719200, "n": "bpSys", "u": "mm[Hg]", "v": 120}]"#)
        // Components at different times are not one panel.
        try expectError(
            .missingField, "is incomplete", topic: Fixtures.senmlTopic,
            payload: #"[{"bt": 1763719200, "n": "bpSys", "u": "mm[Hg]", "v": 120}, {"n": "bpDia", "u": "mm[Hg]", "v": 80, "t": 1}]"#)
        try expectError(.missingField, "record \"spo2\" has no numeric value \"v\"", topic: Fixtures.senmlTopic, payload: #"[{"n": "spo2", "u": "%", "vs": "97"}]"#)
        try expectError(.missingField, "SenML record 0 has no name (n or bn)", topic: Fixtures.senmlTopic, payload: #"[{"u": "%", "v": 97}]"#)
    }

    @Test("unknown topics")
    func unknownTopic() throws {
        for topic in ["wards/w3/devices/wr-0042/other", "wards/w3/devices/wr-0042", "wards/w3/devices/wr-0042/vitals/x", "", "vitals"] {
            try expectError(.unknownTopic, "no profile subscribes to topic \"\(topic)\"", topic: topic, payload: #"{"ts": 1763719200000, "hr": 72}"#)
        }
    }

    @Test("payloads over maxPayloadBytes are refused unread; exactly the limit is fine")
    func oversized() throws {
        let set = try Fixtures.shipped()
        let limit = DeviceProfile.defaultMaxPayloadBytes
        let body = #"{"ts": 1763719200000, "hr": 72}"#
        let exact = body + String(repeating: " ", count: limit - body.utf8.count)
        #expect(exact.utf8.count == limit)
        #expect(try decodeAndNormalize(topic: Fixtures.wearableTopic, payload: exact, profiles: set).count == 1)
        try expectError(.oversized, "payload of 65537 bytes exceeds the profile's limit of 65536", payload: exact + " ")
        // Refused before parsing: not even valid JSON is looked at.
        try expectError(.oversized, "exceeds the profile's limit", payload: [UInt8](repeating: 0xFF, count: limit + 1))

        let yaml = """
            id: test-small
            description: Small payloads
            topic: test/{device}/small
            format: json
            maxPayloadBytes: 40
            metrics:
              - {pointer: /hr, mdc: MDC_PULS_RATE_NON_INV, unit: /min}
            """
        let small = try Fixtures.profiles(["small.yml": yaml])
        #expect(small.profiles.first?.maxPayloadBytes == 40)
        try expectError(.oversized, "payload of 41 bytes exceeds the profile's limit of 40", topic: "test/d/small", payload: #"{"hr": 72"# + String(repeating: " ", count: 31) + "}", profiles: small)
    }

    @Test("invalid UTF-8 in the payload", arguments: [
        [0x7B, 0x22, 0x6E, 0x22, 0x3A, 0x22, 0xC3, 0x28, 0x22, 0x7D],  // {"n":"\xC3("}
        [0x7B, 0x22, 0x68, 0x72, 0x22, 0x3A, 0x37, 0x32, 0x7D, 0xFF],  // {"hr":72} then 0xFF
        [0xED, 0xA0, 0x80],
    ] as [[UInt8]])
    func invalidUTF8(_ payload: [UInt8]) throws {
        try expectError(.invalidUTF8, "payload is not valid UTF-8", payload: payload)
        try expectError(.invalidUTF8, "payload is not valid UTF-8", topic: Fixtures.senmlTopic, payload: payload)
    }

    @Test("device ids from the topic must be plain", arguments: [
        "wards/w3/devices//vitals", "wards/w3/devices/bad id/vitals", "wards/w3/devices/dev$1/vitals", "wards/w3/devices/-dev/vitals",
        "wards/w3/devices/dév/vitals", "wards/w3/devices/+/vitals", "wards/w3/devices/a\u{0}b/vitals",
        "wards/w3/devices/" + String(repeating: "a", count: 129) + "/vitals",
    ])
    func invalidDeviceId(_ topic: String) throws {
        try expectError(.invalidDeviceId, "from the topic is not 1–128 letters, digits, '.', '_', ':' or '-'", topic: topic, payload: #"{"ts": 1763719200000, "hr": 72}"#)
    }

    @Test("plain device ids up to 128 characters are accepted", arguments: [
        "a", "DEV-01", "urn:dev:mac:0024befffe804ff1", "bed_7.sensor", String(repeating: "a", count: 128),
    ])
    func validDeviceId(_ device: String) throws {
        let set = try Fixtures.shipped()
        let observations = try decodeAndNormalize(topic: "wards/w3/devices/\(device)/vitals", payload: #"{"ts": 1763719200000, "hr": 72}"#, profiles: set)
        #expect(observations.first?.deviceId == device)
        #expect(observations.first?.resource.at("/device/identifier/value")?.stringValue == device)
    }

    @Test("SenML unit mismatches, including the UCUM spelling where the SenML one is configured")
    func unitMismatch() throws {
        try expectError(
            .unitMismatch, "record \"spo2\" has unit \"/min\" but the profile expects \"%\"", topic: Fixtures.senmlTopic,
            payload: #"[{"n": "spo2", "u": "/min", "v": 97}]"#)
        try expectError(
            .unitMismatch, "record \"heartRate\" has unit \"/min\" but the profile expects \"beat/min\"", topic: Fixtures.senmlTopic,
            payload: #"[{"n": "heartRate", "u": "/min", "v": 72}]"#)
        try expectError(
            .unitMismatch, "record \"dev:temp\" has unit \"[degF]\" but the profile expects \"Cel\"", topic: Fixtures.senmlTopic,
            payload: #"[{"bn": "dev:", "n": "temp", "u": "[degF]", "v": 98.6}]"#)
    }

    @Test("payloads with none of the profile's metrics", arguments: [
        (Fixtures.wearableTopic, #"{"ts": 1763719200000, "steps": 1000}"#),
        (Fixtures.wearableTopic, #"{"ts": 1763719200000, "hr": null, "spo2": null}"#),
        (Fixtures.wearableTopic, #"{"ts": 1763719200000, "HR": 72}"#),
        (Fixtures.senmlTopic, #"[{"n": "steps", "v": 1000}]"#),
        (Fixtures.senmlTopic, "[]"),
    ])
    func noReadings(_ topic: String, _ payload: String) throws {
        let id = topic == Fixtures.senmlTopic ? "senml-vitals" : "generic-wearable-json"
        try expectError(.noReadings, "the payload holds none of the metrics of profile \(id)", topic: topic, payload: payload)
    }

    @Test("ieee11073-20601 profiles are not decoded by the profile mapping")
    func unsupportedFormat() throws {
        let yaml = """
            id: test-phd
            description: An 11073 agent
            topic: phd/{device}/apdu
            format: ieee11073-20601
            managerTopic: phd/{device}/manager
            """
        let set = try Fixtures.profiles(["phd.yml": yaml])
        #expect(set.profiles.first?.managerTopic == "phd/{device}/manager")
        try expectError(.unsupportedFormat, "decoded by the 11073 manager", topic: "phd/agent-1/apdu", payload: [0xE2, 0x00], profiles: set)
    }

    @Test("every failure kind a profile decode can produce is covered above")
    func kindsCovered() {
        // normalization, protocolError and excludedMeasurement are raised downstream (gateway, 11073 manager), and
        // topicTooLong, deviceIdTooLong and deviceQuota at the router before the inbox commit (GatewayTests.FloodTests, DeviceQuotaTests), not by PayloadDecoder.
        let decoderKinds: Set<DecodeError.Kind> = [
            .unknownTopic, .invalidDeviceId, .oversized, .invalidUTF8, .invalidJSON, .wrongType, .missingField,
            .invalidTimestamp, .unitMismatch, .noReadings, .unsupportedFormat,
        ]
        #expect(Set(DecodeError.Kind.allCases).subtracting(decoderKinds) == [.normalization, .protocolError, .excludedMeasurement, .topicTooLong, .deviceIdTooLong, .deviceQuota])
    }
}
