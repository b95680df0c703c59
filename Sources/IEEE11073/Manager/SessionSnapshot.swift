import Crypto
import Timing

/// A manager session as bytes, so that it survives a restart of the process that runs it.
///
/// Layout (version 1), big-endian, MDER lists and octet strings:
///
/// | field | bytes |
/// | --- | --- |
/// | format version | u16 = 1 |
/// | state | u8: 0 unassociated, 1 configuring, 2 operating, 3 disassociating |
/// | parts present | u8: bit 0 agent, bit 1 configuration, bit 2 MDS attributes, bit 3 preset device id |
/// | agent | u32 selected protocol version, octet string: the AARQ's PhdAssociationInformation |
/// | configuration | u8 1 + u16 id (a standard configuration), or u8 2 + octet string (an MDER ConfigReport) |
/// | MDS attributes | AttributeList, as the agent's GET response held them |
/// | preset device id | octet string, UTF-8 |
/// | next invoke id | u16 |
/// | pending requests | list of (u16 invoke id, u8 kind: 1 = GET MDS attributes) |
/// | timers | list of (u8 kind: 1 TO_config, 2 TO_release, 3 confirmed request; u16 invoke id; u32 ms remaining) |
/// | check | the first 8 bytes of SHA-256 over everything before it |
///
/// Timers are written as what remains of them, rounded up to the millisecond, so a restored
/// timer never fires earlier than the original would have. Decoding is strict: a wrong version,
/// a failed check, truncation, trailing bytes, an unknown code, or a combination of parts the
/// state machine cannot reach (say, timers in an unassociated session) is a `DecodeError`.
public enum SessionSnapshot {
    public static let version: UInt16 = 1
    static let checkLength = 8

    enum StateCode: UInt8 {
        case unassociated = 0, configuring, operating, disassociating
    }

    enum Part {
        static let agent: UInt8 = 1 << 0
        static let configuration: UInt8 = 1 << 1
        static let mdsAttributes: UInt8 = 1 << 2
        static let presetDeviceId: UInt8 = 1 << 3
        static let all: UInt8 = agent | configuration | mdsAttributes | presetDeviceId
    }

    enum ConfigurationForm: UInt8 {
        case standard = 1, embedded = 2
    }

    enum TimerCode: UInt8 {
        case configuration = 1, release, confirmedRequest
    }

    /// A timer's code and invoke id, which is also the order timers are written and fire in.
    struct TimerOrder: Comparable {
        let kind: TimerCode
        let invokeId: UInt16

        static func < (a: TimerOrder, b: TimerOrder) -> Bool { (a.kind.rawValue, a.invokeId) < (b.kind.rawValue, b.invokeId) }
    }

    enum RequestCode: UInt8 {
        case getMDSAttributes = 1
    }

    static func check(_ body: [UInt8]) -> [UInt8] { Array(SHA256.hash(data: body).prefix(checkLength)) }
}

extension ManagerSession {
    /// This session's state as a snapshot (see `SessionSnapshot` for the layout); timers are
    /// written as what remains of them at `now`.
    public func snapshot(now: Duration) throws(EncodeError) -> [UInt8] {
        var writer = MDERWriter()
        writer.u16(SessionSnapshot.version)
        writer.u8(try Self.stateCode(state).rawValue)
        var parts: UInt8 = 0
        if agent != nil { parts |= SessionSnapshot.Part.agent }
        if configuration != nil { parts |= SessionSnapshot.Part.configuration }
        if mdsAttributes != nil { parts |= SessionSnapshot.Part.mdsAttributes }
        if presetDeviceId != nil { parts |= SessionSnapshot.Part.presetDeviceId }
        writer.u8(parts)
        if let agent {
            writer.u32(agent.protocolVersion)
            try writer.lengthPrefixed("agent.information") { (inner: inout MDERWriter) throws(EncodeError) in
                try agent.information.encode(&inner)
            }
        }
        if let configuration {
            if StandardConfigurations.configuration(id: configuration.id) == configuration {
                writer.u8(SessionSnapshot.ConfigurationForm.standard.rawValue)
                writer.u16(configuration.id)
            } else {
                writer.u8(SessionSnapshot.ConfigurationForm.embedded.rawValue)
                try writer.octetString(try configuration.encoded(), "configuration")
            }
        }
        if mdsAttributes != nil { try AttributeValue.encodeList(mdsAttributeValues, &writer) }
        if let presetDeviceId { try writer.octetString(Array(presetDeviceId.utf8), "preset device id") }
        writer.u16(nextInvokeId)
        try writer.list(pendingRequests.sorted { $0.key < $1.key }, "pending requests") {
            (inner: inout MDERWriter, request: (key: UInt16, value: PendingRequest)) throws(EncodeError) in
            inner.u16(request.key)
            switch request.value {
            case .getMDSAttributes: inner.u8(SessionSnapshot.RequestCode.getMDSAttributes.rawValue)
            }
        }
        let timers = deadlines.sorted { $0.key.order < $1.key.order }
        try writer.list(timers, "timers") { (inner: inout MDERWriter, timer: (key: ManagerTimer, value: Duration)) throws(EncodeError) in
            inner.u8(timer.key.order.kind.rawValue)
            inner.u16(timer.key.order.invokeId)
            inner.u32(Self.remainingMilliseconds(timer.value - now))
        }
        return writer.bytes + SessionSnapshot.check(writer.bytes)
    }

    /// Restores a session from `snapshot`. Its timers run from `now`, less `elapsed`: the time the
    /// caller knows passed since the snapshot was taken (for instance while the process was down).
    /// A refused snapshot throws; see `recovered(from:...)` for what to do then.
    public static func restored(
        from snapshot: [UInt8], settings: ManagerSettings, store: any ConfigurationStore, now: Duration, elapsed: Duration = .zero
    ) throws(DecodeError) -> ManagerSession {
        var session = ManagerSession(settings: settings, store: store)
        try SnapshotReader(snapshot).read(into: &session, now: now, elapsed: max(elapsed, .zero))
        return session
    }

    /// Restores a session, or, when the snapshot is refused, starts the one IEEE 11073-20601
    /// leaves a manager that lost its state: unassociated. The agent's next APDU other than an
    /// AARQ then gets ABRT (manager state table, unassociated: Rx prst, rlrq or aare → Tx abrt) and
    /// the agent associates again.
    public static func recovered(
        from snapshot: [UInt8], settings: ManagerSettings, store: any ConfigurationStore, now: Duration, elapsed: Duration = .zero
    ) -> SessionRecovery {
        do {
            return .restored(try restored(from: snapshot, settings: settings, store: store, now: now, elapsed: elapsed))
        } catch {
            return .lostState(ManagerSession(settings: settings, store: store), reason: error)
        }
    }

    static func stateCode(_ state: ManagerState) throws(EncodeError) -> SessionSnapshot.StateCode {
        switch state {
        case .unassociated: .unassociated
        case .configuring: .configuring
        case .operating: .operating
        case .disassociating: .disassociating
        // Only ever seen inside `receive`, never by a caller that takes a snapshot.
        case .associating: throw EncodeError("a session checking an AARQ has no snapshot")
        }
    }

    /// What remains of a timer, rounded up to the millisecond; an expired timer keeps 0.
    static func remainingMilliseconds(_ remaining: Duration) -> UInt32 {
        guard remaining > .zero else { return 0 }
        return UInt32(clamping: remaining.inMillisecondsRoundedUp)
    }
}

/// The outcome of restoring a session after a restart.
public enum SessionRecovery: Sendable {
    case restored(ManagerSession)
    /// The snapshot was refused; the session is a fresh, unassociated one.
    case lostState(ManagerSession, reason: DecodeError)

    public var session: ManagerSession {
        switch self {
        case .restored(let session), .lostState(let session, _): session
        }
    }
}
