import Foundation
import JSONDocument
import Nomenclature
import Observations

/// `format: json`: metrics located by JSON pointers.
enum JSONPayload {
    static func decode(_ document: JSONValue, deviceId: String, profile: DeviceProfile) throws(DecodeError) -> [ProfiledReading] {
        guard case .object = document else {
            throw DecodeError(.wrongType, "payload must be a JSON object, found \(document.typeName)")
        }
        let deviceTime = try timestamp(document, profile: profile)
        var readings: [ProfiledReading] = []
        for mapping in profile.metrics {
            let value: ReadingValue?
            switch mapping.source {
            case .field(let pointerText):
                value = try quantity(document, pointerText, mapping: mapping).map { .single(.quantity($0)) }
            case .components(let pointers):
                var components: [ComponentRole: MeasuredValue] = [:]
                for (role, pointerText) in pointers {
                    if let q = try quantity(document, pointerText, mapping: mapping) { components[role] = .quantity(q) }
                }
                if !components.isEmpty && components.count != pointers.count {
                    let missing = pointers.filter { components[$0.key] == nil }.map(\.value).sorted()
                    throw DecodeError(.missingField, "\(mapping.metric.reference) is incomplete: missing \(missing.joined(separator: ", "))")
                }
                value = components.isEmpty ? nil : .panel(components)
            }
            guard let value else {
                if mapping.required { throw DecodeError(.missingField, "required metric \(mapping.metric.reference) is missing") }
                continue
            }
            readings.append(ProfiledReading(
                reading: Reading(deviceId: deviceId, metric: mapping.metric, value: value, deviceTime: deviceTime),
                plausibleRange: mapping.range, profileId: profile.id))
        }
        return readings
    }

    /// Nil when the field is absent or null (not measured this time).
    private static func quantity(_ document: JSONValue, _ pointerText: String, mapping: MetricMapping) throws(DecodeError) -> Quantity? {
        guard let pointer = JSONPointer(pointerText), let node = pointer.resolve(in: document), node != .null else { return nil }
        let value = try PayloadDecoder.number(node, at: pointerText)
        return Quantity(value: PayloadDecoder.scaled(value, by: mapping.scale), unit: mapping.unit)
    }

    private static func timestamp(_ document: JSONValue, profile: DeviceProfile) throws(DecodeError) -> DeviceTime? {
        guard let location = profile.timestamp else { return nil }
        guard let node = location.pointer.resolve(in: document), node != .null else {
            throw DecodeError(.missingField, "timestamp \(location.pointer) is missing")
        }
        switch location.format {
        case .rfc3339:
            guard case .string(let text) = node else {
                throw DecodeError(.wrongType, "timestamp \(location.pointer) must be an RFC 3339 string, found \(node.typeName)")
            }
            guard let parsed = FHIRTime.parseRFC3339(text) else {
                throw DecodeError(.invalidTimestamp, "timestamp \(location.pointer) \"\(text.prefix(40))\" is not RFC 3339")
            }
            return DeviceTime(instant: parsed.date, utcOffsetSeconds: parsed.utcOffsetSeconds)
        case .epochSeconds, .epochMilliseconds:
            let number = try PayloadDecoder.number(node, at: location.pointer.description)
            let seconds = EpochTime.seconds(number, inMilliseconds: location.format == .epochMilliseconds)
            // Years 2000–2100: anything else is a device with a wrong clock or the wrong unit.
            guard seconds >= EpochTime.earliest, seconds < EpochTime.latest else {
                throw DecodeError(.invalidTimestamp, "timestamp \(location.pointer) = \(number) (\(location.format.rawValue)) is not between 2000 and 2100")
            }
            return DeviceTime(instant: Date(timeIntervalSince1970: seconds))
        }
    }
}
