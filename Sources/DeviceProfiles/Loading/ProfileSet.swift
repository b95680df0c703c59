import Foundation
import StrictYAML

/// The profiles loaded from a directory, and the routing of topics to them.
public struct ProfileSet: Sendable {
    public let profiles: [DeviceProfile]

    public init(profiles: [DeviceProfile]) throws(YAMLIssues) {
        var issues: [YAMLIssue] = []
        var byId: [String: DeviceProfile] = [:]
        var byFilter: [String: DeviceProfile] = [:]
        for profile in profiles {
            if let other = byId[profile.id] {
                issues.append(YAMLIssue(file: profile.sourceFile, path: "id", message: "\"\(profile.id)\" is also the id of \(other.sourceFile)"))
            }
            if let other = byFilter[profile.topic.subscriptionFilter] {
                issues.append(YAMLIssue(file: profile.sourceFile, path: "topic", message: "\"\(profile.topic)\" subscribes to the same filter as \(other.sourceFile)"))
            }
            byId[profile.id] = profile
            byFilter[profile.topic.subscriptionFilter] = profile
        }
        if !issues.isEmpty { throw YAMLIssues(issues) }
        self.profiles = profiles.sorted { $0.id < $1.id }
    }

    /// Loads every `*.yml` / `*.yaml` file in `directory`; throws every issue in every file.
    public static func load(directory: String) throws(YAMLIssues) -> ProfileSet {
        let files: [String]
        do {
            files = try FileManager.default.contentsOfDirectory(atPath: directory)
                .filter { $0.hasSuffix(".yml") || $0.hasSuffix(".yaml") }
                .sorted()
        } catch {
            throw YAMLIssues([YAMLIssue(file: directory, path: "", message: "cannot read the profile directory: \(error.localizedDescription)")])
        }
        if files.isEmpty {
            throw YAMLIssues([YAMLIssue(file: directory, path: "", message: "holds no *.yml or *.yaml profile")])
        }
        var profiles: [DeviceProfile] = []
        var issues: [YAMLIssue] = []
        for name in files {
            let path = (directory as NSString).appendingPathComponent(name)
            guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
                issues.append(YAMLIssue(file: path, path: "", message: "cannot be read as UTF-8 text"))
                continue
            }
            switch parse(text, file: path) {
            case .success(let profile): profiles.append(profile)
            case .failure(let failure): issues += failure.issues
            }
        }
        if !issues.isEmpty { throw YAMLIssues(issues) }
        return try ProfileSet(profiles: profiles)
    }

    public static func parse(_ text: String, file: String) -> Result<DeviceProfile, YAMLIssues> {
        ProfileParser.parse(text, file: file)
    }

    /// Every topic filter to subscribe to, one per profile.
    public var subscriptionFilters: [String] { profiles.map(\.topic.subscriptionFilter) }

    /// The profile and device id for a topic, or nil if no profile claims it.
    public func route(topic: String) -> (profile: DeviceProfile, deviceId: String)? {
        for profile in profiles {
            if let device = profile.topic.match(topic) { return (profile, device) }
        }
        return nil
    }

    public func profile(id: String) -> DeviceProfile? { profiles.first { $0.id == id } }
}
