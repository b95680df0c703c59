import DeviceIdentity
import Foundation
import JSONDocument
import Journal

/// `wardgate export`: the journal's Observations as NDJSON or a FHIR Bundle (collection).
public enum ObservationExport {
    public enum Format: String, Sendable, CaseIterable {
        case ndjson
        case bundle
    }

    /// Writes to `write` line by line (NDJSON) or as one Bundle document. Each signed Observation
    /// is followed by its Provenance, which carries the device's JWS (`signature.data`).
    public static func export(_ observations: [StoredObservation], format: Format, write: (String) -> Void) throws(JSONParseError) {
        switch format {
        case .ndjson:
            for observation in observations {
                write(String(decoding: observation.resource, as: UTF8.self))
                if let provenance = provenance(for: observation) { write(provenance.serialized) }
            }
        case .bundle:
            var entries: [JSONValue] = []
            entries.reserveCapacity(observations.count * 2)
            for observation in observations {
                let resource = try JSONParser.parse(observation.resource)
                entries.append(["fullUrl": .string(fullUrl(observation.id)), "resource": resource])
                if let provenance = provenance(for: observation) {
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
