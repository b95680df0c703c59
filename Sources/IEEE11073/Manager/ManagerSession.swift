/// The 20601 manager for one agent: a deterministic state machine with no threads, clocks or I/O.
///
/// Feed it each APDU the agent sent (`receive`), call `tick` when `nextDeadline` passes, and send
/// what each `ManagerResult.outgoing` holds back to the agent. Time is the caller's monotonic
/// clock expressed as a `Duration` since any fixed origin. Sessions share nothing but the
/// configuration store, so one device's input can never affect another's session.
public struct ManagerSession: Sendable {
    public let settings: ManagerSettings
    let store: any ConfigurationStore

    // Everything below that a snapshot holds bumps `stateRevision` when assigned.
    public internal(set) var state: ManagerState = .unassociated { didSet { stateRevision &+= 1 } }
    /// The associated agent, from its AARQ.
    public internal(set) var agent: AgentAssociation? { didSet { stateRevision &+= 1 } }
    /// The configuration in force: handles, types, units, value maps. Nil until known.
    public internal(set) var configuration: Configuration? { didSet { stateRevision &+= 1 } }
    /// From the latest MDS GET response, if one was requested.
    public internal(set) var mdsAttributes: MDSAttributes? { didSet { stateRevision &+= 1 } }
    /// The attributes `mdsAttributes` was read from (those it knows), as the agent sent them.
    var mdsAttributeValues: [AttributeValue] = [] { didSet { stateRevision &+= 1 } }

    var deadlines: [ManagerTimer: Duration] = [:] { didSet { stateRevision &+= 1 } }
    var pendingRequests: [UInt16: PendingRequest] = [:] { didSet { stateRevision &+= 1 } }
    var nextInvokeId: UInt16 = 0 { didSet { stateRevision &+= 1 } }
    /// Device id for sessions preset without an AARQ (offline decoding).
    var presetDeviceId: String? { didSet { stateRevision &+= 1 } }

    /// Moves whenever something a snapshot holds may have changed (the passing of time does not
    /// count): a caller that persists snapshots writes one only when this moved. A scan report
    /// in an operating session leaves it where it was.
    public private(set) var stateRevision: UInt64 = 0

    enum PendingRequest: Sendable, Hashable {
        case getMDSAttributes
    }

    /// `Reading.deviceId` when no agent System-Id is known (offline decoding of a lone report).
    public static let unknownDeviceId = "unknown-system-id"

    public init(settings: ManagerSettings, store: any ConfigurationStore) {
        self.settings = settings
        self.store = store
    }

    /// The earliest timer deadline; call `tick` once the clock reaches it.
    public var nextDeadline: Duration? { deadlines.values.min() }

    var deviceId: String { agent?.deviceId ?? presetDeviceId ?? Self.unknownDeviceId }

    // MARK: - Inputs

    /// Handles one APDU from the agent.
    public mutating func receive(_ bytes: [UInt8], now: Duration) -> ManagerResult {
        var result = ManagerResult()
        let apdu: APDU
        do {
            apdu = try APDU.decode(bytes)
        } catch {
            handleMalformed(bytes, error, &result)
            return finished(result)
        }
        result.received = apdu
        switch apdu {
        case .aarq(let request):
            if state == .unassociated {
                associate(request, now: now, &result)
            } else {
                result.reject(.wrongState, "AARQ received while \(state.rawValue)")
                abortAssociation(.undefined, &result)
            }
        case .aare:
            result.reject(.wrongState, "AARE received: only managers send AARE")
            abortAssociation(.undefined, &result)
        case .rlrq:
            releaseRequested(&result)
        case .rlre:
            switch state {
            case .disassociating:
                result.events.append(.released(byAgent: false))
                reset()
            case .unassociated, .associating:
                result.notes.append("RLRE while unassociated: ignored")
            case .configuring, .operating:
                result.reject(.wrongState, "RLRE received while \(state.rawValue) without a release request")
                abortAssociation(.undefined, &result)
            }
        case .abrt(let reason):
            if state.isAssociated {
                result.events.append(.aborted(reason: reason, byAgent: true))
                reset()
            } else {
                result.notes.append("ABRT while unassociated: ignored")
            }
        case .prst(let data):
            switch state {
            case .unassociated, .associating:
                result.reject(.wrongState, "PRST (\(data.message.name)) received while unassociated")
                abortAssociation(.undefined, &result)
            case .configuring:
                handleWhileConfiguring(data, now: now, &result)
            case .operating:
                handleWhileOperating(data, &result)
            case .disassociating:
                handleWhileDisassociating(data, &result)
            }
        }
        return finished(result)
    }

    /// Fires the earliest expired timer, if any: the standard answer is always ABRT.
    public mutating func tick(now: Duration) -> ManagerResult {
        var result = ManagerResult()
        // Ties go by timer order, so two sessions with the same timers always fire the same one.
        guard let (timer, deadline) = deadlines.min(by: { ($0.value, $0.key.order) < ($1.value, $1.key.order) }), deadline <= now else {
            return finished(result)
        }
        result.events.append(.timedOut(timer))
        switch timer {
        case .configuration:
            abortAssociation(.configurationTimeout, &result)
        case .release, .confirmedRequest:
            abortAssociation(.responseTimeout, &result)
        }
        return finished(result)
    }

    /// Manager-initiated release (RLRQ normal), for example at gateway shutdown.
    public mutating func release(now: Duration) -> ManagerResult {
        var result = ManagerResult()
        guard state == .configuring || state == .operating else {
            result.notes.append("release requested while \(state.rawValue): nothing to release")
            return finished(result)
        }
        result.send(.rlrq(reason: ReleaseRequestReason.normal))
        state = .disassociating
        deadlines = [.release: now + settings.timeouts.release]
        pendingRequests = [:]
        return finished(result)
    }

    /// Manager-initiated abort.
    public mutating func abort(now: Duration) -> ManagerResult {
        var result = ManagerResult()
        if state.isAssociated {
            abortAssociation(.undefined, &result)
        } else {
            result.notes.append("abort requested while unassociated: nothing to abort")
        }
        return finished(result)
    }

    /// Asks the agent for its MDS attributes (GET on handle 0, all attributes).
    public mutating func requestMDSAttributes(now: Duration) -> ManagerResult {
        var result = ManagerResult()
        guard state == .operating else {
            result.notes.append("MDS attributes can be requested only while operating (now \(state.rawValue))")
            return finished(result)
        }
        let invokeId = allocateInvokeId()
        result.send(.prst(DataAPDU(invokeId: invokeId, message: .roivGet(GetArgument(objectHandle: 0, attributeIds: [])))))
        pendingRequests[invokeId] = .getMDSAttributes
        deadlines[.confirmedRequest(invokeId: invokeId)] = now + settings.timeouts.confirmedRequest
        return finished(result)
    }

    // MARK: - Helpers shared by the handlers

    func finished(_ result: ManagerResult) -> ManagerResult {
        var result = result
        result.state = state
        return result
    }

    mutating func reset() {
        state = .unassociated
        agent = nil
        configuration = nil
        mdsAttributes = nil
        mdsAttributeValues = []
        deadlines = [:]
        pendingRequests = [:]
        presetDeviceId = nil
    }

    /// Sends ABRT and drops the association (when there is one).
    mutating func abortAssociation(_ reason: AbortReason, _ result: inout ManagerResult) {
        result.send(.abrt(reason: reason.rawValue))
        if state.isAssociated { result.events.append(.aborted(reason: reason.rawValue, byAgent: false)) }
        reset()
    }

    mutating func allocateInvokeId() -> UInt16 {
        while pendingRequests[nextInvokeId] != nil { nextInvokeId &+= 1 }
        defer { nextInvokeId &+= 1 }
        return nextInvokeId
    }

    mutating func releaseRequested(_ result: inout ManagerResult) {
        switch state {
        case .unassociated, .associating:
            result.reject(.wrongState, "RLRQ received while unassociated")
            abortAssociation(.undefined, &result)
        case .configuring, .operating:
            result.send(.rlre(reason: ReleaseResponseReason.normal))
            result.events.append(.released(byAgent: true))
            reset()
        case .disassociating:
            // Both sides asked to release at once: answer and keep waiting for our RLRE.
            result.send(.rlre(reason: ReleaseResponseReason.normal))
        }
    }

    // MARK: - Malformed input

    /// Bytes that are not a valid APDU. A PRST whose outer framing holds gets RORJ for its
    /// invoke id (the agent can retry); anything else gets ABRT.
    mutating func handleMalformed(_ bytes: [UInt8], _ error: DecodeError, _ result: inout ManagerResult) {
        result.reject(.malformed, error.description, decodeError: error)
        if state == .configuring || state == .operating, let header = Self.prstHeader(bytes) {
            let confirmedInvokes: Set<UInt16> = [
                DataChoice.roivConfirmedEventReport, DataChoice.roivGet, DataChoice.roivConfirmedSet, DataChoice.roivConfirmedAction,
            ]
            let unconfirmedInvokes: Set<UInt16> = [DataChoice.roivEventReport, DataChoice.roivSet, DataChoice.roivAction]
            let responses: Set<UInt16> = [
                DataChoice.rorsConfirmedEventReport, DataChoice.rorsGet, DataChoice.rorsConfirmedSet,
                DataChoice.rorsConfirmedAction, DataChoice.roer, DataChoice.rorj,
            ]
            if confirmedInvokes.contains(header.choice) {
                sendReject(header.invokeId, RejectProblem.badlyStructuredAPDU, &result)
                return
            }
            if unconfirmedInvokes.contains(header.choice) {
                result.notes.append("malformed unconfirmed invoke: no response is expected")
                return
            }
            if !responses.contains(header.choice) {
                sendReject(header.invokeId, RejectProblem.unrecognizedAPDU, &result)
                return
            }
        }
        abortAssociation(.undefined, &result)
    }

    /// Invoke id and choice of a PRST whose APDU and octet-string lengths agree with the bytes.
    static func prstHeader(_ bytes: [UInt8]) -> (invokeId: UInt16, choice: UInt16)? {
        guard bytes.count >= 10, bytes[0] == 0xE7, bytes[1] == 0x00 else { return nil }
        let apduLength = Int(bytes[2]) << 8 | Int(bytes[3])
        let octetLength = Int(bytes[4]) << 8 | Int(bytes[5])
        guard apduLength == bytes.count - 4, octetLength == bytes.count - 6 else { return nil }
        return (UInt16(bytes[6]) << 8 | UInt16(bytes[7]), UInt16(bytes[8]) << 8 | UInt16(bytes[9]))
    }

    func sendReject(_ invokeId: UInt16, _ problem: UInt16, _ result: inout ManagerResult) {
        result.send(.prst(DataAPDU(invokeId: invokeId, message: .rorj(RejectResult(problem: problem)))))
    }

    func sendError(_ invokeId: UInt16, _ errorValue: UInt16, _ result: inout ManagerResult) {
        result.send(.prst(DataAPDU(invokeId: invokeId, message: .roer(ErrorResult(errorValue: errorValue)))))
    }
}
