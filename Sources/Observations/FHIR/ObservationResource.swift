import Foundation
import JSONDocument
import Nomenclature

/// The FHIR R4 Observation JSON for a normalized reading.
enum ObservationResource {
    static func build(_ content: ObservationContent) -> JSONValue {
        let reading = content.reading
        let metric = reading.metric
        let effective = reading.deviceTime.map { FHIRTime.dateTime($0.instant, utcOffsetSeconds: $0.utcOffsetSeconds) }
            ?? FHIRTime.instant(content.receivedAt)
        var members: [JSONMember] = [
            JSONMember("resourceType", "Observation"),
            JSONMember("id", .string(content.id)),
        ]
        if content.implausible {
            members.append(JSONMember("meta", ["tag": [["system": .string(WardgateSystems.flags), "code": "implausible", "display": .string(WardgateSystems.implausibleDisplay)]]]))
        }
        members += [
            JSONMember("identifier", [["system": .string(WardgateSystems.readingIdentifier), "value": .string(content.id)]]),
            JSONMember("status", "final"),
            JSONMember("category", [[
                "coding": [["system": .string(Nomenclature.categorySystem), "code": .string(Nomenclature.vitalSignsCategory), "display": .string(WardgateSystems.vitalSignsDisplay)]],
                "text": .string(WardgateSystems.vitalSignsDisplay),
            ]]),
            JSONMember("code", concept(loinc: metric.loinc, mdc: metric.code, reference: metric.reference, display: metric.display)),
        ]
        if let assignment = content.assignment {
            members.append(JSONMember("subject", .object([
                "identifier": ["system": .string(assignment.system), "value": .string(assignment.value)],
                "display": assignment.bed.map { .string("Bed \($0)") },
            ])))
        }
        members += [
            JSONMember("effectiveDateTime", .string(effective)),
            JSONMember("issued", .string(FHIRTime.instant(content.receivedAt))),
            JSONMember("device", ["identifier": ["system": .string(WardgateSystems.deviceIdentifier), "value": .string(reading.deviceId)]]),
        ]
        switch content.value {
        case .single(let measured):
            members += valueMembers(measured)
        case .panel(let components):
            members.append(JSONMember("component", .array(ObservationContent.orderedComponents(metric, components).map { term, measured in
                .object([JSONMember("code", concept(loinc: term.loinc, mdc: term.code, reference: term.reference, display: term.display))] + valueMembers(measured))
            })))
        }
        if !content.notes.isEmpty {
            members.append(JSONMember("note", .array(content.notes.map { ["text": .string($0)] })))
        }
        return .object(members)
    }

    private static func concept(loinc: String?, mdc: UInt32, reference: String, display: String) -> JSONValue {
        var codings: [JSONValue] = []
        if let loinc {
            codings.append(["system": .string(Nomenclature.loincSystem), "code": .string(loinc), "display": .string(display)])
        }
        codings.append(["system": .string(Nomenclature.mdcSystem), "code": .string(String(mdc)), "display": .string(reference)])
        return ["coding": .array(codings), "text": .string(display)]
    }

    private static func valueMembers(_ measured: MeasuredValue) -> [JSONMember] {
        switch measured {
        case .quantity(let q):
            [JSONMember("valueQuantity", [
                "value": .number(q.value.text), "unit": .string(q.unit),
                "system": .string(Nomenclature.ucumSystem), "code": .string(q.unit),
            ])]
        case .absent(let reason):
            [JSONMember("dataAbsentReason", [
                "coding": [["system": .string(WardgateSystems.dataAbsentReason), "code": .string(reason.rawValue)]],
            ])]
        }
    }
}
