import Synchronization
import Timing

/// A token bucket per client key (the remote IP address).
///
/// Each client starts with `burst` tokens; a request takes one; tokens come back at
/// `requestsPerSecond` up to `burst`. Without a token the answer is "limited" with the whole
/// seconds until the next one (for `Retry-After`). The table is bounded: past `maxClients`,
/// buckets that are full again (idle clients) are dropped first, then the least recently seen.
public final class RateLimiter: Sendable {
    public enum Decision: Sendable, Equatable {
        case allowed
        case limited(retryAfterSeconds: Int)
    }

    struct Bucket {
        var tokens: Double
        var updated: ContinuousClock.Instant
    }

    public let requestsPerSecond: Double
    public let burst: Int
    let maxClients: Int
    private let buckets = Mutex<[String: Bucket]>([:])

    public init(requestsPerSecond: Double, burst: Int, maxClients: Int = 10_000) {
        self.requestsPerSecond = requestsPerSecond
        self.burst = max(1, burst)
        self.maxClients = max(1, maxClients)
    }

    public func take(client: String, now: ContinuousClock.Instant = .now) -> Decision {
        let rate = requestsPerSecond
        let capacity = Double(burst)
        return buckets.withLock { buckets in
            var bucket = buckets[client] ?? Bucket(tokens: capacity, updated: now)
            let elapsed = max(0, (now - bucket.updated).inSeconds)
            bucket.tokens = min(capacity, bucket.tokens + elapsed * rate)
            bucket.updated = now
            let decision: Decision
            if bucket.tokens >= 1 {
                bucket.tokens -= 1
                decision = .allowed
            } else {
                let wait = (1 - bucket.tokens) / rate
                decision = .limited(retryAfterSeconds: max(1, Int(wait.rounded(.up))))
            }
            buckets[client] = bucket
            if buckets.count > maxClients { RateLimiter.evict(&buckets, keep: maxClients, rate: rate, capacity: capacity, now: now) }
            return decision
        }
    }

    /// How many clients have a bucket (for tests of the bound).
    public var trackedClients: Int { buckets.withLock { $0.count } }

    private static func evict(_ buckets: inout [String: Bucket], keep: Int, rate: Double, capacity: Double, now: ContinuousClock.Instant) {
        buckets = buckets.filter { $0.value.tokens + max(0, (now - $0.value.updated).inSeconds) * rate < capacity }
        if buckets.count > keep {
            let oldest = buckets.sorted { $0.value.updated < $1.value.updated }.prefix(buckets.count - keep).map(\.key)
            for key in oldest { buckets[key] = nil }
        }
    }
}
