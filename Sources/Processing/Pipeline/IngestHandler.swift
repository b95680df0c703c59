import Foundation
import Journal
import Logging
import MQTTIngest

/// Runs on the MQTT network thread: journals the messages of one read phase durably, in one
/// transaction, before any of them is acknowledged.
public struct IngestHandler: Sendable {
    let journal: Journal
    let runtime: RuntimeState
    let metrics: ProcessingMetrics
    let logger: Logger
    let wake: WakeSignal
    let alarms = LogThrottle(interval: 60)

    public init(journal: Journal, runtime: RuntimeState, metrics: ProcessingMetrics, logger: Logger, wake: WakeSignal) {
        self.journal = journal
        self.runtime = runtime
        self.metrics = metrics
        self.logger = logger
        self.wake = wake
    }

    public func handle(_ messages: [IncomingMessage]) -> MessageDisposition {
        let profiles = runtime.profiles
        let admitted = messages.map { IngestAdmission.admit($0, profiles: profiles) }
        do {
            let appended = try journal.append(admitted)
            for cut in admitted.compactMap(\.cut) { metrics.cut(reason: cut.kind) }
            metrics.messagesReceived.increment(by: Int64(messages.count))
            if appended.redeliveries > 0 { metrics.redeliveriesDropped.increment(by: Int64(appended.redeliveries)) }
            metrics.inboxCommits.increment()
            metrics.recordInboxCommit(messages, durableAt: Date())
            wake.signal()
            return .stored
        } catch {
            let reason: String
            switch error {
            case .quotaExceeded: reason = "quota"
            case .corrupt: reason = "corrupt"
            default: reason = "storage"
            }
            metrics.refused(reason: reason, messages: messages.count)
            if alarms.shouldLog(reason) {
                logger.critical("ALARM: journal refuses writes; acknowledgements stop until it recovers", metadata: [
                    "topic": "\(BoundedText.logField(admitted.first?.topic ?? "-"))", "messages": "\(messages.count)", "reason": "\(error)",
                ])
            }
            return .refused(error.description)
        }
    }
}
