import Foundation
import JSONDocument
import Nomenclature
import Observations

/// `format: senml`: RFC 8428 SenML JSON, records matched to metrics by name.
enum SenMLPayload {
    /// RFC 8428 §4.5.3: times below 2^28 are relative to now.
    static let relativeTimeLimit: Double = 268_435_456

    struct Record {
        let name: String
        let shortName: String
        let unit: String?
        let value: DecimalNumber?
        let time: Double
        let index: Int
    }

    static func decode(_ document: JSONValue, deviceId: String, profile: DeviceProfile, receivedAt: Date) throws(DecodeError) -> [ProfiledReading] {
        let records = try resolve(document)
        var readings: [ProfiledReading] = []
        var consumed = Set<Int>()
        for mapping in profile.metrics {
            switch mapping.source {
            case .field(let name):
                for record in records where matches(record, name) {
                    consumed.insert(record.index)
                    let q = try quantity(record, mapping: mapping)
                    readings.append(reading(deviceId, mapping, .single(.quantity(q)), record.time, receivedAt, profile))
                }
            case .components(let names):
                // Components are grouped by time: one panel per distinct time.
                var byTime: [Double: [ComponentRole: MeasuredValue]] = [:]
                for (role, name) in names {
                    for record in records where matches(record, name) {
                        consumed.insert(record.index)
                        byTime[record.time, default: [:]][role] = .quantity(try quantity(record, mapping: mapping))
                    }
                }
                for (time, components) in byTime.sorted(by: { $0.key < $1.key }) {
                    guard components.count == names.count else {
                        let missing = names.filter { components[$0.key] == nil }.map(\.value).sorted()
                        throw DecodeError(.missingField, "\(mapping.metric.reference) at t=\(time) is incomplete: missing \(missing.joined(separator: ", "))")
                    }
                    readings.append(reading(deviceId, mapping, .panel(components), time, receivedAt, profile))
                }
            }
            if mapping.required && !readings.contains(where: { $0.reading.metric == mapping.metric }) {
                throw DecodeError(.missingField, "required metric \(mapping.metric.reference) is missing")
            }
        }
        return readings
    }

    private static func matches(_ record: Record, _ name: String) -> Bool {
        record.shortName == name || record.name == name
    }

    private static func reading(_ deviceId: String, _ mapping: MetricMapping, _ value: ReadingValue, _ time: Double, _ receivedAt: Date, _ profile: DeviceProfile) -> ProfiledReading {
        let instant = abs(time) < relativeTimeLimit ? receivedAt.addingTimeInterval(time) : Date(timeIntervalSince1970: time)
        return ProfiledReading(
            reading: Reading(deviceId: deviceId, metric: mapping.metric, value: value, deviceTime: DeviceTime(instant: instant)),
            plausibleRange: mapping.range, profileId: profile.id)
    }

    private static func quantity(_ record: Record, mapping: MetricMapping) throws(DecodeError) -> Quantity {
        let expected = mapping.senmlUnit ?? mapping.unit
        if let unit = record.unit, unit != expected {
            throw DecodeError(.unitMismatch, "record \"\(record.name)\" has unit \"\(unit)\" but the profile expects \"\(expected)\"")
        }
        guard let value = record.value else {
            throw DecodeError(.missingField, "record \"\(record.name)\" has no numeric value \"v\"")
        }
        return Quantity(value: PayloadDecoder.scaled(value, by: mapping.scale), unit: mapping.unit)
    }

    /// Applies base fields (bn, bt, bu, bv) to each record, as RFC 8428 §4.6 resolves them.
    private static func resolve(_ document: JSONValue) throws(DecodeError) -> [Record] {
        guard case .array(let elements) = document else {
            throw DecodeError(.wrongType, "a SenML pack must be a JSON array, found \(document.typeName)")
        }
        var baseName = ""
        var baseTime: Double = 0
        var baseUnit: String?
        var baseValue: DecimalNumber?
        var records: [Record] = []
        for (index, element) in elements.enumerated() {
            guard case .object = element else {
                throw DecodeError(.wrongType, "SenML record \(index) must be an object, found \(element.typeName)")
            }
            func string(_ key: String) throws(DecodeError) -> String? {
                guard let node = element[key] else { return nil }
                guard case .string(let s) = node else { throw DecodeError(.wrongType, "SenML record \(index) field \"\(key)\" must be a string, found \(node.typeName)") }
                return s
            }
            func number(_ key: String) throws(DecodeError) -> DecimalNumber? {
                guard let node = element[key] else { return nil }
                return try PayloadDecoder.number(node, at: "SenML record \(index) field \"\(key)\"")
            }
            if let bn = try string("bn") { baseName = bn }
            if let bt = try number("bt") { baseTime = bt.doubleValue }
            if let bu = try string("bu") { baseUnit = bu }
            if let bv = try number("bv") { baseValue = bv }
            let name = try string("n") ?? ""
            // bv + v, with the finer precision of the two (36.5 + 1 is 37.5, not 38).
            let value = try number("v").map { v in
                baseValue.map { $0.adding(v) } ?? v
            }
            let time = baseTime + (try number("t")?.doubleValue ?? 0)
            guard time.isFinite else { throw DecodeError(.invalidTimestamp, "SenML record \(index) has a time out of range") }
            // Absolute times (|time| >= 2^28) get the same 2000–2100 window as JSON timestamps.
            if abs(time) >= relativeTimeLimit && !(946_684_800.0..<4_102_444_800.0).contains(time) {
                throw DecodeError(.invalidTimestamp, "SenML record \(index) time \(time) is not between 2000 and 2100")
            }
            let fullName = baseName + name
            guard !fullName.isEmpty else {
                if element["bn"] != nil || element["bt"] != nil || element["bu"] != nil { continue }
                throw DecodeError(.missingField, "SenML record \(index) has no name (n or bn)")
            }
            records.append(Record(name: fullName, shortName: name, unit: try string("u") ?? baseUnit, value: value, time: time, index: index))
        }
        return records
    }
}
