/// Why a payload could not become readings. Each becomes a dead-letter record and a counter.
public struct DecodeError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Kind: String, Sendable, Hashable, CaseIterable {
        case unknownTopic = "unknown_topic"
        case invalidDeviceId = "invalid_device_id"
        case oversized
        /// A topic, or the device segment of one, longer than the router's caps (`IngestAdmission`).
        case topicTooLong = "topic_too_long"
        case deviceIdTooLong = "device_id_too_long"
        /// Its device holds more than its share of the journal quota (`DeviceShares`).
        case deviceQuota = "device_quota"
        case invalidUTF8 = "invalid_utf8"
        case invalidJSON = "invalid_json"
        case wrongType = "wrong_type"
        case missingField = "missing_field"
        case invalidTimestamp = "invalid_timestamp"
        case unitMismatch = "unit_mismatch"
        case noReadings = "no_readings"
        case unsupportedFormat = "unsupported_format"
        case normalization
        case protocolError = "protocol_error"
        /// A measurement the device itself marked unusable (11073 measurement status).
        case excludedMeasurement = "excluded_measurement"
    }

    public let kind: Kind
    public let reason: String

    public init(_ kind: Kind, _ reason: String) {
        self.kind = kind
        self.reason = reason
    }

    public var description: String { "\(kind.rawValue): \(reason)" }
}
