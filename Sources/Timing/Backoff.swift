/// Exponential backoff with jitter: the one retry policy of every loop that waits for a peer
/// (MQTT reconnect, the ledger forwarder).
///
/// The ceiling of the n-th consecutive failure is min(maximum, initial · 2ⁿ⁻¹); the delay is a
/// random point below it, chosen by `jitter`, so a ward of gateways that lost the same peer
/// does not come back in lockstep.
public struct Backoff: Sendable, Hashable {
    /// Where in [0, ceiling] a delay may fall.
    public enum Jitter: Sendable, Hashable {
        /// Uniform in [½·ceiling, ceiling]: never much earlier than the ceiling. MQTT reconnect
        /// uses it: the broker is tried again at about the expected pace.
        case half
        /// Uniform in [0, ceiling] ("full jitter"): the widest spread. The ledger forwarder uses
        /// it; it also probes the ledger's health while it waits, so an early retry costs little.
        case full
    }

    public var initial: Duration
    public var maximum: Duration
    public var jitter: Jitter

    public init(initial: Duration = .milliseconds(250), maximum: Duration = .seconds(30), jitter: Jitter) {
        self.initial = initial
        self.maximum = maximum
        self.jitter = jitter
    }

    /// The ceiling after `failures` consecutive failures (1 for the first; below 1 counts as 1).
    /// It never exceeds `maximum`, even when `maximum` is below `initial`.
    public func ceiling(failures: Int) -> Duration {
        var ceiling = initial
        for _ in 1..<max(1, min(failures, 63)) {
            ceiling *= 2
            if ceiling >= maximum { return maximum }
        }
        return min(ceiling, maximum)
    }

    public func delay(failures: Int, using generator: inout some RandomNumberGenerator) -> Duration {
        let ceiling = ceiling(failures: failures).inNanoseconds
        guard ceiling > 0 else { return .zero }
        let floor: Int64 = switch jitter {
        case .half: ceiling / 2
        case .full: 0
        }
        return .nanoseconds(Int64.random(in: floor...ceiling, using: &generator))
    }

    public func delay(failures: Int) -> Duration {
        var generator = SystemRandomNumberGenerator()
        return delay(failures: failures, using: &generator)
    }
}
