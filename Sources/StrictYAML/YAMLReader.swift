import Foundation
import Yams

/// Reads a YAML document field by field, collecting issues instead of stopping at the first one.
///
/// Accessors return nil when a field is missing or has the wrong type, and record why.
/// `YAMLObject.finish()` reports keys nobody asked for, so a typo never silently falls back
/// to a default.
public final class YAMLReader {
    public let file: String
    public private(set) var issues: [YAMLIssue] = []

    public init(file: String) { self.file = file }

    public func report(_ path: String, _ message: String) {
        issues.append(YAMLIssue(file: file, path: path, message: message))
    }

    /// Parses the text; the root must be a mapping.
    public func root(_ text: String) -> YAMLObject? {
        let node: Node?
        do {
            node = try Yams.compose(yaml: text)
        } catch {
            report("", "not valid YAML: \(error)")
            return nil
        }
        guard let node else {
            report("", "the document is empty")
            return nil
        }
        return object(node, path: "")
    }

    public func object(_ node: Node, path: String) -> YAMLObject? {
        guard case .mapping(let mapping) = node else {
            report(path, "expected a mapping, found \(YAMLReader.kind(node))")
            return nil
        }
        return YAMLObject(reader: self, path: path, mapping: mapping)
    }

    /// Throws every recorded issue, if any.
    public func throwIfIssues() throws(YAMLIssues) {
        if !issues.isEmpty { throw YAMLIssues(issues) }
    }

    static func kind(_ node: Node) -> String {
        switch node {
        case .scalar: "a scalar"
        case .mapping: "a mapping"
        case .sequence: "a list"
        case .alias: "an alias"
        }
    }
}

public final class YAMLObject {
    public let reader: YAMLReader
    public let path: String
    private let mapping: Node.Mapping
    private var consumed = Set<String>()

    init(reader: YAMLReader, path: String, mapping: Node.Mapping) {
        self.reader = reader
        self.path = path
        self.mapping = mapping
    }

    public func fieldPath(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    public var keys: [String] { mapping.keys.compactMap(\.string) }

    public func has(_ key: String) -> Bool { node(key) != nil }

    public func node(_ key: String) -> Node? {
        consumed.insert(key)
        return mapping[Node(key)]
    }

    private func scalar(_ key: String, required: Bool) -> String? {
        guard let node = node(key) else {
            if required { reader.report(fieldPath(key), "is required") }
            return nil
        }
        guard case .scalar(let scalar) = node else {
            reader.report(fieldPath(key), "expected a scalar value, found \(YAMLReader.kind(node))")
            return nil
        }
        return scalar.string
    }

    public func string(_ key: String) -> String? { scalar(key, required: true) }
    public func optionalString(_ key: String) -> String? { scalar(key, required: false) }

    public func optionalInt(_ key: String) -> Int? {
        guard let text = scalar(key, required: false) else { return nil }
        guard let value = Int(text) else {
            reader.report(fieldPath(key), "expected an integer, found \"\(text)\"")
            return nil
        }
        return value
    }

    public func optionalBool(_ key: String) -> Bool? {
        guard let text = scalar(key, required: false) else { return nil }
        switch text.lowercased() {
        case "true", "yes", "on": return true
        case "false", "no", "off": return false
        default:
            reader.report(fieldPath(key), "expected true or false, found \"\(text)\"")
            return nil
        }
    }

    /// One of `allowed`; reports the choices when the value is something else.
    public func optionalChoice(_ key: String, _ allowed: [String]) -> String? {
        guard let text = scalar(key, required: false) else { return nil }
        guard allowed.contains(text) else {
            reader.report(fieldPath(key), "must be one of \(allowed.joined(separator: ", ")), found \"\(text)\"")
            return nil
        }
        return text
    }

    public func choice(_ key: String, _ allowed: [String]) -> String? {
        guard has(key) else {
            reader.report(fieldPath(key), "is required (one of \(allowed.joined(separator: ", ")))")
            return nil
        }
        return optionalChoice(key, allowed)
    }

    /// A duration such as `1s`, `250ms`, `5m`, `2h`, `30d`.
    public func optionalDuration(_ key: String) -> Duration? {
        guard let text = scalar(key, required: false) else { return nil }
        guard let value = ScalarFormats.duration(text) else {
            reader.report(fieldPath(key), "expected a duration such as 500ms, 1s, 5m, 2h or 30d, found \"\(text)\"")
            return nil
        }
        return value
    }

    /// A size such as `2GiB`, `500MiB`, `64KiB` or a plain byte count.
    public func optionalByteCount(_ key: String) -> Int64? {
        guard let text = scalar(key, required: false) else { return nil }
        guard let value = ScalarFormats.byteCount(text) else {
            reader.report(fieldPath(key), "expected a size such as 2GiB, 500MiB or 1048576, found \"\(text)\"")
            return nil
        }
        return value
    }

    public func optionalObject(_ key: String) -> YAMLObject? {
        guard let node = node(key) else { return nil }
        return reader.object(node, path: fieldPath(key))
    }

    public func optionalList(_ key: String) -> [(path: String, node: Node)]? {
        guard let node = node(key) else { return nil }
        guard case .sequence(let sequence) = node else {
            reader.report(fieldPath(key), "expected a list, found \(YAMLReader.kind(node))")
            return nil
        }
        return sequence.enumerated().map { ("\(fieldPath(key))[\($0.offset)]", $0.element) }
    }

    /// Reports every key that was never read: unknown keys are errors, not silently ignored.
    public func finish() {
        for key in mapping.keys {
            guard let name = key.string else {
                reader.report(path, "keys must be strings")
                continue
            }
            if !consumed.contains(name) {
                reader.report(fieldPath(name), "unknown key")
            }
        }
    }
}
