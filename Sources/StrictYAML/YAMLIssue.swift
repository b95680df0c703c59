/// One problem in a YAML document: which file, which field, what is wrong.
public struct YAMLIssue: Error, Sendable, Hashable, CustomStringConvertible {
    public let file: String
    /// Dotted path of the field, e.g. `metrics[2].range`.
    public let path: String
    public let message: String

    public init(file: String, path: String, message: String) {
        self.file = file
        self.path = path
        self.message = message
    }

    public var description: String { "\(file): \(path.isEmpty ? "(document)" : path): \(message)" }
}

/// Every issue found in a document, so an integrator can fix them in one pass.
public struct YAMLIssues: Error, Sendable, CustomStringConvertible {
    public let issues: [YAMLIssue]

    public init(_ issues: [YAMLIssue]) { self.issues = issues }

    public var description: String { issues.map(\.description).joined(separator: "\n") }
}
