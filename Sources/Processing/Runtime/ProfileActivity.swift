import Synchronization

/// Messages received per profile since start (#18 item 9): a profile that hears nothing while
/// devices are enrolled is a readiness warning (a broker ACL that blocks its topics, for one).
/// Its keys are the configured profiles' ids, so it stays small whatever arrives.
public final class ProfileActivity: Sendable {
    private let counts = Mutex<[String: Int]>([:])

    public init() {}

    func record(profileId: String) { counts.withLock { $0[profileId, default: 0] += 1 } }

    /// Messages its topics brought since start.
    public func received(profileId: String) -> Int { counts.withLock { $0[profileId] ?? 0 } }
}
