import Foundation
import JSONDocument
import Journal

/// `wardgate export`: the journal's Observations as NDJSON or a FHIR Bundle (collection).
public enum ObservationExport {
    public enum Format: String, Sendable, CaseIterable {
        case ndjson
        case bundle
    }

    /// Writes to `write` line by line (NDJSON) or as one Bundle document.
    public static func export(_ observations: [StoredObservation], format: Format, write: (String) -> Void) throws(JSONParseError) {
        switch format {
        case .ndjson:
            for observation in observations {
                write(String(decoding: observation.resource, as: UTF8.self))
            }
        case .bundle:
            var entries: [JSONValue] = []
            entries.reserveCapacity(observations.count)
            for observation in observations {
                let resource = try JSONParser.parse(observation.resource)
                entries.append(["fullUrl": .string(fullUrl(observation.id)), "resource": resource])
            }
            let bundle: JSONValue = [
                "resourceType": "Bundle",
                "type": "collection",
                "timestamp": .string(ISO8601DateFormatter().string(from: Date())),
                "total": .integer(entries.count),
                "entry": .array(entries),
            ]
            write(bundle.serialized)
        }
    }

    /// Reading ids are 128-bit hex; written as a UUID they make the absolute `urn:uuid:` URL
    /// a Bundle entry needs.
    static func fullUrl(_ id: String) -> String {
        guard id.count == 32 else { return "urn:wardgate:observation:\(id)" }
        let c = Array(id)
        return "urn:uuid:" + [String(c[0..<8]), String(c[8..<12]), String(c[12..<16]), String(c[16..<20]), String(c[20..<32])].joined(separator: "-")
    }
}
