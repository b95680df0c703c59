import Foundation
import JSONDocument
import Nomenclature
import Observations
import Simulation
import Testing
import WardgateTestSupport

/// The renderer writes the Observation's RFC 8785 bytes without a `JSONValue` tree. It must
/// equal `JCS.canonicalize` of the tree the builder makes, for every shape the normalizer can
/// produce, and the independent Python `rfc8785` must agree with both.
@Suite("Observation renderer against JCS of the built Observation")
struct ObservationRendererTests {
    @Test("3,000 seeded Observations of every shape: rendered bytes equal JCS of the built tree")
    func equalsCanonicalizedTree() throws {
        var random = SeededGenerator(seed: 8785)
        var shapes = Set<String>()
        for index in 0..<3_000 {
            let observation = try RandomObservations.next(&random, index: index)
            let canonical = try observation.canonicalBytes()
            let expected = try JCS.canonicalize(observation.resource)
            #expect(canonical == expected, "case \(index):\n\(String(decoding: canonical, as: UTF8.self))\n\(String(decoding: expected, as: UTF8.self))")
            if canonical != expected { return }
            // The stored form keeps the numbers as written; canonicalizing it gives the signed bytes.
            let stored = try observation.storedBytes()
            let reparsed = try JSONParser.parse(stored)
            #expect(try JCS.canonicalize(reparsed) == canonical)
            #expect(Self.numberLexemes(reparsed) == Self.numberLexemes(observation.resource), "case \(index)")
            shapes.insert(RandomObservations.shape(observation.resource))
        }
        // Every kind of member the builder can write came up.
        for shape in ["component", "dataAbsentReason", "valueQuantity", "meta", "note", "subject", "subject.display"] {
            #expect(shapes.contains { $0.split(separator: " ").contains(Substring(shape)) }, "no case had \(shape)")
        }
    }

    @Test("the independent Python rfc8785 package gives the same bytes for 500 seeded Observations")
    func agreesWithPythonRFC8785() throws {
        var random = SeededGenerator(seed: 7515)
        var stored: [JSONValue] = []
        var ours: [UInt8] = [UInt8(ascii: "[")]
        for index in 0..<500 {
            let observation = try RandomObservations.next(&random, index: index)
            if index > 0 { ours.append(UInt8(ascii: ",")) }
            ours += try observation.canonicalBytes()
            stored.append(try JSONParser.parse(try observation.storedBytes()))
        }
        ours.append(UInt8(ascii: "]"))
        let script = """
            import json, sys, rfc8785
            data = json.loads(sys.stdin.buffer.read(), parse_int=float)
            sys.stdout.buffer.write(rfc8785.dumps(data))
            """
        let result = try ProcessRunner.runTool(["python3", "-c", script], input: JSONValue.array(stored).serializedBytes)
        #expect(result.status == 0, "python rfc8785 failed: \(result.stderr)")
        #expect(Array(result.stdout.utf8) == ours)
    }

    /// Every number lexeme in document order of a walk that sorts object members.
    static func numberLexemes(_ value: JSONValue) -> [String] {
        switch value {
        case .number(let lexeme): [lexeme]
        case .array(let elements): elements.flatMap(numberLexemes)
        case .object(let members): members.sorted { $0.key < $1.key }.flatMap { numberLexemes($0.value) }
        default: []
        }
    }
}

/// Seeded Readings of every shape, normalized as the gateway does: single values and panels
/// (all or some components), numbers as devices write them ("2.0", "-0", exponents, long
/// fractions), values that are not numbers, converted units, implausible values, device times
/// with and without offsets or assumed offsets, none at all, and patient assignments whose
/// strings need escaping.
enum RandomObservations {
    static let strings = ["MRN-0012", "7B-01", "a\"quoted\\one", "tab\there", "line\nbreak", "\u{1}\u{1F}", "é€😀\u{2028}", "", "urn:oid:1.2.3"]

    static func next(_ random: inout SeededGenerator, index: Int) throws -> NormalizedObservation {
        let metric = Nomenclature.metrics[Int(random.next() % UInt64(Nomenclature.metrics.count))]
        let value: ReadingValue
        var range: PlausibleRange?
        if metric.isPanel {
            var components: [ComponentRole: MeasuredValue] = [:]
            for term in metric.components where components.isEmpty || random.next() % 3 != 0 {
                components[term.role] = measured(&random, unit: unit(&random, canonical: metric.canonicalUnit))
            }
            value = .panel(components)
        } else {
            value = .single(measured(&random, unit: unit(&random, canonical: metric.canonicalUnit)))
        }
        if random.next() % 3 == 0 { range = PlausibleRange(low: Decimal(Int(random.next() % 50)), high: Decimal(50 + Int(random.next() % 100))) }
        let assignment: PatientAssignment? = random.next() % 3 == 0
            ? PatientAssignment(system: pick(&random), value: pick(&random), bed: random.next() % 2 == 0 ? pick(&random) : nil) : nil
        let receivedAt = Date(timeIntervalSince1970: Double(946_684_800_000 + Int64(random.next() % 3_000_000_000_000)) / 1000)
        let reading = Reading(deviceId: "dev-\(random.next() % 1000)", metric: metric, value: value, deviceTime: deviceTime(&random))
        return try Normalizer().normalize(reading, receivedAt: receivedAt, plausibleRange: range, assignment: assignment, fallbackKey: "key-\(index)")
    }

    static func pick(_ random: inout SeededGenerator) -> String { strings[Int(random.next() % UInt64(strings.count))] }

    /// Mostly the canonical unit, sometimes one that converts to it.
    static func unit(_ random: inout SeededGenerator, canonical: String) -> String {
        let convertible = UnitConversion.all.filter { $0.to == canonical }
        guard !convertible.isEmpty, random.next() % 2 == 0 else { return canonical }
        return convertible[Int(random.next() % UInt64(convertible.count))].from
    }

    static func measured(_ random: inout SeededGenerator, unit: String) -> MeasuredValue {
        if random.next() % 8 == 0 {
            let reasons: [DataAbsentReason] = [.notANumber, .positiveInfinity, .negativeInfinity, .error, .unknown]
            return .absent(reasons[Int(random.next() % 5)])
        }
        let lexemes = ["72", "2.0", "36.60", "-0", "0.0000001", "1e3", "98.6", "120.5", "1E-7", "123456789012345678", "0.1", "-12.25", "3.14159265358979323846"]
        let lexeme: String
        if random.next() % 2 == 0 {
            lexeme = lexemes[Int(random.next() % UInt64(lexemes.count))]
        } else {
            let scale = Int(random.next() % 4)
            lexeme = DecimalNumber(mantissa: Int(random.next() % 400_000) - 1000, exponent: -scale).text
        }
        return .quantity(Quantity(value: DecimalNumber(lexeme)!, unit: unit))
    }

    static func deviceTime(_ random: inout SeededGenerator) -> DeviceTime? {
        let millis = 946_684_800_000 + Int64(random.next() % 3_000_000_000_000)
        // Whole seconds sometimes, so effectiveDateTime is written without milliseconds.
        let instant = Date(timeIntervalSince1970: Double(random.next() % 3 == 0 ? millis / 1000 * 1000 : millis) / 1000)
        switch random.next() % 5 {
        case 0: return nil
        case 1: return DeviceTime(instant: instant)
        case 2: return DeviceTime(instant: instant, utcOffsetSeconds: 3600, offsetAssumed: true)
        default:
            let offsets = [0, 3600, -3600, 19_800, -34_200, 50_400, -43_200, 45 * 60]
            return DeviceTime(instant: instant, utcOffsetSeconds: offsets[Int(random.next() % UInt64(offsets.count))])
        }
    }

    /// The member names an Observation has, for checking that the generator covers them.
    static func shape(_ resource: JSONValue) -> String {
        var names = (resource.objectMembers ?? []).map(\.key)
        if resource["subject"]?["display"] != nil { names.append("subject.display") }
        return names.joined(separator: " ")
    }
}
