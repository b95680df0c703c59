/// The manager's 20601 association states for one agent.
public enum ManagerState: String, Sendable, Hashable {
    case unassociated
    /// Checking an AARQ. The check is synchronous, so callers see this state only inside
    /// `receive`: every AARQ leaves the session operating, configuring or unassociated.
    case associating
    /// Accepted with an unknown configuration: waiting for the agent's config report.
    case configuring
    case operating
    /// The manager sent RLRQ and waits for RLRE.
    case disassociating

    public var isAssociated: Bool { self == .configuring || self == .operating || self == .disassociating }
}

/// The manager's timers (IEEE 11073-20601 defaults). All are measured on the caller's clock.
public struct ManagerTimeouts: Sendable, Hashable {
    /// TO_config: waiting for a config report after accepted-unknown-config.
    public var configuration: Duration
    /// TO_release: waiting for RLRE after the manager's RLRQ.
    public var release: Duration
    /// TO_get / TO_confirmed-set / TO_confirmed-action: waiting for the agent's RORS.
    public var confirmedRequest: Duration

    public init(configuration: Duration = .seconds(10), release: Duration = .seconds(3), confirmedRequest: Duration = .seconds(3)) {
        self.configuration = configuration
        self.release = release
        self.confirmedRequest = confirmedRequest
    }

    public static let standard = ManagerTimeouts()

    /// The longest of them: how long any reply of the manager's can matter to an agent waiting for it.
    public var longest: Duration { max(configuration, release, confirmedRequest) }
}

public enum ManagerTimer: Sendable, Hashable, CustomStringConvertible {
    case configuration
    case release
    /// A confirmed request (GET, confirmed SET or ACTION) with this invoke id.
    case confirmedRequest(invokeId: UInt16)

    /// A fixed order of the timers (kind, then invoke id), for ties and for snapshots.
    var order: SessionSnapshot.TimerOrder {
        switch self {
        case .configuration: SessionSnapshot.TimerOrder(kind: .configuration, invokeId: 0)
        case .release: SessionSnapshot.TimerOrder(kind: .release, invokeId: 0)
        case .confirmedRequest(let invokeId): SessionSnapshot.TimerOrder(kind: .confirmedRequest, invokeId: invokeId)
        }
    }

    public var description: String {
        switch self {
        case .configuration: "TO_config"
        case .release: "TO_release"
        case .confirmedRequest(let id): "confirmed request 0x\(hex16(id))"
        }
    }
}

/// Fixed settings of a manager session.
public struct ManagerSettings: Sendable {
    /// The gateway's own EUI-64, sent in AARE.
    public var managerSystemId: SystemId
    /// Which UTC offset device wall-clock times (AbsoluteTime) are read in.
    public var offsetRule: UTCOffsetRule
    public var timeouts: ManagerTimeouts

    public init(managerSystemId: SystemId, offsetRule: UTCOffsetRule, timeouts: ManagerTimeouts = .standard) {
        self.managerSystemId = managerSystemId
        self.offsetRule = offsetRule
        self.timeouts = timeouts
    }
}

/// What the manager knows about the associated agent.
public struct AgentAssociation: Sendable, Hashable {
    public let systemId: SystemId
    /// dev-config-id from the AARQ.
    public let requestedConfigId: UInt16
    public let protocolVersion: UInt32
    public let information: PhdAssociationInformation

    /// `Reading.deviceId`: the System-Id in the PHD IG Device.identifier form.
    public var deviceId: String { PHDDeviceIdentifier.value(for: systemId) }
}
