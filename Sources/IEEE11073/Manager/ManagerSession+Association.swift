extension ManagerSession {
    enum AssociationDecision {
        case reject(AssociationResult, String)
        case accept(PhdAssociationInformation, SystemId, protocolVersion: UInt32)
    }

    /// Checks an AARQ in the order the fields appear, answering with the first failure.
    static func evaluate(_ request: AssociationRequest) -> AssociationDecision {
        guard request.assocVersion & AssociationConstants.assocVersion1 != 0 else {
            return .reject(.rejectedUnsupportedAssocVersion,
                "assoc-version 0x\(String(request.assocVersion, radix: 16)) does not include assoc-version1")
        }
        guard let info = request.phdInformation else {
            let offered = request.dataProtocols.map { String($0.id) }.joined(separator: ", ")
            return .reject(.rejectedNoCommonProtocol, "no 20601 data protocol offered (offered: [\(offered)])")
        }
        let versions = [AssociationConstants.protocolVersion3, AssociationConstants.protocolVersion2, AssociationConstants.protocolVersion1]
        guard let version = versions.first(where: { info.protocolVersion & $0 != 0 }) else {
            return .reject(.rejectedNoCommonParameter,
                "protocol-version 0x\(String(info.protocolVersion, radix: 16)) offers none of versions 1-3")
        }
        guard info.encodingRules & AssociationConstants.encodingMDER != 0 else {
            return .reject(.rejectedNoCommonParameter,
                "encoding-rules 0x\(hex16(info.encodingRules)) do not include MDER, the only encoding this manager supports")
        }
        guard info.nomenclatureVersion & AssociationConstants.nomenclatureVersion1 != 0 else {
            return .reject(.rejectedNoCommonParameter,
                "nomenclature-version 0x\(String(info.nomenclatureVersion, radix: 16)) does not include version 1")
        }
        guard info.systemType & AssociationConstants.systemTypeAgent != 0 else {
            return .reject(.rejectedPermanent, "system-type 0x\(String(info.systemType, radix: 16)) is not an agent")
        }
        guard let systemId = SystemId(info.systemId) else {
            return .reject(.rejectedPermanent, "system-id has \(info.systemId.count) bytes; an EUI-64 has 8")
        }
        guard info.devConfigId != 0, info.devConfigId <= AssociationConstants.extendedConfigurationEnd else {
            return .reject(.rejectedPermanent, "dev-config-id 0x\(hex16(info.devConfigId)) is reserved")
        }
        return .accept(info, systemId, protocolVersion: version)
    }

    mutating func associate(_ request: AssociationRequest, now: Duration, _ result: inout ManagerResult) {
        state = .associating
        switch Self.evaluate(request) {
        case .reject(let code, let reason):
            result.send(.aare(AssociationResponse(result: code, selectedDataProtocol: .none)))
            result.reject(.associationRejected, reason)
            result.events.append(.associationRejected(code))
            reset()
        case .accept(let info, let systemId, let version):
            let configId = info.devConfigId
            let known = StandardConfigurations.configuration(id: configId)
                ?? (configId >= AssociationConstants.extendedConfigurationStart
                    ? store.configuration(systemId: systemId, configId: configId) : nil)
            agent = AgentAssociation(systemId: systemId, requestedConfigId: configId, protocolVersion: version, information: info)
            let answer = PhdAssociationInformation(
                protocolVersion: version,
                encodingRules: AssociationConstants.encodingMDER,
                nomenclatureVersion: AssociationConstants.nomenclatureVersion1,
                functionalUnits: 0,
                systemType: AssociationConstants.systemTypeManager,
                systemId: settings.managerSystemId.bytes,
                devConfigId: AssociationConstants.managerConfigResponse)
            if let known {
                result.send(.aare(AssociationResponse(result: .accepted, selectedDataProtocol: .phd(answer))))
                configuration = known
                state = .operating
            } else {
                result.send(.aare(AssociationResponse(result: .acceptedUnknownConfig, selectedDataProtocol: .phd(answer))))
                configuration = nil
                state = .configuring
                deadlines[.configuration] = now + settings.timeouts.configuration
            }
            result.events.append(.associated(systemId: systemId, configId: configId, configurationKnown: known != nil))
        }
    }

    /// Waiting for config: only the MDS config report is allowed.
    mutating func handleWhileConfiguring(_ data: DataAPDU, now: Duration, _ result: inout ManagerResult) {
        switch data.message {
        case .roivConfirmedEventReport(let argument)
        where argument.objectHandle == 0 && argument.eventType == EventType.config:
            guard case .configReport(let report) = argument.info else { return }
            acceptConfiguration(report, argument: argument, invokeId: data.invokeId, now: now, &result)
        case .roivConfirmedEventReport, .roivEventReport, .roivGet, .roivConfirmedSet, .roivConfirmedAction:
            sendError(data.invokeId, ErrorValue.notAllowedByObject, &result)
            result.reject(.wrongState, "\(data.message.name) is not allowed while waiting for the configuration report")
        case .roivSet, .roivAction:
            result.reject(.wrongState, "\(data.message.name) is not allowed while waiting for the configuration report")
        case .rorsConfirmedEventReport, .rorsGet, .rorsConfirmedSet, .rorsConfirmedAction, .roer, .rorj:
            handleResponse(data, &result)
        }
    }

    mutating func acceptConfiguration(
        _ report: ConfigReport, argument: EventReportArgument, invokeId: UInt16, now: Duration, _ result: inout ManagerResult
    ) {
        func answer(_ code: ConfigResult) -> APDU {
            .prst(DataAPDU(invokeId: invokeId, message: .rorsConfirmedEventReport(EventReportResult(
                objectHandle: argument.objectHandle, currentTime: 0, eventType: EventType.config,
                replyInfo: .configResponse(ConfigReportResponse(configReportId: report.configReportId, result: code))))))
        }
        do {
            let learned = try Configuration(report: report)
            var persisted = false
            if learned.isExtended, let systemId = agent?.systemId {
                store.save(learned, systemId: systemId)
                persisted = true
            }
            if let requested = agent?.requestedConfigId, requested != 0, requested != learned.id {
                result.notes.append("config report id 0x\(hex16(learned.id)) differs from the AARQ's 0x\(hex16(requested))")
            }
            configuration = learned
            state = .operating
            deadlines[.configuration] = nil
            result.send(answer(.acceptedConfig))
            result.events.append(.configured(learned, persisted: persisted))
        } catch {
            result.send(answer(.unsupportedConfig))
            result.reject(.unsupportedConfiguration, "configuration 0x\(hex16(report.configReportId)): \(error.reason)")
            result.events.append(.configurationRefused(configId: report.configReportId))
            // The agent may offer another configuration: wait a full TO_config again.
            deadlines[.configuration] = now + settings.timeouts.configuration
        }
    }
}
