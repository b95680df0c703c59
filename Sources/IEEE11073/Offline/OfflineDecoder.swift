import Observations

/// What the offline decoder did with one input APDU.
public struct OfflineDecodeEvent: Sendable {
    /// Position of the APDU in the input, from 0.
    public let index: Int
    public let inputHex: String
    /// The APDU as decoded, even when the session refused it (nil when the bytes do not decode).
    public let apdu: APDU?
    /// The manager's answers, encoded, in order.
    public let responses: [[UInt8]]
    public let readings: [Reading]
    public let observations: [DecodedObservation]
    public let deadLetters: [DeadLetter]
    /// Why the input was refused; nil when accepted.
    public let rejection: String?
    public let notes: [String]
    public let stateAfter: ManagerState

    public var responseHex: [String] { responses.map(MDERHex.string) }
    public var isRejected: Bool { rejection != nil }
}

/// Decodes APDUs offline, in order, through one manager session, as if one device sent them.
///
/// The session starts unassociated when the first APDU is an AARQ; operating with a standard
/// configuration when one is given (a lone scan report); otherwise waiting for a config report.
public enum OfflineDecoder {
    /// The manager System-Id offline AAREs carry.
    public static let managerSystemId = SystemId(0x0000_0000_0000_0001)

    public static func decode(
        apdus: [[UInt8]], configId: UInt16?, offsetRule: UTCOffsetRule, systemId: SystemId? = nil
    ) -> [OfflineDecodeEvent] {
        let settings = ManagerSettings(managerSystemId: managerSystemId, offsetRule: offsetRule)
        var session: ManagerSession
        if let configId {
            guard let configuration = StandardConfigurations.configuration(id: configId) else {
                let known = StandardConfigurations.supportedIds.map { "0x" + hex16($0) }.joined(separator: ", ")
                return apdus.enumerated().map { index, bytes in
                    refused(index, bytes, "--config-id 0x\(hex16(configId)) is not a supported standard configuration (\(known))")
                }
            }
            session = .preset(operatingWith: configuration, systemId: systemId, settings: settings)
        } else if let first = apdus.first, first.count >= 2, first[0] == 0xE2, first[1] == 0x00 {
            session = ManagerSession(settings: settings, store: InMemoryConfigurationStore())
        } else {
            session = .preset(awaitingConfigurationFrom: systemId, settings: settings)
        }
        var events: [OfflineDecodeEvent] = []
        for (index, bytes) in apdus.enumerated() {
            // Offline input has no clock: every APDU arrives at time zero, so no timer fires.
            let result = session.receive(bytes, now: .zero)
            events.append(OfflineDecodeEvent(
                index: index, inputHex: MDERHex.string(bytes),
                apdu: result.received ?? (try? APDU.decode(bytes)),
                responses: result.outgoing, readings: result.readings, observations: result.observations,
                deadLetters: result.deadLetters, rejection: result.rejection?.description, notes: result.notes,
                stateAfter: result.state))
        }
        return events
    }

    static func refused(_ index: Int, _ bytes: [UInt8], _ reason: String) -> OfflineDecodeEvent {
        OfflineDecodeEvent(
            index: index, inputHex: MDERHex.string(bytes), apdu: try? APDU.decode(bytes), responses: [], readings: [],
            observations: [], deadLetters: [], rejection: reason, notes: [], stateAfter: .unassociated)
    }
}
