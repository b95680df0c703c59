import Foundation
import Observations
import StrictYAML
import Synchronization

/// Device id → patient and bed, from the assignments file; re-read when the file changes.
///
/// ```yaml
/// assignments:
///   bed-01-wrist: {patient: {system: "urn:oid:2.16.840.1.113883.2.4.6.3", value: "MRN-0012"}, bed: 7B-01}
/// ```
public final class AssignmentBook: Sendable {
    public let path: String?
    private let state = Mutex<(assignments: [String: PatientAssignment], modified: Date?)>(([:], nil))

    public init(path: String?) throws(YAMLIssues) {
        self.path = path
        try reload(force: true)
    }

    public func assignment(for deviceId: String) -> PatientAssignment? {
        state.withLock { $0.assignments[deviceId] }
    }

    public var count: Int { state.withLock { $0.assignments.count } }

    /// Re-reads the file if it changed (or always with `force`). On error the previous
    /// assignments stay in force and the error is thrown for the caller to log.
    public func reload(force: Bool = false) throws(YAMLIssues) {
        guard let path else { return }
        let modified = (try? FileManager.default.attributesOfItem(atPath: path)[.modificationDate]) as? Date
        if !force, let modified, modified == state.withLock({ $0.modified }) { return }
        let assignments = try AssignmentBook.parse(path: path)
        state.withLock { $0 = (assignments, modified) }
    }

    static func parse(path: String) throws(YAMLIssues) -> [String: PatientAssignment] {
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
            throw YAMLIssues([YAMLIssue(file: path, path: "", message: "cannot be read")])
        }
        let reader = YAMLReader(file: path)
        guard let root = reader.root(text) else { throw YAMLIssues(reader.issues) }
        var result: [String: PatientAssignment] = [:]
        if let devices = root.optionalObject("assignments") {
            for deviceId in devices.keys {
                guard let node = devices.node(deviceId), let entry = reader.object(node, path: devices.fieldPath(deviceId)) else { continue }
                let patient = entry.optionalObject("patient")
                if patient == nil { reader.report(entry.fieldPath("patient"), "is required") }
                let system = patient?.string("system")
                let value = patient?.string("value")
                patient?.finish()
                let bed = entry.optionalString("bed")
                entry.finish()
                if let system, let value { result[deviceId] = PatientAssignment(system: system, value: value, bed: bed) }
            }
        } else {
            reader.report("assignments", "is required (a mapping of device id to patient and bed)")
        }
        root.finish()
        try reader.throwIfIssues()
        return result
    }
}
