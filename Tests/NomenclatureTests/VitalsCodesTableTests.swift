import Foundation
import Nomenclature
import Testing

/// `shared/testdata/vitals-codes.json`, read with Foundation's JSONSerialization: a reader that
/// shares no code with the project's own JSON parser.
enum VitalsCodes {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    /// Walks up from this file until `<dir>/shared/testdata` exists.
    static func testdataDirectory() throws -> URL {
        var directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        while directory.path != "/" {
            let candidate = directory.appendingPathComponent("shared/testdata")
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: candidate.path, isDirectory: &isDirectory), isDirectory.boolValue {
                return candidate
            }
            directory.deleteLastPathComponent()
        }
        throw Failure(description: "no shared/testdata above \(#filePath)")
    }

    static func load() throws -> [String: Any] {
        let url = try testdataDirectory().appendingPathComponent("vitals-codes.json")
        let data = try Data(contentsOf: url)
        guard let root = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw Failure(description: "\(url.path) is not a JSON object")
        }
        return root
    }

    static func entries(_ key: String) throws -> [[String: Any]] {
        guard let list = try load()[key] as? [[String: Any]], !list.isEmpty else {
            throw Failure(description: "vitals-codes.json has no non-empty \"\(key)\" list")
        }
        return list
    }
}

/// Typed accessors that fail the test, rather than defaulting, when the JSON lacks a field.
private func string(_ entry: [String: Any], _ key: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> String {
    try #require(entry[key] as? String, "field \"\(key)\" missing or not a string in \(entry)", sourceLocation: sourceLocation)
}

private func integer(_ entry: [String: Any], _ key: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> Int {
    let number = try #require(entry[key] as? NSNumber, "field \"\(key)\" missing or not a number in \(entry)", sourceLocation: sourceLocation)
    #expect(number.doubleValue == Double(number.intValue), "\(key) is not an integer", sourceLocation: sourceLocation)
    return number.intValue
}

/// The LOINC field: a string, or JSON null when the term has no LOINC code. Absence is an error.
private func loinc(_ entry: [String: Any], sourceLocation: SourceLocation = #_sourceLocation) throws -> String? {
    let value = try #require(entry["loinc"], "field \"loinc\" missing in \(entry)", sourceLocation: sourceLocation)
    if value is NSNull { return nil }
    return try #require(value as? String, "loinc must be a string or null in \(entry)", sourceLocation: sourceLocation)
}

@Suite("Nomenclature agrees with shared/testdata/vitals-codes.json")
struct VitalsCodesTableTests {
    @Test("every metric of the testdata is in the table with the same term, code, LOINC, display and UCUM unit")
    func metricsAgree() throws {
        let metrics = try VitalsCodes.entries("metrics")
        #expect(metrics.count == 9)
        for entry in metrics {
            let reference = try string(entry, "mdc")
            let term = try #require(Nomenclature.metric(named: reference), "\(reference) is not in the table")
            let partition = try integer(entry, "partition")
            let termCode = try integer(entry, "term")
            let code = try integer(entry, "code")

            // The testdata is self-consistent: code = partition << 16 | term.
            #expect(code == partition << 16 | termCode, "testdata \(reference): code \(code) != \(partition) << 16 | \(termCode)")

            #expect(term.reference == reference)
            #expect(Int(term.partition) == partition, "\(reference) partition")
            #expect(Int(term.term) == termCode, "\(reference) term")
            #expect(Int(term.code) == code, "\(reference) combined code")
            #expect(Int(Nomenclature.combinedCode(partition: term.partition, term: term.term)) == code)
            #expect(term.loinc == (try loinc(entry)), "\(reference) LOINC")
            #expect(term.display == (try string(entry, "display")), "\(reference) display")
            #expect(term.canonicalUnit == (try string(entry, "ucum")), "\(reference) UCUM unit")

            // Every way of looking the term up finds the same entry.
            #expect(Nomenclature.metric(code: UInt32(code)) == term, "\(reference) by code")
            #expect(Nomenclature.metric(named: String(code)) == term, "\(reference) by decimal code text")
            #expect(Nomenclature.metric(term: UInt16(termCode)) == term, "\(reference) by 16-bit term")

            let components = entry["components"] as? [[String: Any]] ?? []
            #expect(term.isPanel == !components.isEmpty, "\(reference) panel-ness")
            #expect(term.components.count == components.count, "\(reference) component count")
        }
    }

    @Test("every component of the testdata (BP systolic, diastolic, mean) agrees, in order, with its role")
    func componentsAgree() throws {
        let metrics = try VitalsCodes.entries("metrics")
        var checked = 0
        for panel in metrics {
            guard let components = panel["components"] as? [[String: Any]] else { continue }
            let panelReference = try string(panel, "mdc")
            let panelTerm = try #require(Nomenclature.metric(named: panelReference))
            for (index, entry) in components.enumerated() {
                let reference = try string(entry, "mdc")
                let termCode = try integer(entry, "term")
                let code = try integer(entry, "code")
                #expect(code == Int(Nomenclature.scadaPartition) << 16 | termCode, "testdata \(reference): code is not 2 << 16 | term")

                let component = try #require(panelTerm.components.first { $0.reference == reference }, "\(reference) missing from \(panelReference)")
                #expect(panelTerm.components[index].reference == reference, "\(reference) is not component #\(index)")
                #expect(Int(component.term) == termCode, "\(reference) term")
                #expect(Int(component.code) == code, "\(reference) combined code")
                #expect(component.loinc == (try loinc(entry)), "\(reference) LOINC")
                #expect(component.display == (try string(entry, "display")), "\(reference) display")

                // The role follows from the reference id's suffix.
                let expectedRole: ComponentRole? =
                    reference.hasSuffix("_SYS") ? .systolic : reference.hasSuffix("_DIA") ? .diastolic : reference.hasSuffix("_MEAN") ? .mean : nil
                #expect(component.role == expectedRole, "\(reference) role")
                #expect(panelTerm.component(component.role) == component)

                let found = try #require(Nomenclature.component(code: UInt32(code)), "component(code: \(code)) is nil")
                #expect(found.panel == panelTerm)
                #expect(found.component == component)
                // A component code is not a metric of its own.
                #expect(Nomenclature.metric(code: UInt32(code)) == nil)
                checked += 1
            }
        }
        #expect(checked == 3, "expected the three blood-pressure components, checked \(checked)")
    }

    @Test("the blood-pressure panel is 85354-9 / MDC 150020 with 150021 8480-6 and 150022 8462-4")
    func bloodPressurePanel() throws {
        let panel = try #require(Nomenclature.metric(named: "MDC_PRESS_BLD_NONINV"))
        #expect(panel.code == 150_020)
        #expect(panel.loinc == "85354-9")
        #expect(panel.canonicalUnit == "mm[Hg]")
        #expect(panel.component(.systolic)?.code == 150_021)
        #expect(panel.component(.systolic)?.loinc == "8480-6")
        #expect(panel.component(.diastolic)?.code == 150_022)
        #expect(panel.component(.diastolic)?.loinc == "8462-4")
        #expect(panel.component(.mean)?.code == 150_023)
        #expect(panel.component(.mean)?.loinc == nil)
    }

    @Test("every unit of the testdata is in the table with the same term, code (partition 4) and UCUM")
    func unitsAgree() throws {
        let units = try VitalsCodes.entries("units")
        #expect(units.count == 11)
        for entry in units {
            let reference = try string(entry, "mdc")
            let termCode = try integer(entry, "term")
            let code = try integer(entry, "code")
            let ucum = try string(entry, "ucum")
            #expect(code == Int(Nomenclature.dimensionPartition) << 16 | termCode, "testdata \(reference): code is not 4 << 16 | term")

            let unit = try #require(Nomenclature.units.first { $0.reference == reference }, "\(reference) is not in the table")
            #expect(Int(unit.term) == termCode, "\(reference) term")
            #expect(Int(unit.code) == code, "\(reference) combined code")
            #expect(unit.ucum == ucum, "\(reference) UCUM")
            #expect(Nomenclature.unit(term: UInt16(termCode)) == unit, "\(reference) by term")
        }
    }

    @Test("the table holds nothing beyond the testdata except the documented 11073 extras")
    func noUndocumentedEntries() throws {
        let metricNames = Set(try VitalsCodes.entries("metrics").map { try string($0, "mdc") })
        let unitNames = Set(try VitalsCodes.entries("units").map { try string($0, "mdc") })
        let extraMetrics = Set(Nomenclature.metrics.map(\.reference)).subtracting(metricNames)
        let extraUnits = Set(Nomenclature.units.map(\.reference)).subtracting(unitNames)
        // BMI, height and body fat: reported by 10415 weighing scales / body-composition analyzers.
        #expect(extraMetrics == ["MDC_RATIO_MASS_BODY_LEN_SQ", "MDC_LEN_BODY_ACTUAL", "MDC_BODY_FAT"])
        #expect(extraUnits == ["MDC_DIM_KG_PER_M_SQ", "MDC_DIM_CENTI_M", "MDC_DIM_INCH"])

        // The extras follow the same coding rule and are all in the SCADA / dimension partitions.
        for metric in Nomenclature.metrics {
            #expect(metric.partition == Nomenclature.scadaPartition)
            #expect(metric.code == UInt32(metric.partition) << 16 | UInt32(metric.term))
        }
        for unit in Nomenclature.units {
            #expect(unit.code == UInt32(Nomenclature.dimensionPartition) << 16 | UInt32(unit.term))
        }
    }

    @Test("reference ids, codes and unit terms are unique; every metric's unit has an MDC unit term")
    func uniqueness() {
        let references = Nomenclature.metrics.map(\.reference) + Nomenclature.metrics.flatMap { $0.components.map(\.reference) }
        #expect(Set(references).count == references.count)
        let codes = Nomenclature.metrics.map(\.code) + Nomenclature.metrics.flatMap { $0.components.map(\.code) }
        #expect(Set(codes).count == codes.count)
        #expect(Set(Nomenclature.units.map(\.term)).count == Nomenclature.units.count)
        #expect(Set(Nomenclature.units.map(\.reference)).count == Nomenclature.units.count)
        let ucumUnits = Set(Nomenclature.units.map(\.ucum))
        for metric in Nomenclature.metrics {
            #expect(ucumUnits.contains(metric.canonicalUnit), "\(metric.reference)'s unit \(metric.canonicalUnit) has no MDC unit term")
        }
    }

    @Test("the code systems and the vital-signs category agree with the testdata")
    func systems() throws {
        let root = try VitalsCodes.load()
        let category = try #require(root["category"] as? [String: Any])
        #expect(Nomenclature.categorySystem == (try string(category, "system")))
        #expect(Nomenclature.vitalSignsCategory == (try string(category, "code")))
        #expect(Nomenclature.ucumSystem == (try string(root, "ucumSystem")))
        #expect(Nomenclature.mdcSystem == (try string(root, "mdcSystem")))
        #expect(Nomenclature.loincSystem == (try string(root, "loincSystem")))
        // Pinned as well, so the testdata cannot drift together with the table unnoticed.
        #expect(Nomenclature.categorySystem == "http://terminology.hl7.org/CodeSystem/observation-category")
        #expect(Nomenclature.mdcSystem == "urn:iso:std:iso:11073:10101")
        #expect(Nomenclature.loincSystem == "http://loinc.org")
        #expect(Nomenclature.ucumSystem == "http://unitsofmeasure.org")
    }

    @Test("unknown names, codes and terms are not found")
    func unknownLookups() {
        #expect(Nomenclature.metric(named: "MDC_NOT_A_TERM") == nil)
        #expect(Nomenclature.metric(named: "") == nil)
        #expect(Nomenclature.metric(named: "mdc_temp_body") == nil)
        #expect(Nomenclature.metric(named: "19292") == nil, "a bare 16-bit term is not a combined code")
        #expect(Nomenclature.metric(code: 0) == nil)
        #expect(Nomenclature.metric(term: 1) == nil)
        #expect(Nomenclature.component(code: 150_020) == nil, "the panel itself is not a component")
        #expect(Nomenclature.unit(term: 0) == nil)
    }
}
