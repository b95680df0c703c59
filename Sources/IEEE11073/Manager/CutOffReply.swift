/// What a manager does, after a restart, with a reply it had committed to send but that a crash
/// may have kept from the agent (the reply may also have reached it).
///
/// IEEE 11073-20601 assumes a transport that neither loses nor repeats APDUs, so it has no
/// retransmission of its own; the state tables (20601 Annex E, transitions numbered as there)
/// decide per reply whether sending it late, and possibly twice, is safe:
///
/// - A response to the agent's confirmed invoke (RORS, ROER, RORJ; the answer to an event report
///   or a config report) and an RLRE are sent again while the agent may still be waiting for them:
///   an agent that had them already ignores the repeat (agent table 8.26: Rx rors, roer, rorj while
///   operating → no action; 2.17: Rx rlre while unassociated → no action).
/// - Past the agent's own timeout they are dropped: it has aborted (agent 8.4, 5.4, 9.4: timeout →
///   Tx abrt), and a PRST reaching it unassociated or associating again would only draw another
///   ABRT (agent 2.19, 3.19).
/// - An AARE is never repeated. Sent to an agent that had it and is operating, it ends the
///   association (agent 8.12: Rx aare → Tx abrt); an agent that never had it leaves associating on
///   TO_assoc (agent 3.4) and associates again, having sent no data meanwhile.
/// - The manager's own requests (RLRQ, GET) are not repeated: their restored timers end them as
///   20601 says (manager 9.4 TO_release, confirmed-request timeout → Tx abrt).
/// - An ABRT is not repeated: the manager is unassociated, so the agent's next APDU other than an
///   AARQ gets ABRT anyway (manager 2.19).
public enum CutOffReply {
    public enum Decision: Sendable, Hashable {
        /// Send it again if less than this has passed since it was committed.
        case resend(within: Duration)
        /// Do not send it again; the reason names the recovery 20601 takes instead.
        case leave(reason: String)
    }

    /// The decision for one reply, with the agent's timeouts taken as the manager's own (20601
    /// gives both sides the same defaults: TO_config 10 s, TO_release 3 s, confirmed operations 3 s).
    public static func decision(for reply: APDU, timeouts: ManagerTimeouts = .standard) -> Decision {
        switch reply {
        case .prst(let data):
            switch data.message {
            case .rorsConfirmedEventReport(let result) where result.eventType == EventType.config:
                return .resend(within: timeouts.configuration)
            case .rorsConfirmedEventReport, .rorsGet, .rorsConfirmedSet, .rorsConfirmedAction, .roer, .rorj:
                return .resend(within: timeouts.confirmedRequest)
            case .roivEventReport, .roivConfirmedEventReport, .roivGet, .roivSet, .roivConfirmedSet, .roivAction, .roivConfirmedAction:
                return .leave(reason: "a request of the manager's own: its restored timer ends it")
            }
        case .rlre:
            return .resend(within: timeouts.release)
        case .aare:
            return .leave(reason: "an AARE is never repeated: an agent without it leaves associating on TO_assoc and associates again")
        case .rlrq:
            return .leave(reason: "the manager's release: the restored TO_release ends it")
        case .abrt:
            return .leave(reason: "the manager is unassociated: the agent's next APDU gets ABRT again")
        case .aarq:
            return .leave(reason: "a manager never sends an AARQ")
        }
    }

    /// The decision for encoded reply bytes; bytes that are not an APDU are left.
    public static func decision(for reply: [UInt8], timeouts: ManagerTimeouts = .standard) -> Decision {
        guard let apdu = try? APDU.decode(reply) else { return .leave(reason: "not an APDU") }
        return decision(for: apdu, timeouts: timeouts)
    }
}
