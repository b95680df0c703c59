import Foundation
import Synchronization

/// Lets one log line per key through per interval, so one misbehaving device cannot flood
/// the journal of the system logger.
///
/// Its memory is bounded however many distinct keys arrive (a flood of distinct topic names):
/// at most `capacity` keys of at most `maximumKeyBytes` each. When full, keys whose interval
/// has passed go first, then the least recently logged one.
public final class LogThrottle: Sendable {
    public static let defaultCapacity = 1024
    public static let maximumKeyBytes = 256
    private let interval: TimeInterval
    private let capacity: Int
    private let last = Mutex<[String: Date]>([:])

    public init(interval: TimeInterval, capacity: Int = LogThrottle.defaultCapacity) {
        self.interval = interval
        self.capacity = max(1, capacity)
    }

    public func shouldLog(_ key: String, now: Date = Date()) -> Bool {
        let key = BoundedText.prefix(key, maxBytes: LogThrottle.maximumKeyBytes)
        return last.withLock { last in
            if let previous = last[key], now.timeIntervalSince(previous) < interval { return false }
            if last[key] == nil, last.count >= capacity { evict(from: &last, now: now) }
            last[key] = now
            return true
        }
    }

    /// How many keys it holds now.
    public var keyCount: Int { last.withLock { $0.count } }

    private func evict(from last: inout [String: Date], now: Date) {
        let interval = self.interval
        last = last.filter { now.timeIntervalSince($0.value) < interval }
        if last.count >= capacity, let oldest = last.min(by: { $0.value < $1.value }) {
            last.removeValue(forKey: oldest.key)
        }
    }
}
