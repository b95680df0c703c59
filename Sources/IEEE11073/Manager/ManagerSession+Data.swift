extension ManagerSession {
    mutating func handleWhileOperating(_ data: DataAPDU, _ result: inout ManagerResult) {
        switch data.message {
        case .roivConfirmedEventReport(let argument):
            eventReport(argument, invokeId: data.invokeId, confirmed: true, &result)
        case .roivEventReport(let argument):
            eventReport(argument, invokeId: data.invokeId, confirmed: false, &result)
        case .roivGet, .roivConfirmedSet, .roivConfirmedAction:
            sendError(data.invokeId, ErrorValue.noSuchObjectInstance, &result)
            result.reject(.unsupportedOperation, "\(data.message.name): the manager has no objects an agent can address")
        case .roivSet, .roivAction:
            result.reject(.unsupportedOperation, "\(data.message.name): the manager has no objects an agent can address")
        case .rorsConfirmedEventReport, .rorsGet, .rorsConfirmedSet, .rorsConfirmedAction, .roer, .rorj:
            handleResponse(data, &result)
        }
    }

    mutating func handleWhileDisassociating(_ data: DataAPDU, _ result: inout ManagerResult) {
        if data.message.isInvoke {
            // 20601: invocations arriving while the release is under way are discarded, unanswered.
            result.reject(.wrongState, "\(data.message.name) discarded: the association is being released")
        } else {
            handleResponse(data, &result)
        }
    }

    /// Data from the MDS (handle 0) or a scanner: decode, map to Readings, confirm.
    mutating func eventReport(_ argument: EventReportArgument, invokeId: UInt16, confirmed: Bool, _ result: inout ManagerResult) {
        guard let configuration else {
            result.reject(.wrongState, "no configuration is in force")
            abortAssociation(.undefined, &result)
            return
        }
        let eventName = EventType.name(argument.eventType)
        var scanner: ConfiguredObject?
        if argument.objectHandle == 0 {
            guard EventType.mdsScanReports.contains(argument.eventType) else {
                if argument.eventType == EventType.config {
                    if confirmed { sendError(invokeId, ErrorValue.notAllowedByObject, &result) }
                    result.reject(.wrongState, "config report while operating: the configuration is already agreed")
                } else {
                    if confirmed { sendReject(invokeId, RejectProblem.unrecognizedOperation, &result) }
                    result.reject(.unsupportedOperation, "\(eventName) from the MDS is not supported")
                }
                return
            }
        } else {
            guard let object = configuration.object(handle: argument.objectHandle) else {
                if confirmed { sendError(invokeId, ErrorValue.noSuchObjectInstance, &result) }
                result.reject(.unknownObject,
                    "\(eventName) from handle \(argument.objectHandle), which configuration 0x\(hex16(configuration.id)) does not define")
                return
            }
            guard object.isScanner, EventType.scannerReports.contains(argument.eventType) else {
                if confirmed { sendReject(invokeId, RejectProblem.unrecognizedOperation, &result) }
                result.reject(.unsupportedOperation,
                    "handle \(object.handle) (\(ObjectClass.name(object.objectClass))) does not send \(eventName)")
                return
            }
            scanner = object
        }

        let output: ObservationDecoder.Output
        do {
            output = try ObservationDecoder(configuration: configuration).decode(argument.info, scanner: scanner)
        } catch {
            if confirmed { sendReject(invokeId, RejectProblem.badlyStructuredAPDU, &result) }
            result.reject(.invalidObservation, "\(eventName): \(error)", decodeError: error)
            return
        }

        let mapper = ReadingMapper(deviceId: deviceId, offsetRule: settings.offsetRule)
        result.observations = output.observations
        result.deadLetters = output.deadLetters
        for observation in output.observations {
            switch mapper.map(observation) {
            case .reading(let reading): result.readings.append(reading)
            case .deadLetter(let reason):
                result.deadLetters.append(DeadLetter(handle: observation.handle, personId: observation.personId,
                                                     observation: observation, reason: reason))
            }
        }
        let persons = Set(output.observations.compactMap(\.personId)).sorted()
        if !persons.isEmpty {
            result.notes.append("multi-person report, person-id \(persons.map { "0x\(hex16($0))" }.joined(separator: ", ")): "
                + "see DecodedObservation.personId (Reading has no person field)")
        }
        if confirmed {
            result.send(.prst(DataAPDU(invokeId: invokeId, message: .rorsConfirmedEventReport(EventReportResult(
                objectHandle: argument.objectHandle, currentTime: 0, eventType: argument.eventType, replyInfo: .opaque([]))))))
        }
    }

    /// RORS, ROER or RORJ: must answer one of our outstanding requests, else the association is aborted.
    mutating func handleResponse(_ data: DataAPDU, _ result: inout ManagerResult) {
        guard let request = pendingRequests.removeValue(forKey: data.invokeId) else {
            result.reject(.unexpectedResponse, "\(data.message.name) with invoke-id 0x\(hex16(data.invokeId)) answers no request of this manager")
            abortAssociation(.undefined, &result)
            return
        }
        deadlines[.confirmedRequest(invokeId: data.invokeId)] = nil
        switch (request, data.message) {
        case (.getMDSAttributes, .rorsGet(let answer)):
            do {
                let attributes = try MDSAttributes(attributes: answer.attributes)
                mdsAttributes = attributes
                mdsAttributeValues = answer.attributes.filter { MDSAttributes.knownIds.contains($0.id) }
                result.events.append(.mdsAttributes(attributes))
            } catch {
                result.reject(.malformed, "MDS attributes: \(error)", decodeError: error)
                result.events.append(.requestFailed(invokeId: data.invokeId, reason: error.description))
            }
        case (_, .roer(let error)):
            result.events.append(.requestFailed(invokeId: data.invokeId, reason: "ROER error-value \(error.errorValue)"))
        case (_, .rorj(let reject)):
            result.events.append(.requestFailed(invokeId: data.invokeId, reason: "RORJ problem \(reject.problem)"))
        default:
            result.reject(.unexpectedResponse, "\(data.message.name) does not answer a GET")
            abortAssociation(.undefined, &result)
        }
    }
}

extension ManagerSession {
    /// A session already operating with `configuration`, as if the agent had associated
    /// (offline decoding of a lone scan report, tests).
    public static func preset(
        operatingWith configuration: Configuration, systemId: SystemId?, settings: ManagerSettings,
        store: any ConfigurationStore = InMemoryConfigurationStore()
    ) -> ManagerSession {
        var session = ManagerSession(settings: settings, store: store)
        session.state = .operating
        session.configuration = configuration
        session.presetAgent(systemId, configId: configuration.id)
        return session
    }

    /// A session waiting for a configuration report, as if the agent had been answered
    /// accepted-unknown-config. No timer runs: offline input has no clock.
    public static func preset(
        awaitingConfigurationFrom systemId: SystemId?, settings: ManagerSettings,
        store: any ConfigurationStore = InMemoryConfigurationStore()
    ) -> ManagerSession {
        var session = ManagerSession(settings: settings, store: store)
        session.state = .configuring
        session.presetAgent(systemId, configId: 0)
        return session
    }

    private mutating func presetAgent(_ systemId: SystemId?, configId: UInt16) {
        guard let systemId else {
            presetDeviceId = Self.unknownDeviceId
            return
        }
        agent = AgentAssociation(
            systemId: systemId, requestedConfigId: configId, protocolVersion: AssociationConstants.protocolVersion1,
            information: PhdAssociationInformation(systemType: AssociationConstants.systemTypeAgent, systemId: systemId.bytes, devConfigId: configId))
    }
}
