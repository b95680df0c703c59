/// The event-info of an event report, decoded by event type.
public enum EventInfo: Sendable, Hashable {
    case configReport(ConfigReport)
    case scanFixed(ScanReportFixed)
    case scanVar(ScanReportVar)
    case scanMPFixed(ScanReportMPFixed)
    case scanMPVar(ScanReportMPVar)
    case scanGrouped(ScanReportGrouped)
    case scanMPGrouped(ScanReportMPGrouped)
    /// Event types this codec does not interpret (PM-store segment data, vendor events).
    case opaque([UInt8])

    /// Which structure an event type carries.
    enum Layout {
        case config, fixed, variable, mpFixed, mpVariable, grouped, mpGrouped, opaque

        init(eventType: UInt16) {
            switch eventType {
            case EventType.config: self = .config
            case EventType.scanReportFixed, EventType.unbufScanReportFixed, EventType.bufScanReportFixed: self = .fixed
            case EventType.scanReportVar, EventType.unbufScanReportVar, EventType.bufScanReportVar: self = .variable
            case EventType.scanReportMPFixed, EventType.unbufScanReportMPFixed, EventType.bufScanReportMPFixed: self = .mpFixed
            case EventType.scanReportMPVar, EventType.unbufScanReportMPVar, EventType.bufScanReportMPVar: self = .mpVariable
            case EventType.unbufScanReportGrouped, EventType.bufScanReportGrouped: self = .grouped
            case EventType.unbufScanReportMPGrouped, EventType.bufScanReportMPGrouped: self = .mpGrouped
            default: self = .opaque
            }
        }
    }
}

/// ConfigReport: the agent's object list for a configuration id.
public struct ConfigReport: Sendable, Hashable {
    public let configReportId: UInt16
    public let objects: [ConfigObject]

    public init(configReportId: UInt16, objects: [ConfigObject]) {
        self.configReportId = configReportId
        self.objects = objects
    }
}

public struct ConfigObject: Sendable, Hashable {
    public let objectClass: UInt16
    public let handle: UInt16
    public let attributes: [AttributeValue]

    public init(objectClass: UInt16, handle: UInt16, attributes: [AttributeValue]) {
        self.objectClass = objectClass
        self.handle = handle
        self.attributes = attributes
    }
}

/// ConfigReportRsp.
public struct ConfigReportResponse: Sendable, Hashable {
    public let configReportId: UInt16
    /// Raw result; `ConfigResult(rawValue:)` names it.
    public let result: UInt16

    public init(configReportId: UInt16, result: ConfigResult) {
        self.configReportId = configReportId
        self.result = result.rawValue
    }

    public init(configReportId: UInt16, rawResult: UInt16) {
        self.configReportId = configReportId
        self.result = rawResult
    }
}

/// ObservationScanFixed: a handle and its values laid out by the object's attribute value map.
public struct ObservationScanFixed: Sendable, Hashable {
    public let handle: UInt16
    public let data: [UInt8]

    public init(handle: UInt16, data: [UInt8]) {
        self.handle = handle
        self.data = data
    }
}

/// ObservationScan: a handle and self-describing attributes.
public struct ObservationScan: Sendable, Hashable {
    public let handle: UInt16
    public let attributes: [AttributeValue]

    public init(handle: UInt16, attributes: [AttributeValue]) {
        self.handle = handle
        self.attributes = attributes
    }
}

public struct ScanReportFixed: Sendable, Hashable {
    public let dataRequestId: UInt16
    public let scanReportNumber: UInt16
    public let observations: [ObservationScanFixed]

    public init(dataRequestId: UInt16, scanReportNumber: UInt16, observations: [ObservationScanFixed]) {
        self.dataRequestId = dataRequestId
        self.scanReportNumber = scanReportNumber
        self.observations = observations
    }
}

public struct ScanReportVar: Sendable, Hashable {
    public let dataRequestId: UInt16
    public let scanReportNumber: UInt16
    public let observations: [ObservationScan]

    public init(dataRequestId: UInt16, scanReportNumber: UInt16, observations: [ObservationScan]) {
        self.dataRequestId = dataRequestId
        self.scanReportNumber = scanReportNumber
        self.observations = observations
    }
}

public struct PersonFixedObservations: Sendable, Hashable {
    public let personId: UInt16
    public let observations: [ObservationScanFixed]

    public init(personId: UInt16, observations: [ObservationScanFixed]) {
        self.personId = personId
        self.observations = observations
    }
}

public struct PersonVarObservations: Sendable, Hashable {
    public let personId: UInt16
    public let observations: [ObservationScan]

    public init(personId: UInt16, observations: [ObservationScan]) {
        self.personId = personId
        self.observations = observations
    }
}

public struct ScanReportMPFixed: Sendable, Hashable {
    public let dataRequestId: UInt16
    public let scanReportNumber: UInt16
    public let persons: [PersonFixedObservations]

    public init(dataRequestId: UInt16, scanReportNumber: UInt16, persons: [PersonFixedObservations]) {
        self.dataRequestId = dataRequestId
        self.scanReportNumber = scanReportNumber
        self.persons = persons
    }
}

public struct ScanReportMPVar: Sendable, Hashable {
    public let dataRequestId: UInt16
    public let scanReportNumber: UInt16
    public let persons: [PersonVarObservations]

    public init(dataRequestId: UInt16, scanReportNumber: UInt16, persons: [PersonVarObservations]) {
        self.dataRequestId = dataRequestId
        self.scanReportNumber = scanReportNumber
        self.persons = persons
    }
}

/// Grouped reports: each group is laid out by the scanner's handle attribute value map.
public struct ScanReportGrouped: Sendable, Hashable {
    public let dataRequestId: UInt16
    public let scanReportNumber: UInt16
    public let groups: [[UInt8]]

    public init(dataRequestId: UInt16, scanReportNumber: UInt16, groups: [[UInt8]]) {
        self.dataRequestId = dataRequestId
        self.scanReportNumber = scanReportNumber
        self.groups = groups
    }
}

public struct PersonGroupedObservations: Sendable, Hashable {
    public let personId: UInt16
    public let group: [UInt8]

    public init(personId: UInt16, group: [UInt8]) {
        self.personId = personId
        self.group = group
    }
}

public struct ScanReportMPGrouped: Sendable, Hashable {
    public let dataRequestId: UInt16
    public let scanReportNumber: UInt16
    public let persons: [PersonGroupedObservations]

    public init(dataRequestId: UInt16, scanReportNumber: UInt16, persons: [PersonGroupedObservations]) {
        self.dataRequestId = dataRequestId
        self.scanReportNumber = scanReportNumber
        self.persons = persons
    }
}
