import DeviceIdentity
import DeviceProfiles
import Foundation
import Synchronization

/// What can change while the daemon runs (on reload), shared between threads.
public final class RuntimeState: Sendable {
    private let current: Mutex<ProfileSet>
    public let assignments: AssignmentBook
    public let identity: IdentityRegistry?
    private let latest = Mutex<[String: [String: String]]>([:])

    public init(profiles: ProfileSet, assignments: AssignmentBook, identity: IdentityRegistry?) {
        current = Mutex(profiles)
        self.assignments = assignments
        self.identity = identity
    }

    public var profiles: ProfileSet { current.withLock { $0 } }

    public func replaceProfiles(_ profiles: ProfileSet) { current.withLock { $0 = profiles } }

    func recordLatest(_ values: [String: [String: String]]) {
        guard !values.isEmpty else { return }
        latest.withLock { latest in
            for (device, metrics) in values { latest[device, default: [:]].merge(metrics) { $1 } }
        }
    }

    /// Latest value text per device and metric, for the demo's live view.
    public var latestValues: [String: [String: String]] { latest.withLock { $0 } }
}
