import Foundation
import JSONDocument
import Journal
import Observations

/// `GET /v1/observations`: the query, validated, and the FHIR R4 `searchset` Bundle it answers with.
public struct ObservationSearch: Sendable, Hashable {
    public static let parameters: Set<String> = ["device", "since", "_count"]

    public var deviceId: String?
    /// Gateway receive time (`issued`) at or after this instant.
    public var since: Date?
    public var count: Int

    public init(deviceId: String? = nil, since: Date? = nil, count: Int) {
        self.deviceId = deviceId
        self.since = since
        self.count = count
    }

    /// Validates the query. Unknown parameters are errors: a misspelt `devcie=` must not
    /// silently return every device's readings.
    public static func parse(_ query: [(name: String, value: String)], defaultCount: Int, maxCount: Int) -> Result<ObservationSearch, SearchError> {
        var search = ObservationSearch(count: defaultCount)
        var seen = Set<String>()
        for (name, value) in query {
            guard parameters.contains(name) else {
                return .failure(SearchError("unknown search parameter \"\(name)\"; supported: device, since, _count"))
            }
            guard seen.insert(name).inserted else { return .failure(SearchError("\(name) is given more than once")) }
            switch name {
            case "device":
                // Checked here, not left to the journal: SQLite gets text as a C string, so
                // "dev-2\0" would be searched as "dev-2".
                if let problem = DeviceIdentifier.problem(value) { return .failure(SearchError("device \(problem)")) }
                search.deviceId = value
            case "since":
                guard let date = parseRFC3339(value) else {
                    return .failure(SearchError("since must be an RFC 3339 date-time with a UTC offset, e.g. 2026-11-21T08:00:00Z; found \"\(value)\""))
                }
                search.since = date
            default:
                guard let n = Int(value), (1...maxCount).contains(n) else { return .failure(SearchError("_count must be an integer 1–\(maxCount)")) }
                search.count = n
            }
        }
        return .success(search)
    }

    /// RFC 3339 date-time with fractional seconds optional. A `+` offset may arrive decoded as
    /// a space from a query string; it is put back.
    public static func parseRFC3339(_ text: String) -> Date? {
        let text = text.replacingOccurrences(of: " ", with: "+")
        let plain = ISO8601DateFormatter()
        plain.formatOptions = [.withInternetDateTime]
        if let date = plain.date(from: text) { return date }
        let fractional = ISO8601DateFormatter()
        fractional.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return fractional.date(from: text)
    }

    /// Runs the search: asks the journal for one more than the page so a truncated page is known.
    public func run(on journal: Journal) throws(JournalError) -> (page: [StoredObservation], truncated: Bool) {
        let rows = try journal.observations(issuedSince: since, deviceId: deviceId, limit: count + 1)
        return (Array(rows.prefix(count)), rows.count > count)
    }

    /// The searchset Bundle. `total` is given when the page holds every match; when it was cut
    /// at `_count`, `total` is left out (FHIR allows that) and an OperationOutcome entry with
    /// `search.mode = outcome` says so. `includes` are extra entries (e.g. Provenance) given
    /// `search.mode = include`.
    public func bundle(page: [StoredObservation], truncated: Bool, selfURL: String, includes: [JSONValue],
                       fullUrl: (String) -> String, now: Date = Date()) throws(JSONParseError) -> JSONValue {
        var entries: [JSONValue] = []
        entries.reserveCapacity(page.count + includes.count + 1)
        for observation in page {
            let resource = try JSONParser.parse(observation.resource)
            entries.append(["fullUrl": .string(fullUrl(observation.id)), "resource": resource, "search": ["mode": "match"]])
        }
        for include in includes {
            guard case .object(var members) = include else { continue }
            members.removeAll { $0.key == "search" }
            members.append(JSONMember("search", ["mode": "include"]))
            entries.append(.object(members))
        }
        if truncated {
            let outcome = OperationOutcome.make(
                severity: "warning", code: "too-costly",
                diagnostics: "more than \(count) Observations match; this page holds the first \(count) in journal order. Narrow the search with since or device.")
            entries.append(["resource": outcome, "search": ["mode": "outcome"]])
        }
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return .object([
            "resourceType": "Bundle",
            "type": "searchset",
            "timestamp": .string(formatter.string(from: now)),
            "total": truncated ? nil : .integer(page.count),
            "link": [["relation": "self", "url": .string(selfURL)]],
            // FHIR JSON has no empty arrays: no match, no entry element.
            "entry": entries.isEmpty ? nil : .array(entries),
        ])
    }

    /// Reading ids are 128-bit hex; written as a UUID they make the absolute `urn:uuid:` URL a
    /// Bundle entry needs (the same form as `wardgate export`).
    public static func defaultFullUrl(_ id: String) -> String {
        guard id.count == 32, id.allSatisfy(\.isHexDigit) else { return "urn:wardgate:observation:\(id)" }
        let c = Array(id)
        return "urn:uuid:" + [String(c[0..<8]), String(c[8..<12]), String(c[12..<16]), String(c[16..<20]), String(c[20..<32])].joined(separator: "-")
    }
}

public struct SearchError: Error, Sendable, Hashable {
    public let message: String
    init(_ message: String) { self.message = message }
}

/// FHIR OperationOutcome for errors on the FHIR routes.
enum OperationOutcome {
    static func make(severity: String, code: String, diagnostics: String) -> JSONValue {
        [
            "resourceType": "OperationOutcome",
            "issue": [["severity": .string(severity), "code": .string(code), "diagnostics": .string(diagnostics)]],
        ]
    }
}
