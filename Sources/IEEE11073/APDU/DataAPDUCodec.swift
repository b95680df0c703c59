extension DataAPDU {
    static func decode(_ reader: inout MDERReader) throws(DecodeError) -> DataAPDU {
        let invokeId = try reader.u16("invoke-id")
        let choice = try reader.u16("message.choice")
        var body = try reader.lengthPrefixedWindow("message")
        let message: DataMessage
        switch choice {
        case DataChoice.roivEventReport:
            message = .roivEventReport(try EventReportArgument.decode(&body))
        case DataChoice.roivConfirmedEventReport:
            message = .roivConfirmedEventReport(try EventReportArgument.decode(&body))
        case DataChoice.roivGet:
            message = .roivGet(GetArgument(
                objectHandle: try body.u16("obj-handle"),
                attributeIds: try body.list("attribute-id-list", minimumElementSize: 2) {
                    (element: inout MDERReader, index: Int) throws(DecodeError) in try element.u16("[\(index)]")
                }))
        case DataChoice.roivSet, DataChoice.roivConfirmedSet:
            let argument = SetArgument(
                objectHandle: try body.u16("obj-handle"),
                modifications: try body.list("modification-list", minimumElementSize: 6) {
                    (element: inout MDERReader, index: Int) throws(DecodeError) in
                    AttributeModification(
                        modifyOperator: try element.u16("[\(index)].modify-operator"),
                        attribute: try AttributeValue.decode(&element, "[\(index)].attribute"))
                })
            message = choice == DataChoice.roivSet ? .roivSet(argument) : .roivConfirmedSet(argument)
        case DataChoice.roivAction, DataChoice.roivConfirmedAction:
            let argument = ActionArgument(
                objectHandle: try body.u16("obj-handle"),
                actionType: try body.u16("action-type"),
                arguments: try body.octetString("action-info-args"))
            message = choice == DataChoice.roivAction ? .roivAction(argument) : .roivConfirmedAction(argument)
        case DataChoice.rorsConfirmedEventReport:
            message = .rorsConfirmedEventReport(try EventReportResult.decode(&body))
        case DataChoice.rorsGet:
            message = .rorsGet(GetResult(
                objectHandle: try body.u16("obj-handle"),
                attributes: try AttributeValue.decodeList(&body, "attribute-list")))
        case DataChoice.rorsConfirmedSet:
            message = .rorsConfirmedSet(SetResult(
                objectHandle: try body.u16("obj-handle"),
                attributes: try AttributeValue.decodeList(&body, "attribute-list")))
        case DataChoice.rorsConfirmedAction:
            message = .rorsConfirmedAction(ActionResult(
                objectHandle: try body.u16("obj-handle"),
                actionType: try body.u16("action-type"),
                result: try body.octetString("action-info-args")))
        case DataChoice.roer:
            message = .roer(ErrorResult(
                errorValue: try body.u16("error-value"), parameter: try body.octetString("parameter")))
        case DataChoice.rorj:
            message = .rorj(RejectResult(problem: try body.u16("problem")))
        default:
            throw DecodeError(.invalidValue, field: "message.choice", offset: body.offset - 4,
                detail: "0x\(hex16(choice)) is not a DATA-apdu choice (invoke-id 0x\(hex16(invokeId)))")
        }
        try body.finish("message")
        return DataAPDU(invokeId: invokeId, message: message)
    }

    func encode(_ writer: inout MDERWriter) throws(EncodeError) {
        writer.u16(invokeId)
        writer.u16(message.choice)
        try writer.lengthPrefixed("\(message.name) message") { (body: inout MDERWriter) throws(EncodeError) in
            switch message {
            case .roivEventReport(let argument), .roivConfirmedEventReport(let argument):
                try argument.encode(&body)
            case .roivGet(let argument):
                body.u16(argument.objectHandle)
                try body.list(argument.attributeIds, "attribute-id-list") { (inner: inout MDERWriter, id: UInt16) throws(EncodeError) in inner.u16(id) }
            case .roivSet(let argument), .roivConfirmedSet(let argument):
                body.u16(argument.objectHandle)
                try body.list(argument.modifications, "modification-list") { (inner: inout MDERWriter, entry: AttributeModification) throws(EncodeError) in
                    inner.u16(entry.modifyOperator)
                    try entry.attribute.encode(&inner)
                }
            case .roivAction(let argument), .roivConfirmedAction(let argument):
                body.u16(argument.objectHandle)
                body.u16(argument.actionType)
                try body.octetString(argument.arguments, "action-info-args")
            case .rorsConfirmedEventReport(let result):
                try result.encode(&body)
            case .rorsGet(let result):
                body.u16(result.objectHandle)
                try AttributeValue.encodeList(result.attributes, &body)
            case .rorsConfirmedSet(let result):
                body.u16(result.objectHandle)
                try AttributeValue.encodeList(result.attributes, &body)
            case .rorsConfirmedAction(let result):
                body.u16(result.objectHandle)
                body.u16(result.actionType)
                try body.octetString(result.result, "action-info-args")
            case .roer(let error):
                body.u16(error.errorValue)
                try body.octetString(error.parameter, "error parameter")
            case .rorj(let reject):
                body.u16(reject.problem)
            }
        }
    }
}

extension EventReportArgument {
    static func decode(_ reader: inout MDERReader) throws(DecodeError) -> EventReportArgument {
        let handle = try reader.u16("obj-handle")
        let time = try reader.u32("event-time")
        let type = try reader.u16("event-type")
        var infoReader = try reader.lengthPrefixedWindow("event-info(\(EventType.name(type)))")
        let info = try EventInfo.decode(&infoReader, eventType: type)
        try infoReader.finish("event-info")
        return EventReportArgument(objectHandle: handle, eventTime: time, eventType: type, info: info)
    }

    func encode(_ writer: inout MDERWriter) throws(EncodeError) {
        writer.u16(objectHandle)
        writer.u32(eventTime)
        writer.u16(eventType)
        try writer.lengthPrefixed("event-info") { (inner: inout MDERWriter) throws(EncodeError) in try info.encode(&inner) }
    }
}

extension EventReportResult {
    static func decode(_ reader: inout MDERReader) throws(DecodeError) -> EventReportResult {
        let handle = try reader.u16("obj-handle")
        let time = try reader.u32("currentTime")
        let type = try reader.u16("event-type")
        var replyReader = try reader.lengthPrefixedWindow("event-reply-info")
        let reply: EventReplyInfo
        if type == EventType.config {
            reply = .configResponse(ConfigReportResponse(
                configReportId: try replyReader.u16("config-report-id"),
                rawResult: try replyReader.u16("config-result")))
        } else {
            reply = .opaque(try replyReader.bytes(replyReader.remaining, "event-reply-info"))
        }
        try replyReader.finish("event-reply-info")
        return EventReportResult(objectHandle: handle, currentTime: time, eventType: type, replyInfo: reply)
    }

    func encode(_ writer: inout MDERWriter) throws(EncodeError) {
        writer.u16(objectHandle)
        writer.u32(currentTime)
        writer.u16(eventType)
        switch replyInfo {
        case .configResponse(let response):
            writer.u16(4)
            writer.u16(response.configReportId)
            writer.u16(response.result)
        case .opaque(let bytes):
            try writer.octetString(bytes, "event-reply-info")
        }
    }
}
