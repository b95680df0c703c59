/// Reads a `SessionSnapshot` strictly: every field, every code and every combination of parts is
/// checked, so a restored session is always one the state machine could have reached.
struct SnapshotReader {
    let bytes: [UInt8]

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    func read(into session: inout ManagerSession, now: Duration, elapsed: Duration) throws(DecodeError) {
        let body = try checkedBody()
        var reader = MDERReader(body, path: "session-snapshot")
        let version = try reader.u16("version")
        guard version == SessionSnapshot.version else {
            throw DecodeError(.unsupported, field: "session-snapshot.version", offset: 0,
                              detail: "version \(version); this manager reads version \(SessionSnapshot.version)")
        }
        let stateByte = try reader.u8("state")
        guard let code = SessionSnapshot.StateCode(rawValue: stateByte) else {
            throw reader.error(.invalidValue, "state", "unknown state code \(stateByte)")
        }
        let parts = try reader.u8("parts")
        guard parts & ~SessionSnapshot.Part.all == 0 else {
            throw reader.error(.invalidValue, "parts", "unknown part bits 0x\(String(parts & ~SessionSnapshot.Part.all, radix: 16))")
        }
        let has = { (part: UInt8) in parts & part != 0 }
        if has(SessionSnapshot.Part.agent) { session.agent = try Self.agent(&reader) }
        if has(SessionSnapshot.Part.configuration) { session.configuration = try Self.configuration(&reader) }
        if has(SessionSnapshot.Part.mdsAttributes) {
            let values = try AttributeValue.decodeList(&reader, "mds-attributes")
            session.mdsAttributes = try MDSAttributes(attributes: values)
            session.mdsAttributeValues = values
        }
        if has(SessionSnapshot.Part.presetDeviceId) { session.presetDeviceId = try Self.presetDeviceId(&reader) }
        session.nextInvokeId = try reader.u16("next-invoke-id")
        session.pendingRequests = try Self.pendingRequests(&reader)
        session.deadlines = try Self.timers(&reader, now: now, elapsed: elapsed)
        try reader.finish("session-snapshot")
        session.state = Self.state(code)
        try Self.checkReachable(session, &reader)
    }

    /// The bytes before the check, once the check matches them.
    private func checkedBody() throws(DecodeError) -> [UInt8] {
        let minimum = 2 + SessionSnapshot.checkLength
        guard bytes.count >= minimum else {
            throw DecodeError(.truncated, field: "session-snapshot", offset: 0,
                              detail: "\(bytes.count) bytes; a snapshot has at least \(minimum)")
        }
        let body = Array(bytes.dropLast(SessionSnapshot.checkLength))
        guard Array(bytes.suffix(SessionSnapshot.checkLength)) == SessionSnapshot.check(body) else {
            throw DecodeError(.invalidValue, field: "session-snapshot.check", offset: body.count,
                              detail: "the check does not match the snapshot: it is damaged")
        }
        return body
    }

    private static func agent(_ reader: inout MDERReader) throws(DecodeError) -> AgentAssociation {
        let protocolVersion = try reader.u32("agent.protocol-version")
        let versions = [AssociationConstants.protocolVersion1, AssociationConstants.protocolVersion2, AssociationConstants.protocolVersion3]
        guard versions.contains(protocolVersion) else {
            throw reader.error(.invalidValue, "agent.protocol-version", "0x\(String(protocolVersion, radix: 16)) is not one of versions 1-3")
        }
        var content = try reader.lengthPrefixedWindow("agent.information")
        let information = try PhdAssociationInformation.decode(&content)
        try content.finish("agent.information")
        guard let systemId = SystemId(information.systemId) else {
            throw reader.error(.invalidValue, "agent.information.system-id", "\(information.systemId.count) bytes; an EUI-64 has 8")
        }
        return AgentAssociation(systemId: systemId, requestedConfigId: information.devConfigId,
                                protocolVersion: protocolVersion, information: information)
    }

    private static func configuration(_ reader: inout MDERReader) throws(DecodeError) -> Configuration {
        let formByte = try reader.u8("configuration.form")
        switch SessionSnapshot.ConfigurationForm(rawValue: formByte) {
        case .standard?:
            let id = try reader.u16("configuration.id")
            guard let configuration = StandardConfigurations.configuration(id: id) else {
                throw reader.error(.invalidValue, "configuration.id", "0x\(hex16(id)) is not a standard configuration this manager knows")
            }
            return configuration
        case .embedded?:
            let encoded = try reader.octetString("configuration.report")
            do { return try Configuration(encoded: encoded) } catch {
                throw reader.error(.invalidValue, "configuration.report", error.reason)
            }
        case nil:
            throw reader.error(.invalidValue, "configuration.form", "unknown form \(formByte)")
        }
    }

    private static func presetDeviceId(_ reader: inout MDERReader) throws(DecodeError) -> String {
        let raw = try reader.octetString("preset-device-id")
        guard !raw.isEmpty, let text = String(validating: raw, as: UTF8.self) else {
            throw reader.error(.invalidValue, "preset-device-id", "empty or not UTF-8")
        }
        return text
    }

    private static func pendingRequests(_ reader: inout MDERReader) throws(DecodeError) -> [UInt16: ManagerSession.PendingRequest] {
        let entries = try reader.list("pending-requests", minimumElementSize: 3) {
            (element: inout MDERReader, index: Int) throws(DecodeError) -> (UInt16, ManagerSession.PendingRequest) in
            let invokeId = try element.u16("[\(index)].invoke-id")
            let kind = try element.u8("[\(index)].kind")
            guard SessionSnapshot.RequestCode(rawValue: kind) == .getMDSAttributes else {
                throw element.error(.invalidValue, "[\(index)].kind", "unknown request kind \(kind)")
            }
            return (invokeId, .getMDSAttributes)
        }
        var requests: [UInt16: ManagerSession.PendingRequest] = [:]
        for (invokeId, request) in entries {
            guard requests.updateValue(request, forKey: invokeId) == nil else {
                throw reader.error(.invalidValue, "pending-requests", "invoke id 0x\(hex16(invokeId)) is listed twice")
            }
        }
        return requests
    }

    private static func timers(_ reader: inout MDERReader, now: Duration, elapsed: Duration) throws(DecodeError) -> [ManagerTimer: Duration] {
        let entries = try reader.list("timers", minimumElementSize: 7) {
            (element: inout MDERReader, index: Int) throws(DecodeError) -> (ManagerTimer, UInt32) in
            let kind = try element.u8("[\(index)].kind")
            let invokeId = try element.u16("[\(index)].invoke-id")
            let remaining = try element.u32("[\(index)].remaining-ms")
            let timer: ManagerTimer
            switch SessionSnapshot.TimerCode(rawValue: kind) {
            case .configuration?: timer = .configuration
            case .release?: timer = .release
            case .confirmedRequest?: timer = .confirmedRequest(invokeId: invokeId)
            case nil: throw element.error(.invalidValue, "[\(index)].kind", "unknown timer kind \(kind)")
            }
            if case .confirmedRequest = timer {} else if invokeId != 0 {
                throw element.error(.invalidValue, "[\(index)].invoke-id", "\(timer) has no invoke id, but 0x\(hex16(invokeId)) is written")
            }
            return (timer, remaining)
        }
        var deadlines: [ManagerTimer: Duration] = [:]
        for (timer, remaining) in entries {
            let left = max(.milliseconds(Int64(remaining)) - elapsed, .zero)
            guard deadlines.updateValue(now + left, forKey: timer) == nil else {
                throw reader.error(.invalidValue, "timers", "\(timer) is listed twice")
            }
        }
        return deadlines
    }

    private static func state(_ code: SessionSnapshot.StateCode) -> ManagerState {
        switch code {
        case .unassociated: .unassociated
        case .configuring: .configuring
        case .operating: .operating
        case .disassociating: .disassociating
        }
    }
}

extension SnapshotReader {
    /// Refuses a combination of parts no sequence of inputs can produce, so a restored session
    /// never holds, say, an operating state without a configuration or a timer nobody set.
    static func checkReachable(_ session: ManagerSession, _ reader: inout MDERReader) throws(DecodeError) {
        func refuse(_ detail: String) -> DecodeError { reader.error(.invalidValue, "state", "\(session.state.rawValue): \(detail)") }
        let timers = Set(session.deadlines.keys)
        let pendingTimers = Set(session.pendingRequests.keys.map { ManagerTimer.confirmedRequest(invokeId: $0) })
        let identified = (session.agent != nil) != (session.presetDeviceId != nil)
        switch session.state {
        case .unassociated:
            guard session.agent == nil, session.configuration == nil, session.mdsAttributes == nil, session.presetDeviceId == nil else {
                throw refuse("an unassociated session holds no agent, configuration, MDS attributes or preset device id")
            }
            guard session.pendingRequests.isEmpty, timers.isEmpty else { throw refuse("an unassociated session has no requests or timers") }
        case .configuring:
            guard identified else { throw refuse("needs either an agent or a preset device id") }
            guard session.configuration == nil, session.mdsAttributes == nil else {
                throw refuse("a session waiting for the configuration has neither a configuration nor MDS attributes")
            }
            guard session.pendingRequests.isEmpty, timers.isSubset(of: [.configuration]) else {
                throw refuse("only TO_config runs while waiting for the configuration")
            }
        case .operating:
            guard identified else { throw refuse("needs either an agent or a preset device id") }
            guard session.configuration != nil else { throw refuse("an operating session has a configuration") }
            guard timers == pendingTimers else { throw refuse("each pending request has its own timer, and only those run") }
        case .disassociating:
            guard identified else { throw refuse("needs either an agent or a preset device id") }
            guard session.pendingRequests.isEmpty, timers == [.release] else {
                throw refuse("a release in progress has TO_release running and no pending requests")
            }
        case .associating:
            throw refuse("a session checking an AARQ has no snapshot")
        }
    }
}
