import Foundation
import GRDB

/// A message to journal (`Journal.appendInbox`).
public struct InboxMessage: Sendable, Hashable {
    public let topic: String
    public let payload: [UInt8]
    public let qos: Int
    public let receivedAt: Date
    /// The MQTT packet identifier (QoS 1 and 2), kept so that a redelivery can be recognised.
    public let packetId: Int?
    /// Whether it came on a resumed session, so that it may be a redelivery of a journaled one.
    public let mayBeRedelivery: Bool
    /// Set when `topic` and `payload` are bounded prefixes of what arrived (`CutEvidence`).
    public let cut: CutEvidence?

    public init(
        topic: String, payload: [UInt8], qos: Int, receivedAt: Date, packetId: Int? = nil, mayBeRedelivery: Bool = false, cut: CutEvidence? = nil
    ) {
        self.topic = topic
        self.payload = payload
        self.qos = qos
        self.receivedAt = receivedAt
        self.packetId = packetId
        self.mayBeRedelivery = mayBeRedelivery
        self.cut = cut
    }
}

/// What the router kept of a message it would not journal whole: the record holds bounded
/// prefixes of topic and payload; this, why, and the length and SHA-256 (hex) of each whole.
public struct CutEvidence: Sendable, Hashable {
    /// The dead-letter kind the message becomes (`oversized`, `topic_too_long`, `device_id_too_long`).
    public let kind: String
    public let reason: String
    public let topicBytes: Int
    public let topicSHA256: String
    public let payloadBytes: Int
    public let payloadSHA256: String

    public init(kind: String, reason: String, topicBytes: Int, topicSHA256: String, payloadBytes: Int, payloadSHA256: String) {
        self.kind = kind
        self.reason = reason
        self.topicBytes = topicBytes
        self.topicSHA256 = topicSHA256
        self.payloadBytes = payloadBytes
        self.payloadSHA256 = payloadSHA256
    }
}

/// What an inbox append did: the record of each message, in order (a redelivery gets the record
/// of its first copy), and how many were redeliveries and not journaled again.
public struct InboxAppend: Sendable, Hashable {
    public let seqs: [Int64]
    public let redeliveries: Int
}

/// One MQTT message exactly as it arrived, journaled before the broker is acknowledged.
public struct InboxRecord: Sendable, Hashable, FetchableRecord {
    /// Monotonic: the order the gateway committed messages in.
    public let seq: Int64
    public let topic: String
    public let payload: [UInt8]
    public let qos: Int
    /// The gateway's wall clock at receipt, in Unix milliseconds.
    public let receivedAtMs: Int64
    /// Set when the router kept only a bounded prefix of topic and payload.
    public let cut: CutEvidence?

    public var receivedAt: Date { Date(timeIntervalSince1970: Double(receivedAtMs) / 1000) }

    public init(row: Row) {
        seq = row["seq"]
        topic = row["topic"]
        payload = Array((row["payload"] as Data?) ?? Data())
        qos = row["qos"]
        receivedAtMs = row["received_at_ms"]
        let cutKind: String? = row["cut_kind"]
        cut = cutKind.map { kind in
            CutEvidence(
                kind: kind, reason: row["cut_reason"] ?? "", topicBytes: row["topic_bytes"] ?? 0, topicSHA256: row["topic_sha256"] ?? "",
                payloadBytes: row["payload_bytes"] ?? 0, payloadSHA256: row["payload_sha256"] ?? "")
        }
    }
}

/// A reading as its device sent it: the device and the device time the Observation takes effect at.
public struct ReadingKey: Hashable, Sendable {
    public let deviceId: String
    public let effectiveAtMs: Int64

    public init(deviceId: String, effectiveAtMs: Int64) {
        self.deviceId = deviceId
        self.effectiveAtMs = effectiveAtMs
    }
}

/// An Observation ready to be journaled, tied to the message it came from.
public struct ObservationEntry: Sendable, Hashable {
    public let id: String
    public let inboxSeq: Int64
    public let deviceId: String
    public let metricCode: UInt32
    public let effectiveAtMs: Int64
    public let issuedAtMs: Int64
    public let implausible: Bool
    /// The FHIR R4 Observation JSON.
    public let resource: [UInt8]
    /// The device's signature over the Observation; nil when quarantined.
    public let signature: ObservationSignature?
    /// Why the reading could not be signed (unknown device, expired, revoked…).
    public let quarantineReason: String?

    public init(id: String, inboxSeq: Int64, deviceId: String, metricCode: UInt32, effectiveAtMs: Int64, issuedAtMs: Int64, implausible: Bool, resource: [UInt8],
                signature: ObservationSignature? = nil, quarantineReason: String? = nil) {
        self.id = id
        self.inboxSeq = inboxSeq
        self.deviceId = deviceId
        self.metricCode = metricCode
        self.effectiveAtMs = effectiveAtMs
        self.issuedAtMs = issuedAtMs
        self.implausible = implausible
        self.resource = resource
        self.signature = signature
        self.quarantineReason = quarantineReason
    }
}

/// A compact detached JWS (RFC 7515) over the JCS bytes of the Observation, with the parts the
/// journal stores (`StoredSignature`), made where it is signed: the serial commit does not
/// parse the text back (issue #16: that parse was 9 % of the daemon's samples).
public struct ObservationSignature: Sendable, Hashable {
    public let jws: String
    public let signedAtMs: Int64
    /// base64url SHA-256 of the signing certificate (the JWS `x5t#S256`).
    public let certificateThumbprint: String
    let stored: StoredSignature

    public init(jws: String, signedAtMs: Int64, certificateThumbprint: String) {
        self.init(stored: StoredSignature(jws: jws, thumbprint: certificateThumbprint), signedAtMs: signedAtMs)
    }

    /// A signature in parts (`DeviceSigner.signDetached`): the protected header's JSON as
    /// `headerPrefix + iat digits + headerSuffix` (no `iat`: all of it in the prefix) and the raw
    /// r‖s. `jws` is written from them.
    public init(headerPrefix: [UInt8], iat: Int64?, headerSuffix: [UInt8], signature: [UInt8], signedAtMs: Int64, certificateThumbprint: String) {
        let header = StoredSignature.Header(prefix: headerPrefix, suffix: headerSuffix, thumbprint: certificateThumbprint)
        self.init(stored: StoredSignature(header: header, iat: iat, raw: signature), signedAtMs: signedAtMs)
    }

    init(stored: StoredSignature, signedAtMs: Int64) {
        self.stored = stored
        self.jws = stored.jws
        self.signedAtMs = signedAtMs
        self.certificateThumbprint = stored.header.thumbprint
    }
}

/// A message that could not become Observations, and why. Its raw bytes stay in the inbox.
public struct DeadLetter: Sendable, Hashable {
    public let inboxSeq: Int64
    public let topic: String
    public let deviceId: String?
    public let kind: String
    public let reason: String

    public init(inboxSeq: Int64, topic: String, deviceId: String?, kind: String, reason: String) {
        self.inboxSeq = inboxSeq
        self.topic = topic
        self.deviceId = deviceId
        self.kind = kind
        self.reason = reason
    }
}

public struct StoredDeadLetter: Sendable, Hashable {
    public let id: Int64
    public let letter: DeadLetter
    public let createdAtMs: Int64
}

public struct StoredObservation: Sendable, Hashable {
    public let id: String
    public let deviceId: String
    public let issuedAtMs: Int64
    public let implausible: Bool
    public let resource: [UInt8]
    public let signature: ObservationSignature?
    public let quarantineReason: String?
}
