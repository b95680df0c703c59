import Foundation
import Journal
import Logging
import MQTTIngest

/// Runs on the MQTT network thread: journals each message durably before it is acknowledged.
struct IngestHandler: Sendable {
    let journal: Journal
    let metrics: GatewayMetrics
    let logger: Logger
    let wake: WakeSignal
    let alarms = LogThrottle(interval: 60)

    func handle(_ message: IncomingMessage) -> MessageDisposition {
        do {
            try journal.appendInbox(topic: message.topic, payload: message.payload, qos: message.qos, receivedAt: message.receivedAt)
            metrics.messagesReceived.increment()
            wake.signal()
            return .stored
        } catch {
            let reason: String
            switch error {
            case .quotaExceeded: reason = "quota"
            default: reason = "storage"
            }
            metrics.refused(reason: reason)
            if alarms.shouldLog(reason) {
                logger.critical("ALARM: journal refuses writes; acknowledgements stop until it recovers", metadata: ["topic": "\(message.topic)", "reason": "\(error)"])
            }
            return .refused(error.description)
        }
    }
}
