import Foundation
import IEEE11073
import Observations
import Timing

/// A 20601 agent for demos and end-to-end tests, built on this module's encoder.
///
/// Transport-agnostic and deterministic: it produces APDUs, consumes the manager's answers, and
/// advances its own state; time comes in as arguments (a monotonic `Duration` for timers, a wall
/// clock `Date` for the AbsoluteTime it writes).
public struct SimulatedAgent: Sendable {
    public enum State: String, Sendable, Hashable {
        case unassociated, associating
        /// Sent its config report, waiting for the manager's verdict.
        case waitingApproval
        case operating, disassociating
    }

    public enum Event: Sendable, Hashable {
        case associated(configurationKnown: Bool)
        case associationRejected(UInt16)
        case configurationAccepted
        case configurationRefused(UInt16)
        case reportConfirmed(invokeId: UInt16)
        case reportRefused(invokeId: UInt16, reason: String)
        case mdsAttributesSent
        case released
        case aborted(reason: UInt16, byManager: Bool)
        case timedOut(String)
        case unexpected(String)
    }

    public struct Step: Sendable {
        public internal(set) var outgoing: [[UInt8]] = []
        public internal(set) var events: [Event] = []
    }

    /// Agent timers (IEEE 11073-20601 defaults).
    public struct Timeouts: Sendable, Hashable {
        public var association: Duration = .seconds(10)
        public var configuration: Duration = .seconds(10)
        public var confirmedEventReport: Duration = .seconds(3)
        public var release: Duration = .seconds(3)
        public init() {}
    }

    enum Timer: Hashable, Sendable {
        case association, configuration, release
        case report(UInt16)
    }

    public let specialization: AgentSpecialization
    public let systemId: SystemId
    /// Offset of the agent's wall clock: the AbsoluteTime it writes is local time in this offset.
    public let utcOffsetSeconds: Int
    public let timeouts: Timeouts
    public private(set) var state: State = .unassociated
    public private(set) var confirmedReports = 0
    let configuration: Configuration
    var random: SeededGenerator
    var nextInvokeId: UInt16 = 0x1000
    var scanReportNumber: UInt16 = 0
    var deadlines: [Timer: Duration] = [:]

    public init(
        specialization: AgentSpecialization, systemId: SystemId, utcOffsetSeconds: Int = 0, seed: UInt64 = 1,
        timeouts: Timeouts = Timeouts()
    ) throws(ConfigurationError) {
        self.specialization = specialization
        self.systemId = systemId
        self.utcOffsetSeconds = utcOffsetSeconds
        self.timeouts = timeouts
        self.configuration = try specialization.configuration()
        self.random = SeededGenerator(seed: seed)
    }

    public var deviceId: String { PHDDeviceIdentifier.value(for: systemId) }
    public var pendingReports: Int { deadlines.keys.filter { if case .report = $0 { true } else { false } }.count }
    public var nextDeadline: Duration? { deadlines.values.min() }

    // MARK: - Outgoing

    /// AARQ offering 20601 with MDER, this agent's System-Id and configuration id.
    public mutating func associationRequest(now: Duration) throws(EncodeError) -> [UInt8] {
        let info = PhdAssociationInformation(
            protocolVersion: AssociationConstants.protocolVersion1,
            encodingRules: AssociationConstants.encodingMDER,
            systemType: AssociationConstants.systemTypeAgent, systemId: systemId.bytes,
            devConfigId: specialization.configId, dataRequestModeFlags: 0x0001,
            dataRequestInitAgentCount: 1, dataRequestInitManagerCount: 0)
        let bytes = try APDU.aarq(AssociationRequest(dataProtocols: [.phd(info)])).encode()
        state = .associating
        deadlines = [.association: now + timeouts.association]
        return bytes
    }

    /// A confirmed fixed-format scan report with fresh realistic values, stamped with `wallClock`.
    public mutating func measurement(wallClock: Date, now: Duration) throws(EncodeError) -> SimulatedMeasurement {
        guard state == .operating else { throw EncodeError("the agent is \(state.rawValue), not operating") }
        let time: AbsoluteTime
        do { time = try AbsoluteTime(date: wallClock, utcOffsetSeconds: utcOffsetSeconds) } catch {
            throw EncodeError("wall clock \(wallClock) cannot be an AbsoluteTime: \(error)")
        }
        let values = MeasurementGenerator.values(for: specialization, using: &random)
        var entries: [ObservationScanFixed] = []
        var expected: [Reading] = []
        let deviceTime = time.deviceTime(assuming: .fixed(seconds: utcOffsetSeconds))
        for value in values {
            guard let object = configuration.object(handle: value.handle) else { throw EncodeError("handle \(value.handle) not configured") }
            entries.append(ObservationScanFixed(handle: value.handle, data: try MeasurementGenerator.fixedData(value, object: object, time: time)))
            if let reading = MeasurementGenerator.expectedReading(value, deviceId: deviceId, time: deviceTime) { expected.append(reading) }
        }
        let invokeId = allocateInvokeId()
        let report = EventReportArgument(
            objectHandle: 0, eventTime: relativeTime(now), eventType: EventType.scanReportFixed,
            info: .scanFixed(ScanReportFixed(dataRequestId: 0xF000, scanReportNumber: scanReportNumber, observations: entries)))
        scanReportNumber &+= 1
        let bytes = try APDU.prst(DataAPDU(invokeId: invokeId, message: .roivConfirmedEventReport(report))).encode()
        deadlines[.report(invokeId)] = now + timeouts.confirmedEventReport
        return SimulatedMeasurement(invokeId: invokeId, apdu: bytes, expectedReadings: expected)
    }

    /// RLRQ (normal).
    public mutating func releaseRequest(now: Duration) throws(EncodeError) -> [UInt8] {
        state = .disassociating
        deadlines = [.release: now + timeouts.release]
        return try APDU.rlrq(reason: ReleaseRequestReason.normal).encode()
    }

    // MARK: - Incoming

    public mutating func receive(_ bytes: [UInt8], now: Duration) -> Step {
        var step = Step()
        let apdu: APDU
        do { apdu = try APDU.decode(bytes) } catch {
            step.events.append(.unexpected("undecodable APDU from the manager: \(error)"))
            abort(&step)
            return step
        }
        switch (state, apdu) {
        case (.associating, .aare(let response)):
            deadlines[.association] = nil
            switch response.associationResult {
            case .accepted?:
                state = .operating
                step.events.append(.associated(configurationKnown: true))
            case .acceptedUnknownConfig?:
                step.events.append(.associated(configurationKnown: false))
                sendConfiguration(now: now, &step)
            default:
                state = .unassociated
                step.events.append(.associationRejected(response.result))
            }
        case (.waitingApproval, .prst(let data)):
            guard case .rorsConfirmedEventReport(let result) = data.message, case .configResponse(let answer) = result.replyInfo else {
                step.events.append(.unexpected("\(apdu.summary) while waiting for the configuration verdict"))
                return step
            }
            deadlines[.configuration] = nil
            if answer.result == ConfigResult.acceptedConfig.rawValue {
                state = .operating
                step.events.append(.configurationAccepted)
            } else {
                step.events.append(.configurationRefused(answer.result))
                abort(&step)
            }
        case (.operating, .prst(let data)), (.disassociating, .prst(let data)):
            operatingData(data, &step)
        case (.disassociating, .rlre):
            state = .unassociated
            deadlines = [:]
            step.events.append(.released)
        case (_, .rlrq):
            emit(.rlre(reason: ReleaseResponseReason.normal), &step)
            state = .unassociated
            deadlines = [:]
            step.events.append(.released)
        case (_, .abrt(let reason)):
            state = .unassociated
            deadlines = [:]
            step.events.append(.aborted(reason: reason, byManager: true))
        default:
            step.events.append(.unexpected("\(apdu.summary) while \(state.rawValue)"))
            abort(&step)
        }
        return step
    }

    public mutating func tick(now: Duration) -> Step {
        var step = Step()
        guard let (timer, deadline) = deadlines.min(by: { $0.value < $1.value }), deadline <= now else { return step }
        step.events.append(.timedOut("\(timer)"))
        abort(&step)
        return step
    }

    // MARK: - Internals

    mutating func operatingData(_ data: DataAPDU, _ step: inout Step) {
        switch data.message {
        case .rorsConfirmedEventReport:
            guard deadlines.removeValue(forKey: .report(data.invokeId)) != nil else {
                step.events.append(.unexpected("confirmation for unknown invoke-id 0x\(hex16(data.invokeId))"))
                return
            }
            confirmedReports += 1
            step.events.append(.reportConfirmed(invokeId: data.invokeId))
        case .roer(let error):
            deadlines[.report(data.invokeId)] = nil
            step.events.append(.reportRefused(invokeId: data.invokeId, reason: "ROER \(error.errorValue)"))
        case .rorj(let reject):
            deadlines[.report(data.invokeId)] = nil
            step.events.append(.reportRefused(invokeId: data.invokeId, reason: "RORJ \(reject.problem)"))
        case .roivGet(let argument) where argument.objectHandle == 0:
            emit(.prst(DataAPDU(invokeId: data.invokeId, message: .rorsGet(GetResult(objectHandle: 0, attributes: mdsAttributes())))), &step)
            step.events.append(.mdsAttributesSent)
        default:
            step.events.append(.unexpected("\(data.message.name) while \(state.rawValue)"))
        }
    }

    mutating func sendConfiguration(now: Duration, _ step: inout Step) {
        let report = EventReportArgument(objectHandle: 0, eventTime: relativeTime(now), eventType: EventType.config,
                                         info: .configReport(configuration.report))
        emit(.prst(DataAPDU(invokeId: allocateInvokeId(), message: .roivConfirmedEventReport(report))), &step)
        state = .waitingApproval
        deadlines[.configuration] = now + timeouts.configuration
    }

    func mdsAttributes() -> [AttributeValue] {
        var model = MDERWriter()
        var specs = MDERWriter()
        var system = MDERWriter()
        do {
            try model.octetString(Array("Wardgate Simulation".utf8) + [0], "manufacturer")
            try model.octetString(Array(specialization.modelName.utf8) + (specialization.modelName.utf8.count % 2 == 1 ? [0] : []), "model")
            try specs.list([specialization.specializationCode], "TypeVerList") { (inner: inout MDERWriter, code: UInt16) throws(EncodeError) in
                inner.u16(code)
                inner.u16(1)
            }
            try system.octetString(systemId.bytes, "System-Id")
        } catch {
            return []
        }
        return [
            AttributeValue(id: AttributeId.systemTypeSpecList, value: specs.bytes),
            AttributeValue(id: AttributeId.idModel, value: model.bytes),
            AttributeValue(id: AttributeId.systemId, value: system.bytes),
            AttributeEncoding.u16(AttributeId.devConfigId, specialization.configId),
        ]
    }

    mutating func emit(_ apdu: APDU, _ step: inout Step) {
        do { step.outgoing.append(try apdu.encode()) } catch {
            step.events.append(.unexpected("could not encode \(apdu.name): \(error)"))
        }
    }

    mutating func abort(_ step: inout Step) {
        emit(.abrt(reason: AbortReason.undefined.rawValue), &step)
        state = .unassociated
        deadlines = [:]
        step.events.append(.aborted(reason: AbortReason.undefined.rawValue, byManager: false))
    }

    mutating func allocateInvokeId() -> UInt16 {
        defer { nextInvokeId &+= 1 }
        return nextInvokeId
    }

    /// RelativeTime ticks are 1/8 ms.
    func relativeTime(_ now: Duration) -> UInt32 {
        let ticks = now.inNanoseconds / 125_000
        return UInt32(truncatingIfNeeded: ticks)
    }
}
