/// An MQTT topic filter with one `{device}` level that captures the device id.
public struct TopicPattern: Sendable, Hashable, CustomStringConvertible {
    public static let placeholder = "{device}"

    public let pattern: String
    /// What is subscribed: the pattern with `{device}` as `+`.
    public let subscriptionFilter: String
    private let levels: [String]
    private let deviceLevel: Int

    public init(_ pattern: String) throws(TopicPatternError) {
        let levels = pattern.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        let deviceLevels = levels.indices.filter { levels[$0] == TopicPattern.placeholder }
        guard deviceLevels.count == 1 else {
            throw .init(pattern.contains(TopicPattern.placeholder)
                ? "\(TopicPattern.placeholder) must appear exactly once, as a whole topic level"
                : "must contain a \(TopicPattern.placeholder) level that captures the device id")
        }
        for (i, level) in levels.enumerated() {
            if level == "#" && i != levels.count - 1 { throw .init("'#' may only be the last level") }
            if level != "#" && level != "+" && level != TopicPattern.placeholder
                && (level.contains("#") || level.contains("+") || level.contains("{") || level.contains("}"))
            {
                throw .init("level \"\(level)\" mixes wildcards or braces with text")
            }
        }
        self.pattern = pattern
        self.levels = levels
        self.deviceLevel = deviceLevels[0]
        self.subscriptionFilter = levels.map { $0 == TopicPattern.placeholder ? "+" : $0 }.joined(separator: "/")
    }

    /// The device id if `topic` matches, else nil.
    public func match(_ topic: String) -> String? {
        let parts = topic.split(separator: "/", omittingEmptySubsequences: false)
        var device: String?
        for (i, level) in levels.enumerated() {
            if level == "#" { return device }
            guard i < parts.count else { return nil }
            if i == deviceLevel {
                device = String(parts[i])
            } else if level != "+" && level != String(parts[i]) {
                return nil
            }
        }
        return parts.count == levels.count ? device : nil
    }

    /// The topic with `{device}` filled in, for publishing to one device.
    public func topic(forDevice device: String) -> String {
        levels.map { $0 == TopicPattern.placeholder ? device : $0 }.joined(separator: "/")
    }

    public var description: String { pattern }
}

public struct TopicPatternError: Error, Sendable, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}
