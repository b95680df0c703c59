import Foundation
import Nomenclature

/// One measurement as a device reported it, before normalization to FHIR.
///
/// Decoders (device profiles, the 11073 manager) produce these; the normalizer turns them into
/// Observations. Units are as published; conversion to canonical UCUM happens in normalization.
public struct Reading: Sendable, Hashable {
    public let deviceId: String
    public let metric: MetricTerm
    public let value: ReadingValue
    /// When the device says it measured. Nil if the payload carries no time.
    public let deviceTime: DeviceTime?

    public init(deviceId: String, metric: MetricTerm, value: ReadingValue, deviceTime: DeviceTime?) {
        self.deviceId = deviceId
        self.metric = metric
        self.value = value
        self.deviceTime = deviceTime
    }
}

public enum ReadingValue: Sendable, Hashable {
    case single(MeasuredValue)
    /// A panel such as blood pressure: one value per component role present.
    case panel([ComponentRole: MeasuredValue])
}

public enum MeasuredValue: Sendable, Hashable {
    case quantity(Quantity)
    /// The device sent a value that is not a number (11073 NaN, NRes, ±INF): never a number in FHIR.
    case absent(DataAbsentReason)
}

public struct Quantity: Sendable, Hashable {
    public let value: DecimalNumber
    /// The UCUM unit as published by the device.
    public let unit: String

    public init(value: DecimalNumber, unit: String) {
        self.value = value
        self.unit = unit
    }
}

/// FHIR R4 data-absent-reason codes used for device values that are not numbers.
public enum DataAbsentReason: String, Sendable, Hashable {
    case notANumber = "not-a-number"
    case positiveInfinity = "positive-infinity"
    case negativeInfinity = "negative-infinity"
    case error
    case unknown
}

/// The device's own clock reading.
public struct DeviceTime: Sendable, Hashable {
    public let instant: Date
    /// The UTC offset to print the time in, in seconds east of UTC.
    public let utcOffsetSeconds: Int
    /// True when the device sent no offset and the gateway's offset was applied (11073 AbsoluteTime).
    public let offsetAssumed: Bool

    public init(instant: Date, utcOffsetSeconds: Int = 0, offsetAssumed: Bool = false) {
        self.instant = instant
        self.utcOffsetSeconds = utcOffsetSeconds
        self.offsetAssumed = offsetAssumed
    }
}
