import Observations

/// What one input (an APDU, a tick, a request) did to a session.
public struct ManagerResult: Sendable {
    /// APDUs to send to the agent, in order, already encoded.
    public internal(set) var outgoing: [[UInt8]] = []
    /// The same APDUs, decoded, for logs and tests.
    public internal(set) var outgoingAPDUs: [APDU] = []
    /// Readings produced, each exactly once.
    public internal(set) var readings: [Reading] = []
    /// Every observation decoded, including those that did not become Readings.
    public internal(set) var observations: [DecodedObservation] = []
    /// Observations kept out of the Readings, each with its reason.
    public internal(set) var deadLetters: [DeadLetter] = []
    /// Set when the input was refused; the reason says why. A refused input yields no Readings.
    public internal(set) var rejection: Rejection?
    public internal(set) var events: [SessionEvent] = []
    /// Informational notes (for example a multi-person report's person ids).
    public internal(set) var notes: [String] = []
    /// The input as decoded, when it decoded.
    public internal(set) var received: APDU?
    public internal(set) var state: ManagerState = .unassociated

    public var isRejected: Bool { rejection != nil }

    mutating func send(_ apdu: APDU) {
        do {
            outgoing.append(try apdu.encode())
            outgoingAPDUs.append(apdu)
        } catch {
            // Only manager-built APDUs get here; they are small and fixed in shape.
            notes.append("could not encode \(apdu.name): \(error)")
        }
    }

    mutating func reject(_ kind: Rejection.Kind, _ reason: String, decodeError: DecodeError? = nil) {
        rejection = Rejection(kind: kind, reason: reason, decodeError: decodeError)
        readings = []
    }
}

/// Why an input was refused.
public struct Rejection: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Kind: String, Sendable, Hashable {
        /// The bytes are not a valid MDER APDU (lengths, counts, truncation, trailing bytes, tags).
        case malformed
        /// A valid APDU the current state does not allow.
        case wrongState
        /// Association refused: assoc-version, protocol, encoding, nomenclature or system-id.
        case associationRejected
        /// A config report the manager cannot use.
        case unsupportedConfiguration
        /// An event report addressed to an object the configuration does not have.
        case unknownObject
        /// An event or operation the manager does not support.
        case unsupportedOperation
        /// Observations that do not decode against the configuration.
        case invalidObservation
        /// A response whose invoke id matches no request of ours.
        case unexpectedResponse
    }

    public let kind: Kind
    public let reason: String
    public let decodeError: DecodeError?

    public var description: String { "\(kind.rawValue): \(reason)" }
}

public enum SessionEvent: Sendable, Hashable {
    case associated(systemId: SystemId, configId: UInt16, configurationKnown: Bool)
    case associationRejected(AssociationResult)
    case configured(Configuration, persisted: Bool)
    case configurationRefused(configId: UInt16)
    case released(byAgent: Bool)
    case aborted(reason: UInt16, byAgent: Bool)
    case timedOut(ManagerTimer)
    case mdsAttributes(MDSAttributes)
    case requestFailed(invokeId: UInt16, reason: String)
}
