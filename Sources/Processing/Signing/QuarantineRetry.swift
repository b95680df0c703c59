import DeviceIdentity
import Foundation
import JSONDocument
import Journal
import Logging

/// `wardgate quarantine retry`: signs again the quarantined readings whose device has a usable
/// identity now (a clock that was wrong made a certificate look expired or not yet valid, or the
/// device was enrolled late), and logs them, in one transaction, through the commit hook (the
/// Merkle log). Readings whose device still cannot sign stay quarantined with their reason. Run
/// it with the gateway stopped: the running gateway's log would not see the new leaves.
public struct QuarantineRetry: Sendable {
    public struct Outcome: Sendable, Equatable {
        /// Observations signed and logged now.
        public var signed = 0
        /// Still quarantined, by the reason the registry gives now.
        public var stillQuarantined: [String: Int] = [:]
    }

    let signing: ObservationSigning

    public init(identity: IdentityRegistry, metrics: ProcessingMetrics, logger: Logger) {
        signing = ObservationSigning(registry: identity, metrics: metrics, logger: logger)
    }

    public func run(journal: Journal, deviceId: String? = nil, hook: any ObservationCommitHook, now: Date = Date()) throws -> Outcome {
        var outcome = Outcome()
        var signatures: [String: ObservationSignature] = [:]
        var canonical: [String: [UInt8]] = [:]
        for observation in try journal.observations(deviceId: deviceId, quarantinedOnly: true) {
            let resource = try JSONParser.parse(observation.resource)
            switch signing.sign(deviceId: observation.deviceId, now: now, canonicalBytes: { try JCS.canonicalize(resource) }) {
            case .signed(let signature, let payload):
                signatures[observation.id] = signature
                canonical[observation.id] = payload
            case .quarantined(let reason):
                outcome.stillQuarantined[reason, default: 0] += 1
            }
        }
        guard !signatures.isEmpty else { return outcome }
        let signed = try journal.resignQuarantined(signatures) { transaction, entries in
            _ = try hook.committing(entries, canonicalObservations: canonical, in: transaction)
        }
        outcome.signed = signed.count
        return outcome
    }
}
