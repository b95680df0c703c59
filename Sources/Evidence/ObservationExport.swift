import DeviceIdentity
import Foundation
import JSONDocument
import Journal

/// `wardgate export`: the journal's Observations and their signature Provenances as NDJSON
/// (FHIR Bulk Data style: one resource per line) or a FHIR Bundle (collection).
public enum ObservationExport {
    public enum Format: String, Sendable, CaseIterable {
        case ndjson
        case bundle
    }

    /// Which resources go out: the Observations, the Provenances (one per signed Observation,
    /// carrying the device's JWS), or both, each Provenance right after its Observation.
    public enum Resources: String, Sendable, CaseIterable {
        case observation
        case provenance
        case all

        var observations: Bool { self != .provenance }
        var provenances: Bool { self != .observation }
    }

    /// Writes to `write` line by line (NDJSON) or as one Bundle document. With `.all`, each
    /// signed Observation is followed by its Provenance, which carries the device's JWS
    /// (`signature.data`); a quarantined one has none.
    public static func export(
        _ observations: [StoredObservation], format: Format, resources: Resources = .all, write: (String) -> Void
    ) throws(JSONParseError) {
        switch format {
        case .ndjson:
            for observation in observations {
                if resources.observations { write(String(decoding: observation.resource, as: UTF8.self)) }
                if resources.provenances, let provenance = provenance(for: observation) { write(provenance.serialized) }
            }
        case .bundle:
            var entries: [JSONValue] = []
            entries.reserveCapacity(observations.count * 2)
            for observation in observations {
                if resources.observations {
                    let resource = try JSONParser.parse(observation.resource)
                    entries.append(["fullUrl": .string(fullUrl(observation.id)), "resource": resource])
                }
                if resources.provenances, let provenance = provenance(for: observation) {
                    entries.append(["fullUrl": .string(fullUrl(observation.id, provenance: true)), "resource": provenance])
                }
            }
            let bundle: JSONValue = [
                "resourceType": "Bundle",
                "type": "collection",
                "timestamp": .string(ISO8601DateFormatter().string(from: Date())),
                "entry": .array(entries),
            ]
            write(bundle.serialized)
        }
    }

    /// The FHIR Provenance of a signed Observation; nil for a quarantined one.
    public static func provenance(for observation: StoredObservation) -> JSONValue? {
        guard let signature = observation.signature else { return nil }
        return ProvenanceBuilder.provenance(
            observationID: observation.id, signer: .device(observation.deviceId), jws: signature.jws,
            signedAt: Date(timeIntervalSince1970: Double(signature.signedAtMs) / 1000),
            provenanceID: observation.id + "-sig")
    }

    /// Reading ids are 128-bit hex; written as a UUID they make the absolute `urn:uuid:` URL
    /// a Bundle entry needs.
    /// A Provenance gets the UUID with its last digit group's first hex digit changed, so the
    /// pair stays distinct and recognizably related.
    public static func fullUrl(_ id: String, provenance: Bool = false) -> String {
        guard id.count == 32 else { return "urn:wardgate:\(provenance ? "provenance" : "observation"):\(id)" }
        var c = Array(id)
        if provenance { c[20] = c[20] == "f" ? "e" : "f" }
        return "urn:uuid:" + [String(c[0..<8]), String(c[8..<12]), String(c[12..<16]), String(c[16..<20]), String(c[20..<32])].joined(separator: "-")
    }
}
