extension APDU {
    /// One line for logs and the decode command: `PRST invoke 0x4321 roiv-cmip-confirmed-event-report MDC_NOTI_CONFIG`.
    public var summary: String {
        switch self {
        case .aarq(let request):
            guard let info = request.phdInformation else { return "AARQ (no 20601 protocol)" }
            return "AARQ system-id \(MDERHex.string(info.systemId)) dev-config-id 0x\(hex16(info.devConfigId)) encoding 0x\(hex16(info.encodingRules))"
        case .aare(let response):
            let name = response.associationResult.map { "\($0)" } ?? "result \(response.result)"
            return "AARE \(name)"
        case .rlrq(let reason): return "RLRQ reason \(reason)"
        case .rlre(let reason): return "RLRE reason \(reason)"
        case .abrt(let reason):
            return "ABRT \(AbortReason(rawValue: reason).map { "\($0)" } ?? "reason \(reason)")"
        case .prst(let data):
            var text = "PRST invoke 0x\(hex16(data.invokeId)) \(data.message.name)"
            switch data.message {
            case .roivEventReport(let argument), .roivConfirmedEventReport(let argument):
                text += " handle \(argument.objectHandle) \(EventType.name(argument.eventType))"
                if case .configReport(let report) = argument.info {
                    text += " config 0x\(hex16(report.configReportId)) (\(report.objects.count) objects)"
                }
            case .rorsConfirmedEventReport(let result):
                text += " handle \(result.objectHandle) \(EventType.name(result.eventType))"
                if case .configResponse(let response) = result.replyInfo {
                    let name = ConfigResult(rawValue: response.result).map { "\($0)" } ?? "result \(response.result)"
                    text += " config 0x\(hex16(response.configReportId)) \(name)"
                }
            case .roer(let error): text += " error-value \(error.errorValue)"
            case .rorj(let reject): text += " problem \(reject.problem)"
            case .rorsGet(let result): text += " handle \(result.objectHandle) (\(result.attributes.count) attributes)"
            default: break
            }
            return text
        }
    }
}
