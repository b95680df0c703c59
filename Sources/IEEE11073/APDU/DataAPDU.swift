/// DATA-apdu, the content of a PRST: an invoke id and one ROSE message.
public struct DataAPDU: Sendable, Hashable {
    public let invokeId: UInt16
    public let message: DataMessage

    public init(invokeId: UInt16, message: DataMessage) {
        self.invokeId = invokeId
        self.message = message
    }
}

/// The DATA-apdu message choices this codec understands.
public enum DataMessage: Sendable, Hashable {
    case roivEventReport(EventReportArgument)
    case roivConfirmedEventReport(EventReportArgument)
    case roivGet(GetArgument)
    case roivSet(SetArgument)
    case roivConfirmedSet(SetArgument)
    case roivAction(ActionArgument)
    case roivConfirmedAction(ActionArgument)
    case rorsConfirmedEventReport(EventReportResult)
    case rorsGet(GetResult)
    case rorsConfirmedSet(SetResult)
    case rorsConfirmedAction(ActionResult)
    case roer(ErrorResult)
    case rorj(RejectResult)

    public var choice: UInt16 {
        switch self {
        case .roivEventReport: DataChoice.roivEventReport
        case .roivConfirmedEventReport: DataChoice.roivConfirmedEventReport
        case .roivGet: DataChoice.roivGet
        case .roivSet: DataChoice.roivSet
        case .roivConfirmedSet: DataChoice.roivConfirmedSet
        case .roivAction: DataChoice.roivAction
        case .roivConfirmedAction: DataChoice.roivConfirmedAction
        case .rorsConfirmedEventReport: DataChoice.rorsConfirmedEventReport
        case .rorsGet: DataChoice.rorsGet
        case .rorsConfirmedSet: DataChoice.rorsConfirmedSet
        case .rorsConfirmedAction: DataChoice.rorsConfirmedAction
        case .roer: DataChoice.roer
        case .rorj: DataChoice.rorj
        }
    }

    public var name: String {
        switch self {
        case .roivEventReport: "roiv-cmip-event-report"
        case .roivConfirmedEventReport: "roiv-cmip-confirmed-event-report"
        case .roivGet: "roiv-cmip-get"
        case .roivSet: "roiv-cmip-set"
        case .roivConfirmedSet: "roiv-cmip-confirmed-set"
        case .roivAction: "roiv-cmip-action"
        case .roivConfirmedAction: "roiv-cmip-confirmed-action"
        case .rorsConfirmedEventReport: "rors-cmip-confirmed-event-report"
        case .rorsGet: "rors-cmip-get"
        case .rorsConfirmedSet: "rors-cmip-confirmed-set"
        case .rorsConfirmedAction: "rors-cmip-confirmed-action"
        case .roer: "roer"
        case .rorj: "rorj"
        }
    }

    /// ROIV messages are invocations the receiver answers (or not, when unconfirmed).
    public var isInvoke: Bool { choice >> 8 == 0x01 }
}

/// EventReportArgumentSimple.
public struct EventReportArgument: Sendable, Hashable {
    public let objectHandle: UInt16
    public let eventTime: UInt32
    public let eventType: UInt16
    public let info: EventInfo

    public init(objectHandle: UInt16, eventTime: UInt32, eventType: UInt16, info: EventInfo) {
        self.objectHandle = objectHandle
        self.eventTime = eventTime
        self.eventType = eventType
        self.info = info
    }
}

/// EventReportResultSimple.
public struct EventReportResult: Sendable, Hashable {
    public let objectHandle: UInt16
    public let currentTime: UInt32
    public let eventType: UInt16
    public let replyInfo: EventReplyInfo

    public init(objectHandle: UInt16, currentTime: UInt32, eventType: UInt16, replyInfo: EventReplyInfo) {
        self.objectHandle = objectHandle
        self.currentTime = currentTime
        self.eventType = eventType
        self.replyInfo = replyInfo
    }
}

public enum EventReplyInfo: Sendable, Hashable {
    case configResponse(ConfigReportResponse)
    /// Reply info of other event types (scan reports reply with an empty one).
    case opaque([UInt8])
}

/// GetArgumentSimple: which attributes of which object.
public struct GetArgument: Sendable, Hashable {
    public let objectHandle: UInt16
    /// Empty means "all attributes".
    public let attributeIds: [UInt16]

    public init(objectHandle: UInt16, attributeIds: [UInt16]) {
        self.objectHandle = objectHandle
        self.attributeIds = attributeIds
    }
}

/// GetResultSimple.
public struct GetResult: Sendable, Hashable {
    public let objectHandle: UInt16
    public let attributes: [AttributeValue]

    public init(objectHandle: UInt16, attributes: [AttributeValue]) {
        self.objectHandle = objectHandle
        self.attributes = attributes
    }
}

/// AttributeModEntry of a SET.
public struct AttributeModification: Sendable, Hashable {
    /// replace 0, addValues 1, removeValues 2, setToDefault 3.
    public let modifyOperator: UInt16
    public let attribute: AttributeValue

    public init(modifyOperator: UInt16, attribute: AttributeValue) {
        self.modifyOperator = modifyOperator
        self.attribute = attribute
    }
}

/// SetArgumentSimple.
public struct SetArgument: Sendable, Hashable {
    public let objectHandle: UInt16
    public let modifications: [AttributeModification]

    public init(objectHandle: UInt16, modifications: [AttributeModification]) {
        self.objectHandle = objectHandle
        self.modifications = modifications
    }
}

/// SetResultSimple.
public struct SetResult: Sendable, Hashable {
    public let objectHandle: UInt16
    public let attributes: [AttributeValue]

    public init(objectHandle: UInt16, attributes: [AttributeValue]) {
        self.objectHandle = objectHandle
        self.attributes = attributes
    }
}

/// ActionArgumentSimple. The arguments stay encoded: their type depends on the action.
public struct ActionArgument: Sendable, Hashable {
    public let objectHandle: UInt16
    public let actionType: UInt16
    public let arguments: [UInt8]

    public init(objectHandle: UInt16, actionType: UInt16, arguments: [UInt8]) {
        self.objectHandle = objectHandle
        self.actionType = actionType
        self.arguments = arguments
    }
}

/// ActionResultSimple.
public struct ActionResult: Sendable, Hashable {
    public let objectHandle: UInt16
    public let actionType: UInt16
    public let result: [UInt8]

    public init(objectHandle: UInt16, actionType: UInt16, result: [UInt8]) {
        self.objectHandle = objectHandle
        self.actionType = actionType
        self.result = result
    }
}

/// ErrorResult (ROER).
public struct ErrorResult: Sendable, Hashable {
    public let errorValue: UInt16
    public let parameter: [UInt8]

    public init(errorValue: UInt16, parameter: [UInt8] = []) {
        self.errorValue = errorValue
        self.parameter = parameter
    }
}

/// RejectResult (RORJ).
public struct RejectResult: Sendable, Hashable {
    public let problem: UInt16

    public init(problem: UInt16) { self.problem = problem }
}
