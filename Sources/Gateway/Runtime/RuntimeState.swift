import DeviceIdentity
import DeviceProfiles
import Foundation
import Synchronization

/// What can change while the daemon runs (on reload), shared between threads.
final class RuntimeState: Sendable {
    private let current: Mutex<ProfileSet>
    let assignments: AssignmentBook
    let identity: IdentityRegistry?
    private let latest = Mutex<[String: [String: String]]>([:])

    init(profiles: ProfileSet, assignments: AssignmentBook, identity: IdentityRegistry?) {
        current = Mutex(profiles)
        self.assignments = assignments
        self.identity = identity
    }

    var profiles: ProfileSet { current.withLock { $0 } }

    func replaceProfiles(_ profiles: ProfileSet) { current.withLock { $0 = profiles } }

    func recordLatest(_ values: [String: [String: String]]) {
        guard !values.isEmpty else { return }
        latest.withLock { latest in
            for (device, metrics) in values { latest[device, default: [:]].merge(metrics) { $1 } }
        }
    }

    /// Latest value text per device and metric, for the demo's live view.
    var latestValues: [String: [String: String]] { latest.withLock { $0 } }
}
