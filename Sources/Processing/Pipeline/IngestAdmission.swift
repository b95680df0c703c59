import Crypto
import DeviceProfiles
import HexEncoding
import Journal
import MQTTIngest
import Observations

/// The router's checks on a message before the inbox commit (#18 items 5 and 6).
///
/// A payload over its profile's `maxPayloadBytes`, a topic over `maximumTopicBytes` or a device
/// segment over `maximumDeviceIdBytes` is not journaled whole: the inbox keeps bounded prefixes
/// of topic and payload and the length and SHA-256 of each whole (`CutEvidence`), the processor
/// dead-letters it, and the broker is acknowledged, since it is recorded. So one device's
/// oversized messages or hostile topic names cannot fill the quota or the log for the others.
public enum IngestAdmission {
    /// Longest topic journaled, in UTF-8 bytes (MQTT allows 65,535).
    public static let maximumTopicBytes = 512
    /// Longest device segment of a topic (a device id's limit).
    public static let maximumDeviceIdBytes = DeviceIdentifier.maximumLength
    /// How much of a cut topic or payload the inbox keeps as evidence.
    public static let evidencePrefixBytes = 1024

    /// What the router decided for one message: what to journal, and for which device.
    struct Admitted {
        let message: InboxMessage
        /// The device a profile routes it to (nil: no profile claims the topic).
        let deviceId: String?
        let profileId: String?
    }

    /// The journal's size and quota, for the per-device share (`DeviceShares`).
    struct QuotaState {
        let shares: DeviceShares
        let usedBytes: Int64
        let maxBytes: Int64
    }

    /// What to journal for `message`: itself, or its bounded evidence.
    static func admit(_ message: IncomingMessage, profiles: ProfileSet, quota: QuotaState? = nil) -> Admitted {
        let route = profiles.route(topic: message.topic)
        return Admitted(message: inboxMessage(message, route: route, profiles: profiles, quota: quota), deviceId: route?.deviceId, profileId: route?.profile.id)
    }

    private static func inboxMessage(
        _ message: IncomingMessage, route: (profile: DeviceProfile, deviceId: String)?, profiles: ProfileSet, quota: QuotaState?
    ) -> InboxMessage {
        let topicBytes = message.topic.utf8.count
        if topicBytes > maximumTopicBytes {
            return cut(message, .topicTooLong, "topic of \(topicBytes) bytes exceeds the limit of \(maximumTopicBytes)")
        }
        if let deviceId = route?.deviceId, deviceId.utf8.count > maximumDeviceIdBytes {
            return cut(message, .deviceIdTooLong, "device segment of \(deviceId.utf8.count) bytes exceeds the limit of \(maximumDeviceIdBytes)")
        }
        let limit = route?.profile.maxPayloadBytes ?? largestPayloadLimit(profiles)
        if message.payload.count > limit {
            let whose = route == nil ? "the largest profile limit" : "the profile's limit"
            return cut(message, .oversized, "payload of \(message.payload.count) bytes exceeds \(whose) of \(limit)")
        }
        if let quota, let deviceId = route?.deviceId, quota.shares.isOverShare(deviceId, usedBytes: quota.usedBytes, maxBytes: quota.maxBytes) {
            return cut(message, .deviceQuota, "device \(deviceId) holds more than its share of journal.maxBytes (\(quota.usedBytes) of \(quota.maxBytes) bytes used)")
        }
        return InboxMessage(
            topic: message.topic, payload: message.payload, qos: message.qos, receivedAt: message.receivedAt,
            packetId: message.packetId, mayBeRedelivery: message.sessionResumed)
    }

    /// A message no profile claims is held to the largest limit any profile allows.
    static func largestPayloadLimit(_ profiles: ProfileSet) -> Int {
        profiles.profiles.map(\.maxPayloadBytes).max() ?? DeviceProfile.defaultMaxPayloadBytes
    }

    private static func cut(_ message: IncomingMessage, _ kind: DecodeError.Kind, _ reason: String) -> InboxMessage {
        let evidence = CutEvidence(
            kind: kind.rawValue, reason: reason,
            topicBytes: message.topic.utf8.count, topicSHA256: sha256(Array(message.topic.utf8)),
            payloadBytes: message.payload.count, payloadSHA256: sha256(message.payload))
        return InboxMessage(
            topic: BoundedText.prefix(message.topic, maxBytes: min(maximumTopicBytes, evidencePrefixBytes)),
            payload: Array(message.payload.prefix(evidencePrefixBytes)), qos: message.qos, receivedAt: message.receivedAt,
            packetId: message.packetId, mayBeRedelivery: message.sessionResumed, cut: evidence)
    }

    private static func sha256(_ bytes: [UInt8]) -> String { Hex.encode(SHA256.hash(data: bytes)) }
}
