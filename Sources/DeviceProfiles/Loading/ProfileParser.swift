import Foundation
import JSONDocument
import Nomenclature
import Observations
import StrictYAML
import Yams

/// Reads one profile document, reporting every problem with its field path.
enum ProfileParser {
    static func parse(_ text: String, file: String) -> Result<DeviceProfile, YAMLIssues> {
        let reader = YAMLReader(file: file)
        guard let root = reader.root(text) else { return .failure(YAMLIssues(reader.issues)) }
        let profile = parse(root, file: file)
        root.finish()
        if let profile, reader.issues.isEmpty { return .success(profile) }
        return .failure(YAMLIssues(reader.issues))
    }

    private static func parse(_ root: YAMLObject, file: String) -> DeviceProfile? {
        let reader = root.reader
        let id = root.string("id")
        if let id, !PlainIdentifier.isValid(id, maxLength: 64, extra: [".", "_", "-"], lowercaseOnly: true) {
            reader.report("id", "must be 1–64 lower-case letters, digits, '.', '_' or '-', found \"\(id)\"")
        }
        let description = root.string("description")
        var topic: TopicPattern?
        if let text = root.string("topic") {
            do { topic = try TopicPattern(text) } catch { reader.report("topic", error.description) }
        }
        let format = root.choice("format", PayloadFormat.allCases.map(\.rawValue)).flatMap(PayloadFormat.init(rawValue:))
        let maxPayload = root.optionalInt("maxPayloadBytes") ?? DeviceProfile.defaultMaxPayloadBytes
        if maxPayload <= 0 || maxPayload > 16 << 20 {
            reader.report("maxPayloadBytes", "must be between 1 and 16777216")
        }
        let timestamp = root.optionalObject("timestamp").flatMap(parseTimestamp)

        var metrics: [MetricMapping] = []
        var managerTopic: String?
        switch format {
        case .json, .senml:
            if let list = root.optionalList("metrics") {
                if list.isEmpty { reader.report("metrics", "must list at least one metric") }
                for (path, node) in list {
                    if let object = reader.object(node, path: path), let mapping = parseMetric(object, format: format!) {
                        metrics.append(mapping)
                    }
                }
            } else if !root.has("metrics") {
                // (When present but not a list, optionalList has already said so.)
                reader.report("metrics", "is required for format \(format!.rawValue)")
            }
            if format == .json && timestamp == nil && !root.has("timestamp") {
                // Allowed: readings then carry the gateway receive time, and say so in a note.
            }
            if format == .senml && root.has("timestamp") {
                reader.report("timestamp", "SenML records carry their own time (bt/t); remove this key")
            }
        case .ieee11073:
            managerTopic = root.string("managerTopic")
            if let managerTopic, (try? TopicPattern(managerTopic)) == nil {
                reader.report("managerTopic", "must contain one {device} level")
            }
        case nil:
            _ = root.node("metrics")
        }
        let sources = Set(metrics.map(\.source))
        if sources.count != metrics.count {
            reader.report("metrics", "maps the same payload field twice")
        }
        guard let id, let description, let topic, let format else { return nil }
        return DeviceProfile(
            id: id, description: description, topic: topic, format: format, timestamp: timestamp,
            metrics: metrics, maxPayloadBytes: maxPayload, managerTopic: managerTopic, sourceFile: file)
    }

    private static func parseTimestamp(_ object: YAMLObject) -> TimestampLocation? {
        defer { object.finish() }
        let pointer = object.string("pointer").flatMap { text -> JSONPointer? in
            guard let pointer = JSONPointer(text) else {
                object.reader.report(object.fieldPath("pointer"), "\"\(text)\" is not a JSON pointer (RFC 6901), e.g. /ts")
                return nil
            }
            return pointer
        }
        let format = object.choice("format", TimestampFormat.allCases.map(\.rawValue)).flatMap(TimestampFormat.init(rawValue:))
        guard let pointer, let format else { return nil }
        return TimestampLocation(pointer: pointer, format: format)
    }

    private static func parseMetric(_ object: YAMLObject, format: PayloadFormat) -> MetricMapping? {
        defer { object.finish() }
        let reader = object.reader
        let fieldKey = format == .json ? "pointer" : "name"
        let otherKey = format == .json ? "name" : "pointer"
        if object.has(otherKey) {
            reader.report(object.fieldPath(otherKey), "format \(format.rawValue) locates metrics with \"\(fieldKey)\", not \"\(otherKey)\"")
        }
        var metric: MetricTerm?
        if let mdc = object.string("mdc") {
            metric = Nomenclature.metric(named: mdc)
            if metric == nil {
                reader.report(object.fieldPath("mdc"), "unknown metric \"\(mdc)\"; known: \(Nomenclature.metrics.map(\.reference).joined(separator: ", "))")
            }
        }
        let unit = object.string("unit")
        if let metric, let unit, UnitConversion.find(from: unit, to: metric.canonicalUnit) == nil {
            reader.report(object.fieldPath("unit"), "\"\(unit)\" cannot be converted to \(metric.reference)'s unit \"\(metric.canonicalUnit)\"")
        }
        let senmlUnit = object.optionalString("senmlUnit")
        if senmlUnit != nil && format != .senml {
            reader.report(object.fieldPath("senmlUnit"), "only applies to format senml")
        }

        var source: MetricSource?
        let field = object.optionalString(fieldKey)
        let components = object.optionalObject("components")
        switch (field, components) {
        case (let field?, nil):
            if let metric, metric.isPanel {
                reader.report(object.fieldPath(fieldKey), "\(metric.reference) is a panel: give \"components\" (\(metric.components.map(\.role.rawValue).joined(separator: ", "))) instead")
            }
            if validateField(field, format: format, path: object.fieldPath(fieldKey), reader: reader) {
                source = .field(field)
            }
        case (nil, let components?):
            var map: [ComponentRole: String] = [:]
            for key in components.keys {
                guard let role = ComponentRole(rawValue: key), metric?.component(role) != nil || metric == nil else {
                    reader.report(components.fieldPath(key), "is not a component of \(metric?.reference ?? "this metric")")
                    _ = components.node(key)
                    continue
                }
                if let text = components.string(key), validateField(text, format: format, path: components.fieldPath(key), reader: reader) {
                    map[role] = text
                }
            }
            components.finish()
            if let metric, !metric.isPanel {
                reader.report(object.fieldPath("components"), "\(metric.reference) is not a panel; use \"\(fieldKey)\"")
            }
            if map.isEmpty { reader.report(object.fieldPath("components"), "must map at least one component") }
            source = .components(map)
        case (nil, nil):
            reader.report(object.path, "needs \"\(fieldKey)\" (or \"components\" for a panel)")
        case (_?, _?):
            reader.report(object.path, "give either \"\(fieldKey)\" or \"components\", not both")
        }

        var scale: DecimalNumber?
        if let text = object.optionalString("scale") {
            scale = DecimalNumber(text)
            // Bounded so that scaling a device value can never overflow the arithmetic.
            if let magnitude = scale.map({ abs($0.decimal) }), magnitude >= Decimal(string: "0.000000001")!, magnitude <= 1_000_000_000 {
            } else {
                reader.report(object.fieldPath("scale"), "must be a decimal number with magnitude between 1e-9 and 1e9, found \"\(text)\"")
                scale = nil
            }
        }
        let range = parseRange(object)
        let required = object.optionalBool("required") ?? false
        guard let metric, let unit, let source else { return nil }
        return MetricMapping(metric: metric, source: source, unit: unit, senmlUnit: senmlUnit, scale: scale, range: range, required: required)
    }

    private static func validateField(_ text: String, format: PayloadFormat, path: String, reader: YAMLReader) -> Bool {
        if format == .json && JSONPointer(text) == nil {
            reader.report(path, "\"\(text)\" is not a JSON pointer (RFC 6901), e.g. /hr")
            return false
        }
        if format == .senml && text.isEmpty {
            reader.report(path, "must name a SenML record")
            return false
        }
        return true
    }

    private static func parseRange(_ object: YAMLObject) -> PlausibleRange? {
        guard let list = object.optionalList("range") else { return nil }
        let bounds = list.compactMap { path, node -> Decimal? in
            guard case .scalar(let scalar) = node, let number = DecimalNumber(scalar.string) else {
                object.reader.report(path, "must be a number")
                return nil
            }
            return number.decimal
        }
        guard list.count == 2 else {
            object.reader.report(object.fieldPath("range"), "must be [low, high]")
            return nil
        }
        guard bounds.count == 2 else { return nil }
        guard let range = PlausibleRange(low: bounds[0], high: bounds[1]) else {
            object.reader.report(object.fieldPath("range"), "low must not exceed high")
            return nil
        }
        return range
    }
}
