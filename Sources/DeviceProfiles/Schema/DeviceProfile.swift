import Foundation
import JSONDocument
import Nomenclature
import Observations

/// A declarative description of how one kind of device publishes, written by device integrators.
public struct DeviceProfile: Sendable, Hashable {
    public let id: String
    public let description: String
    public let topic: TopicPattern
    public let format: PayloadFormat
    public let timestamp: TimestampLocation?
    public let metrics: [MetricMapping]
    /// Larger payloads are dead-lettered unread: a wearable's vitals fit in a few hundred bytes.
    public let maxPayloadBytes: Int
    /// Where an 11073 manager publishes its replies (format `ieee11073-20601` only).
    public let managerTopic: String?
    /// The file it was loaded from, for error messages.
    public let sourceFile: String

    public static let defaultMaxPayloadBytes = 65_536
}

public enum PayloadFormat: String, Sendable, Hashable, CaseIterable {
    case json
    case senml
    case ieee11073 = "ieee11073-20601"
}

public struct TimestampLocation: Sendable, Hashable {
    public let pointer: JSONPointer
    public let format: TimestampFormat
}

public enum TimestampFormat: String, Sendable, Hashable, CaseIterable {
    case rfc3339
    case epochSeconds = "epoch-s"
    case epochMilliseconds = "epoch-ms"
}

/// How one metric is found in a payload and what it means.
public struct MetricMapping: Sendable, Hashable {
    public let metric: MetricTerm
    public let source: MetricSource
    /// The UCUM unit of the value as published.
    public let unit: String
    /// For SenML: the unit the record's `u` carries, when the SenML registry spells it differently.
    public let senmlUnit: String?
    /// Multiplies the published value, e.g. 0.1 for a temperature sent in tenths.
    public let scale: DecimalNumber?
    /// Plausible bounds in the published unit; values outside are kept but flagged.
    public let range: PlausibleRange?
    /// A payload without this metric is an error rather than a partial reading.
    public let required: Bool
}

public enum MetricSource: Sendable, Hashable {
    /// A JSON pointer (format json) or a SenML record name (format senml).
    case field(String)
    case components([ComponentRole: String])
}
