/// One observation exactly as the agent reported it, before mapping to a `Reading`.
///
/// Every observation the manager decodes is returned this way, including those that cannot
/// become a Reading (an MDC term the shared Nomenclature lacks, a flagged measurement), so
/// nothing is silently lost.
public struct DecodedObservation: Sendable, Hashable {
    public let handle: UInt16
    /// Multi-person reports (MP scan reports) say whose measurement this is.
    public let personId: UInt16?
    public let type: MetricType?
    /// Unit from the configuration, or from a Unit-Code sent with the value.
    public let unitCode: UInt16?
    public let value: ObservedValue
    /// The attribute the value came from (NU_VAL_OBS_BASIC, NU_VAL_OBS_SIMP, ...).
    public let valueAttribute: UInt16
    public let absoluteTime: AbsoluteTime?
    public let relativeTime: UInt32?
    public let measurementStatus: UInt16?
    /// Component term codes of a compound value (the object's Metric-Id-List), in value order.
    public let componentIds: [UInt16]?

    public init(
        handle: UInt16, personId: UInt16?, type: MetricType?, unitCode: UInt16?, value: ObservedValue,
        valueAttribute: UInt16, absoluteTime: AbsoluteTime?, relativeTime: UInt32?, measurementStatus: UInt16?,
        componentIds: [UInt16]? = nil
    ) {
        self.handle = handle
        self.personId = personId
        self.type = type
        self.unitCode = unitCode
        self.value = value
        self.valueAttribute = valueAttribute
        self.absoluteTime = absoluteTime
        self.relativeTime = relativeTime
        self.measurementStatus = measurementStatus
        self.componentIds = componentIds
    }
}

public enum ObservedValue: Sendable, Hashable {
    case numeric(MDERNumber)
    /// Compound values (BP systolic/diastolic/mean) in the order the agent sent them.
    /// `metricId` is set when the value carries its own id (NuObsValueCmp).
    case compound([CompoundComponent])
    /// Enumeration observations (an OID, a bit string, or text).
    case enumerationCode(UInt16)
    case enumerationBits(UInt32)
    case enumerationText([UInt8])
}

public struct CompoundComponent: Sendable, Hashable {
    public let metricId: UInt16?
    public let unitCode: UInt16?
    public let value: MDERNumber
    public let state: UInt16?

    public init(metricId: UInt16?, unitCode: UInt16? = nil, value: MDERNumber, state: UInt16? = nil) {
        self.metricId = metricId
        self.unitCode = unitCode
        self.value = value
        self.state = state
    }
}

/// An observation kept out of the Readings, with the reason. Nothing is dropped silently.
public struct DeadLetter: Sendable, Hashable, CustomStringConvertible {
    public let handle: UInt16
    public let personId: UInt16?
    /// The decoded observation, when the entry decoded at all.
    public let observation: DecodedObservation?
    public let reason: String

    public init(handle: UInt16, personId: UInt16?, observation: DecodedObservation?, reason: String) {
        self.handle = handle
        self.personId = personId
        self.observation = observation
        self.reason = reason
    }

    public var description: String {
        let person = personId.map { " person 0x\(hex16($0))" } ?? ""
        return "handle \(handle)\(person): \(reason)"
    }
}
