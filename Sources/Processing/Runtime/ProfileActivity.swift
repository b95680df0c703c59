import Synchronization

/// Messages received per profile since start, and the enrolled devices heard (#18 item 9): a
/// profile that hears nothing while some enrolled device is unheard is a readiness warning (a
/// broker ACL that blocks its topics, for one). Its keys are the configured profiles' ids and the
/// enrolled devices' ids, so it stays small whatever arrives.
public final class ProfileActivity: Sendable {
    private struct Heard {
        var counts: [String: Int] = [:]
        var devices: Set<String> = []
    }

    private let heard = Mutex(Heard())

    public init() {}

    /// One message for `profileId`; `device` joins the heard set only if `isEnrolled` says so.
    func record(profileId: String, device: String?, isEnrolled: (String) -> Bool) {
        let known = heard.withLock { state -> Bool in
            state.counts[profileId, default: 0] += 1
            return device.map { state.devices.contains($0) } ?? true
        }
        guard !known, let device, isEnrolled(device) else { return }
        _ = heard.withLock { $0.devices.insert(device) }
    }

    /// Messages its topics brought since start.
    public func received(profileId: String) -> Int { heard.withLock { $0.counts[profileId] ?? 0 } }

    /// How many of `enrolled` no profile has heard from since start.
    public func unheard(among enrolled: Set<String>) -> Int { heard.withLock { enrolled.subtracting($0.devices).count } }
}
