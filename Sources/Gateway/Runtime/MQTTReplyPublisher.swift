import Logging
import MQTTIngest
import Processing

/// The 11073 manager's replies, published at QoS 1 on the gateway's MQTT client.
struct MQTTReplyPublisher: ReplyPublisher {
    let client: MQTTClient
    let metrics: ProcessingMetrics
    let logger: Logger
    /// While the broker is away every reply fails; one line per device a minute is enough.
    let failures = LogThrottle(interval: 60)

    var isReady: Bool { client.isConnected }

    func publish(topic: String, payload: [UInt8]) -> Bool {
        do {
            try client.publish(topic: topic, payload: payload, qos: 1)
            metrics.managerRepliesSent.increment()
            return true
        } catch {
            // Held or dropped by the processor, which counts it then.
            if failures.shouldLog(topic) {
                logger.error("11073 manager reply not sent now (held while its agent may wait, else counted in wardgate_manager_replies_total{result=\"failed\"}; logged at most once a minute per device)",
                             metadata: ["topic": "\(topic)", "reason": "\(error)"])
            }
            return false
        }
    }
}
