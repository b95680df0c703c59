import Foundation

public struct IncomingMessage: Sendable, Hashable {
    public let topic: String
    public let payload: [UInt8]
    public let qos: Int
    public let retained: Bool
    /// The gateway's wall clock when the message reached the callback.
    public let receivedAt: Date
    /// The MQTT packet identifier of a QoS 1 or 2 message (nil for QoS 0). A broker that
    /// redelivers a message it has no acknowledgement for uses the original identifier.
    public let packetId: Int?
    /// Whether the connection that brought it resumed an earlier session (CONNACK session
    /// present): a message can be a redelivery only then.
    public let sessionResumed: Bool

    public init(topic: String, payload: [UInt8], qos: Int, retained: Bool, receivedAt: Date, packetId: Int? = nil, sessionResumed: Bool = false) {
        self.topic = topic
        self.payload = payload
        self.qos = qos
        self.retained = retained
        self.receivedAt = receivedAt
        self.packetId = packetId
        self.sessionResumed = sessionResumed
    }
}

/// What the handler decided about a message.
public enum MessageDisposition: Sendable, Equatable {
    /// Durably stored: let libmosquitto acknowledge it.
    case stored
    /// Not stored (quota, disk): the connection is dropped before the acknowledgement is
    /// written, so the broker keeps the message and redelivers it after we reconnect.
    case refused(String)
}

public enum ConnectionEvent: Sendable, Equatable {
    case connected(sessionPresent: Bool)
    case subscribed(filters: [String])
    case disconnected(reason: String)
    case refused(reason: String)
}
