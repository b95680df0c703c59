import DeviceIdentity
import Foundation
import Journal
import Observations
import Logging

/// Signs each Observation with its device's key, or says why it cannot (quarantine).
///
/// The JWS payload is the RFC 8785 canonical form of exactly the Observation that is journaled,
/// so any JOSE library can verify an exported Observation after canonicalizing it. The protected
/// header carries the signing time (`iat`): the registry decides at that time, by the same
/// `SigningTimePolicy` every verifier applies to it; the device's own clock plays no part.
struct ObservationSigning: Sendable {
    let registry: IdentityRegistry?
    let timePolicy = SigningTimePolicy.standard
    let metrics: ProcessingMetrics
    let logger: Logger
    /// One line per device and reason per hour: a ward of unenrolled devices must not flood the log.
    let quarantineLog = LogThrottle(interval: 3600)

    enum Outcome {
        /// `canonicalObservation` is the signed payload, reused for the log leaf.
        case signed(ObservationSignature, canonicalObservation: [UInt8])
        case quarantined(reason: String)
    }

    /// Signs the RFC 8785 bytes `ObservationRenderer` writes for `observation` (no JSON tree):
    /// the same bytes `JCS.canonicalize(observation.resource)` gives, which verifiers recompute.
    func sign(_ observation: NormalizedObservation, now: Date = Date()) -> Outcome {
        sign(deviceId: observation.deviceId, now: now) { try observation.canonicalBytes() }
    }

    /// Signs the RFC 8785 bytes `canonicalBytes` gives, for `deviceId` (`QuarantineRetry`
    /// canonicalizes a journaled Observation).
    func sign(deviceId: String, now: Date = Date(), canonicalBytes: () throws -> [UInt8]) -> Outcome {
        guard let registry else {
            return quarantine(deviceId: deviceId, kind: "signing_not_configured",
                              reason: "signing is not configured (no identity section); the reading is kept unsigned")
        }
        switch registry.signingIdentity(for: deviceId, at: now) {
        case .failure(let failure):
            return quarantine(deviceId: deviceId, kind: ObservationSigning.kind(of: failure), reason: failure.description)
        case .success(let signer):
            do {
                let payload = try canonicalBytes()
                // In parts, as the journal keeps it: the serial commit then has no JWS text to parse.
                let signed = try signer.signDetached(payload, signedAt: timePolicy.signingTime(at: now))
                metrics.observationsSigned.increment()
                return .signed(
                    ObservationSignature(
                        headerPrefix: signed.headerPrefix, iat: signed.iat, headerSuffix: signed.headerSuffix, signature: signed.signature,
                        signedAtMs: Int64((now.timeIntervalSince1970 * 1000).rounded()), certificateThumbprint: signer.certificateThumbprint),
                    canonicalObservation: payload)
            } catch {
                return quarantine(deviceId: deviceId, kind: "signing_failed", reason: "signing failed: \(error)")
            }
        }
    }

    private func quarantine(deviceId: String, kind: String, reason: String) -> Outcome {
        metrics.quarantined(reason: kind)
        if quarantineLog.shouldLog(deviceId + "|" + kind) {
            logger.warning("reading quarantined: kept unsigned, never anchored as authentic (logged once per device per hour)",
                           metadata: ["device": "\(deviceId)", "reason": "\(reason)"])
        }
        return .quarantined(reason: reason)
    }

    static func kind(of failure: IdentityFailure) -> String {
        switch failure {
        case .unknownDevice: "unknown_device"
        case .missingPrivateKey: "missing_private_key"
        case .expired: "expired"
        case .notYetValid: "not_yet_valid"
        case .revoked: "revoked"
        case .chainInvalid: "chain_invalid"
        case .keyFilePermissions: "key_file_permissions"
        case .keyCertificateMismatch: "key_certificate_mismatch"
        case .unreadable: "unreadable"
        case .sharedIdentifier: "shared_identifier"
        }
    }
}
