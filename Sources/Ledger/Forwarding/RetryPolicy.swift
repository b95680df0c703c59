/// Exponential backoff with full jitter (each delay uniform in [0, min(maximum, initial·2ⁿ⁻¹)]),
/// so gateways that lost the same ledger do not come back in lockstep.
public struct RetryPolicy: Sendable, Hashable {
    public var initial: Duration
    public var maximum: Duration
    /// While backing off, the ledger's health is probed this often; an answer ends the wait.
    public var healthProbeInterval: Duration

    public init(initial: Duration = .milliseconds(250), maximum: Duration = .seconds(30), healthProbeInterval: Duration = .seconds(1)) {
        self.initial = initial
        self.maximum = max(initial, maximum)
        self.healthProbeInterval = healthProbeInterval
    }

    /// The ceiling for the `attempt`-th consecutive failure (1-based).
    public func ceiling(attempt: Int) -> Duration {
        var ceiling = initial
        for _ in 1..<max(1, min(attempt, 63)) {
            ceiling *= 2
            if ceiling >= maximum { return maximum }
        }
        return min(ceiling, maximum)
    }

    public func delay(attempt: Int, using generator: inout some RandomNumberGenerator) -> Duration {
        let ceiling = ceiling(attempt: attempt)
        let nanoseconds = ceiling.components.seconds * 1_000_000_000 + ceiling.components.attoseconds / 1_000_000_000
        guard nanoseconds > 0 else { return .zero }
        return .nanoseconds(Int64.random(in: 0...nanoseconds, using: &generator))
    }

    public func delay(attempt: Int) -> Duration {
        var generator = SystemRandomNumberGenerator()
        return delay(attempt: attempt, using: &generator)
    }
}
