import DeviceProfiles
import Foundation
import JSONDocument
import Nomenclature
import Observations
import Testing
import WardgateTestSupport

/// Every kind of Observation the gateway produces from profiles and the normalizer.
enum ObservationCorpus {
    struct Case {
        let label: String
        let observation: NormalizedObservation
        let receivedAt: Date
        /// The device time the Observation should say, or nil when it should fall back to the receive time.
        let effectiveText: String?
    }

    static func build() throws -> [Case] {
        var cases: [Case] = []
        let shipped = try Fixtures.shipped()
        func add(_ label: String, topic: String, payload: String, profiles: ProfileSet, effective: String?) throws {
            for observation in try decodeAndNormalize(topic: topic, payload: payload, profiles: profiles) {
                cases.append(Case(label: label, observation: observation, receivedAt: Fixtures.receivedAt, effectiveText: effective))
            }
        }
        // Every shipped profile, every metric of it.
        try add("wearable", topic: Fixtures.wearableTopic,
                payload: #"{"ts": 1763719200000, "hr": 72, "spo2": 97, "rr": 16, "temp_c": 36.8, "bp": {"sys": 118, "dia": 76}}"#,
                profiles: shipped, effective: "2025-11-21T10:00:00Z")
        try add("wearable °F", topic: Fixtures.wearableTopic, payload: #"{"ts": 1763719200123, "temp_f": 98.6}"#,
                profiles: shipped, effective: "2025-11-21T10:00:00.123Z")
        try add("senml", topic: Fixtures.senmlTopic, payload: #"""
            [{"bn": "urn:dev:mac:0024befffe804ff1:", "bt": 1763719200.5},
             {"n": "heartRate", "u": "beat/min", "v": 72}, {"n": "spo2", "u": "%", "v": 97},
             {"n": "respRate", "u": "breaths/min", "v": 14}, {"n": "temp", "u": "Cel", "v": 36.9},
             {"n": "bpSys", "u": "mm[Hg]", "v": 121}, {"n": "bpDia", "u": "mm[Hg]", "v": 79}]
            """#, profiles: shipped, effective: "2025-11-21T10:00:00.500Z")
        // Implausible values: a single value and a panel component.
        try add("implausible", topic: Fixtures.wearableTopic, payload: #"{"ts": 1763719200000, "hr": 350, "bp": {"sys": 310, "dia": 76}}"#,
                profiles: shipped, effective: "2025-11-21T10:00:00Z")
        // Converted units, a metric without LOINC, the mean pressure component.
        let conversions = try Fixtures.profiles(["conv.yml": conversionProfileYAML])
        try add("conversions", topic: "test/d/conv",
                payload: #"{"ts": 1763719200000, "glu": 5.5, "wt": 154.0, "bp": {"s": 16.0, "d": 10.7, "m": 12.5}, "h": 70.0}"#,
                profiles: conversions, effective: "2025-11-21T10:00:00Z")
        // No device time.
        let noTime = try Fixtures.profiles(["nt.yml": """
            id: test-no-time
            description: No timestamp
            topic: test/{device}/nt
            format: json
            metrics:
              - {pointer: /hr, mdc: MDC_PULS_RATE_NON_INV, unit: /min}
            """])
        try add("no device time", topic: "test/d/nt", payload: #"{"hr": 72}"#, profiles: noTime, effective: nil)

        // Values that are not numbers, built through the Normalizer as the 11073 manager does.
        let time = DeviceTime(instant: Fixtures.deviceTime)
        let hr = try #require(Nomenclature.metric(named: "MDC_PULS_OXIM_PULS_RATE"))
        let temp = try #require(Nomenclature.metric(named: "MDC_TEMP_BODY"))
        let bp = try #require(Nomenclature.metric(named: "MDC_PRESS_BLD_NONINV"))
        let absentReadings: [(String, Reading)] = [
            ("absent NaN", Reading(deviceId: "agent-1", metric: hr, value: .single(.absent(.notANumber)), deviceTime: time)),
            ("absent +INF", Reading(deviceId: "agent-1", metric: temp, value: .single(.absent(.positiveInfinity)), deviceTime: time)),
            ("absent error", Reading(deviceId: "agent-1", metric: temp, value: .single(.absent(.error)), deviceTime: nil)),
            ("absent component", Reading(deviceId: "agent-1", metric: bp, value: .panel([
                .systolic: .absent(.negativeInfinity), .diastolic: .quantity(Quantity(value: DecimalNumber("80")!, unit: "mm[Hg]")),
                .mean: .absent(.unknown),
            ]), deviceTime: time)),
        ]
        for (label, reading) in absentReadings {
            let observation = try Normalizer().normalize(reading, receivedAt: Fixtures.receivedAt, plausibleRange: PlausibleRange(low: 1, high: 2), fallbackKey: label)
            cases.append(Case(label: label, observation: observation, receivedAt: Fixtures.receivedAt, effectiveText: reading.deviceTime == nil ? nil : "2025-11-21T10:00:00Z"))
        }
        // A patient assignment and an assumed offset.
        let assigned = try Normalizer().normalize(
            Reading(deviceId: "agent-2", metric: temp, value: .single(.quantity(Quantity(value: DecimalNumber("36.6")!, unit: "Cel"))),
                    deviceTime: DeviceTime(instant: Fixtures.deviceTime, utcOffsetSeconds: -5 * 3600, offsetAssumed: true)),
            receivedAt: Fixtures.receivedAt,
            assignment: PatientAssignment(system: "urn:oid:2.16.840.1.113883.19.5", value: "MRN-0001", bed: "4B"))
        cases.append(Case(label: "assigned", observation: assigned, receivedAt: Fixtures.receivedAt, effectiveText: "2025-11-21T05:00:00-05:00"))
        return cases
    }
}

/// Runs `python3 validate_fhir.py FILE`; a missing python3 or package is a failure, not a skip.
func runValidator(on file: URL) throws -> (status: Int32, stdout: String, stderr: String) {
    let script = Paths.fhirValidator
    try #require(FileManager.default.fileExists(atPath: script.path), "missing \(script.path)")
    let result = try ProcessRunner.runTool(["python3", script.path, file.path])
    let (stdout, stderr) = (result.stdout, result.stderr)
    // 127: env found no python3. 3: fhir.resources is not installed. Both must fail the test.
    #expect(result.status != 127, "python3 is not on PATH: the FHIR check cannot run")
    #expect(result.status != 3, "fhir.resources is missing (pip install fhir.resources): \(stderr)")
    return (result.status, stdout, stderr)
}

@Suite("FHIR R4 structure of produced Observations")
struct FHIRStructureTests {
    @Test("every produced Observation validates against the fhir.resources R4B model (independent check)")
    func independentValidation() throws {
        let cases = try ObservationCorpus.build()
        #expect(cases.count == 23)
        // Every kind is represented: each shipped profile, a panel, implausible, data absent, no device time.
        let labels = Set(cases.map(\.label))
        #expect(labels.isSuperset(of: ["wearable", "senml", "implausible", "absent component", "no device time"]))
        #expect(cases.contains { $0.observation.resource["component"] != nil })
        #expect(cases.contains { $0.observation.implausible })
        #expect(cases.contains { $0.observation.resource["dataAbsentReason"] != nil })

        let directory = try TemporaryDirectory()
        let file = directory.url.appendingPathComponent("observations.ndjson")
        let ndjson = cases.map { $0.observation.resource.serialized + "\n" }.joined()
        #expect(!cases.contains { $0.observation.resource.serialized.contains("\n") }, "NDJSON lines must be single lines")
        try Data(ndjson.utf8).write(to: file)

        let result = try runValidator(on: file)
        #expect(result.status == 0, "validate_fhir.py exited \(result.status):\n\(result.stderr)")
        #expect(result.stdout == "validated \(cases.count) Observations\n")
    }

    @Test("the validator is not a rubber stamp: it rejects broken Observations")
    func validatorRejects() throws {
        let good = try #require(try ObservationCorpus.build().first).observation.resource
        guard case .object(let members) = good else { throw TestFailure("not an object") }
        func replacing(_ key: String, with value: JSONValue?) -> JSONValue {
            .object(members.compactMap { $0.key == key ? value.map { JSONMember(key, $0) } : $0 })
        }
        let broken: [(String, JSONValue)] = [
            ("unknown element", .object(members + [JSONMember("valueQuantityy", ["value": 1])])),
            ("value as a JSON string", replacing("valueQuantity", with: ["value": "72", "unit": "/min"])),
            ("value not a decimal", replacing("valueQuantity", with: ["value": "seventy", "unit": "/min"])),
            ("dateTime without an offset", replacing("effectiveDateTime", with: "2025-11-21T10:00:00")),
            ("issued as a date only", replacing("issued", with: "2025-11-21")),
            ("no code", replacing("code", with: nil)),
            ("status not a code", replacing("status", with: "done")),
            ("value and dataAbsentReason", .object(members + [JSONMember("dataAbsentReason", ["text": "x"])])),
            ("bad id", replacing("id", with: "not an id!")),
        ]
        let directory = try TemporaryDirectory()
        for (label, resource) in broken {
            let file = directory.url.appendingPathComponent("broken-\(label.filter(\.isLetter)).ndjson")
            try Data((good.serialized + "\n" + resource.serialized + "\n").utf8).write(to: file)
            let result = try runValidator(on: file)
            #expect(result.status == 1, "\(label): exit \(result.status)\n\(result.stderr)")
            #expect(result.stderr.contains("line 2 "), "\(label): \(result.stderr)")
            #expect(!result.stderr.contains("line 1 "), "\(label): the good line was rejected: \(result.stderr)")
        }
    }

    @Test("the key FHIR fields, checked in Swift for every produced Observation")
    func keyFields() throws {
        for c in try ObservationCorpus.build() {
            let r = c.observation.resource
            let metric = try #require(Nomenclature.metric(code: c.observation.metricCode), "\(c.label)")
            let label = "\(c.label) \(metric.reference)"

            #expect(r.objectMembers?.first?.key == "resourceType", "\(label)")
            #expect(r["resourceType"] == "Observation", "\(label)")
            #expect(r["status"] == "final", "\(label)")
            #expect(r.at("/id")?.stringValue == c.observation.id, "\(label)")
            let id = try #require(r.at("/id")?.stringValue)
            #expect((1...64).contains(id.count) && id.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == ".") }, "\(label)")

            #expect(r.at("/category")?.arrayValue?.count == 1, "\(label)")
            #expect(r.codings("/category/0").map(\.system) == ["http://terminology.hl7.org/CodeSystem/observation-category"], "\(label)")
            #expect(r.codings("/category/0").map(\.code) == ["vital-signs"], "\(label)")

            // code.coding: LOINC (where the table has one) and MDC with the decimal 32-bit code.
            let expectedCodings = (metric.loinc.map { [("http://loinc.org", $0)] } ?? []) + [("urn:iso:std:iso:11073:10101", String(metric.code))]
            #expect(r.codings("/code").map { "\($0.system)|\($0.code)" } == expectedCodings.map { "\($0.0)|\($0.1)" }, "\(label)")
            #expect(r.at("/code/text")?.stringValue == metric.display, "\(label)")

            // Values in the canonical UCUM unit, or a data-absent reason, never both.
            func checkValue(_ element: JSONValue, _ where_: String) {
                if let quantity = element["valueQuantity"] {
                    #expect(quantity["system"] == "http://unitsofmeasure.org", "\(label) \(where_)")
                    #expect(quantity["code"]?.stringValue == metric.canonicalUnit, "\(label) \(where_)")
                    #expect(quantity["unit"]?.stringValue == metric.canonicalUnit, "\(label) \(where_)")
                    #expect(quantity["value"]?.numberLexeme.flatMap(DecimalNumber.init) != nil, "\(label) \(where_)")
                    #expect(element["dataAbsentReason"] == nil, "\(label) \(where_)")
                } else {
                    let reason = element.codings("/dataAbsentReason")
                    #expect(reason.map(\.system) == ["http://terminology.hl7.org/CodeSystem/data-absent-reason"], "\(label) \(where_)")
                    #expect(reason.allSatisfy { ["not-a-number", "positive-infinity", "negative-infinity", "error", "unknown"].contains($0.code) })
                }
            }
            if metric.isPanel {
                #expect(r["valueQuantity"] == nil && r["dataAbsentReason"] == nil, "\(label)")
                let components = try #require(r["component"]?.arrayValue, "\(label)")
                #expect(!components.isEmpty)
                for (index, component) in components.enumerated() {
                    let mdc = component.conceptCodes("/code").mdc
                    let term = try #require(mdc.first.flatMap(UInt32.init).flatMap { Nomenclature.component(code: $0) }, "\(label)")
                    #expect(term.panel == metric, "\(label)")
                    #expect(component.conceptCodes("/code").loinc == (term.component.loinc.map { [$0] } ?? []), "\(label)")
                    checkValue(component, "component[\(index)]")
                }
                // Components come in the table's order: systolic, diastolic, mean.
                let roles = components.compactMap { $0.conceptCodes("/code").mdc.first.flatMap(UInt32.init).flatMap { Nomenclature.component(code: $0)?.component.role } }
                #expect(roles == ComponentRole.allCases.filter { roles.contains($0) }, "\(label)")
            } else {
                #expect(r["component"] == nil, "\(label)")
                checkValue(r, "value")
            }

            // Device time and receive time are separate fields.
            let issued = FHIRTime.instant(c.receivedAt)
            #expect(r["issued"]?.stringValue == issued, "\(label)")
            #expect(c.observation.issuedAt == c.receivedAt, "\(label)")
            if let effective = c.effectiveText {
                #expect(r["effectiveDateTime"]?.stringValue == effective, "\(label)")
                #expect(effective != issued, "\(label)")
                #expect(!r.notes.contains { $0.contains("no measurement time") }, "\(label)")
            } else {
                #expect(r["effectiveDateTime"]?.stringValue == issued, "\(label)")
                #expect(c.observation.effectiveAt == c.receivedAt, "\(label)")
                #expect(r.notes.contains("The device sent no measurement time; effectiveDateTime is the gateway receive time."), "\(label)")
            }

            #expect(r.at("/device/identifier/system") == "urn:wardgate:device", "\(label)")
            #expect(r.at("/device/identifier/value")?.stringValue == c.observation.deviceId, "\(label)")

            // Flags agree with the resource.
            #expect((r.at("/meta/tag/0/code") == "implausible") == c.observation.implausible, "\(label)")
            // The written JSON reads back as the same document.
            #expect(try JSONParser.parse(r.serialized) == r, "\(label)")
        }
    }

    @Test("the implausible case is tagged and noted; data-absent cases carry no value")
    func specialCases() throws {
        let cases = try ObservationCorpus.build()
        let implausible = cases.filter { $0.label == "implausible" }
        #expect(implausible.count == 2)
        #expect(implausible.allSatisfy { $0.observation.implausible })
        #expect(implausible.allSatisfy { $0.observation.resource.notes.count == 1 && $0.observation.resource.notes[0].hasPrefix("Implausible value kept as reported: ") })

        let nan = try #require(cases.first { $0.label == "absent NaN" }).observation.resource
        #expect(nan.codings("/dataAbsentReason").map(\.code) == ["not-a-number"])
        #expect(nan["valueQuantity"] == nil)
        let component = try #require(cases.first { $0.label == "absent component" }).observation.resource
        #expect(component.codings("/component/0/dataAbsentReason").map(\.code) == ["negative-infinity"])
        #expect(component.at("/component/1/valueQuantity/value") == .number("80"))
        #expect(component.codings("/component/2/dataAbsentReason").map(\.code) == ["unknown"])

        let assigned = try #require(cases.first { $0.label == "assigned" }).observation.resource
        #expect(assigned.at("/subject/identifier/value") == "MRN-0001")
        #expect(assigned.at("/subject/display") == "Bed 4B")
        #expect(assigned.notes == ["The device time carried no UTC offset; the gateway's offset -05:00 was applied."])
    }
}
