import CoreMetrics
import Foundation
import MQTTIngest

extension ProcessingMetrics {
    public static let receivedToDurableName = "wardgate_received_to_durable_seconds"
    public static let receivedToLoggedName = "wardgate_received_to_logged_seconds"
    public static let inboxCommitSizeName = "wardgate_inbox_commit_messages"

    /// One inbox commit of `messages`, durable at `durableAt`.
    func recordInboxCommit(_ messages: [IncomingMessage], durableAt: Date) {
        inboxCommitSize.record(messages.count)
        for message in messages {
            receivedToDurable.recordNanoseconds(PipelineLatency.nanoseconds(from: message.receivedAt, to: durableAt))
        }
    }

    /// Observations signed and logged in a commit that ended at `loggedAt`, by the receive time
    /// of the message each came from (the inbox row's `received_at_ms`).
    func recordLogged(receivedAtMs: [Int64], loggedAt: Date) {
        for received in receivedAtMs {
            receivedToLogged.recordNanoseconds(PipelineLatency.nanoseconds(fromMilliseconds: received, to: loggedAt))
        }
    }
}

/// Latencies measured from a message's receive time, which is wall-clock time (it is journaled
/// and survives a restart, so a monotonic clock would not do).
public enum PipelineLatency {
    /// From `start` to `end`; 0 when the clock stepped back in between.
    public static func nanoseconds(from start: Date, to end: Date) -> Int64 {
        let seconds = end.timeIntervalSince(start)
        return seconds > 0 ? Int64(seconds * 1e9) : 0
    }

    public static func nanoseconds(fromMilliseconds startMs: Int64, to end: Date) -> Int64 {
        nanoseconds(from: Date(timeIntervalSince1970: Double(startMs) / 1000), to: end)
    }
}
