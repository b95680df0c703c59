import Foundation
import Synchronization

/// Lets one log line per key through per interval, so one misbehaving device cannot flood
/// the journal of the system logger.
public final class LogThrottle: Sendable {
    private let interval: TimeInterval
    private let last = Mutex<[String: Date]>([:])

    public init(interval: TimeInterval) { self.interval = interval }

    public func shouldLog(_ key: String, now: Date = Date()) -> Bool {
        last.withLock { last in
            if let previous = last[key], now.timeIntervalSince(previous) < interval { return false }
            if last.count > 10_000 { last.removeAll() }
            last[key] = now
            return true
        }
    }
}
