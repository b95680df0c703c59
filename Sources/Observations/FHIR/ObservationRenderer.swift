import Foundation
import JSONDocument
import Nomenclature

/// Writes an Observation straight into RFC 8785 (JCS) bytes: members in JCS order (object
/// names sorted by UTF-16 code units; every name here is ASCII), strings escaped as JCS does,
/// no whitespace. No `JSONValue` tree is built.
///
/// Two forms, which differ only in numbers:
/// - `.canonical`: numbers in ECMAScript form. These are the bytes that are signed, equal to
///   `JCS.canonicalize(ObservationResource.build(content))` (the property tests check it).
/// - `.asWritten`: numbers as the device wrote them ("2.0" stays "2.0"), which FHIR needs to keep
///   a value's precision; what is stored. Canonicalizing its numbers gives the `.canonical` bytes.
enum ObservationRenderer {
    enum Numbers {
        case canonical
        case asWritten
    }

    static func render(_ content: ObservationContent, numbers: Numbers) throws(CanonicalNumber.Failure) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(1024)
        try write(content, numbers: numbers, into: &out)
        return out
    }

    static func write(_ content: ObservationContent, numbers: Numbers, into out: inout [UInt8]) throws(CanonicalNumber.Failure) {
        let reading = content.reading
        let metric = reading.metric
        out += Fragments.categoryMember
        out += #","code":"#.utf8
        writeConcept(loinc: metric.loinc, mdc: metric.code, reference: metric.reference, display: metric.display, into: &out)
        switch content.value {
        case .single(let measured):
            if case .absent(let reason) = measured {
                out += #","dataAbsentReason":"#.utf8
                writeAbsentReason(reason, into: &out)
            }
        case .panel(let components):
            out += #","component":["#.utf8
            for (position, (term, measured)) in ObservationContent.orderedComponents(metric, components).enumerated() {
                if position > 0 { out.append(UInt8(ascii: ",")) }
                out += #"{"code":"#.utf8
                writeConcept(loinc: term.loinc, mdc: term.code, reference: term.reference, display: term.display, into: &out)
                switch measured {
                case .absent(let reason):
                    out += #","dataAbsentReason":"#.utf8
                    writeAbsentReason(reason, into: &out)
                case .quantity(let quantity):
                    out += #","valueQuantity":"#.utf8
                    try writeQuantity(quantity, numbers: numbers, into: &out)
                }
                out.append(UInt8(ascii: "}"))
            }
            out.append(UInt8(ascii: "]"))
        }
        out += #","device":{"identifier":{"system":"#.utf8
        out += Fragments.deviceSystem
        out += #","value":"#.utf8
        JSONValue.writeString(reading.deviceId, into: &out)
        out += #"}},"effectiveDateTime":""#.utf8
        if let time = reading.deviceTime {
            FHIRTimeText.appendDateTime(time.instant, utcOffsetSeconds: time.utcOffsetSeconds, to: &out)
        } else {
            FHIRTimeText.appendInstant(content.receivedAt, to: &out)
        }
        out += #"","id":"#.utf8
        JSONValue.writeString(content.id, into: &out)
        out += #","identifier":[{"system":"#.utf8
        out += Fragments.readingSystem
        out += #","value":"#.utf8
        JSONValue.writeString(content.id, into: &out)
        out += #"}],"issued":""#.utf8
        FHIRTimeText.appendInstant(content.receivedAt, to: &out)
        out.append(UInt8(ascii: "\""))
        if content.implausible { out += Fragments.metaMember }
        if !content.notes.isEmpty {
            out += #","note":["#.utf8
            for (position, note) in content.notes.enumerated() {
                if position > 0 { out.append(UInt8(ascii: ",")) }
                out += #"{"text":"#.utf8
                JSONValue.writeString(note, into: &out)
                out.append(UInt8(ascii: "}"))
            }
            out.append(UInt8(ascii: "]"))
        }
        out += #","resourceType":"Observation","status":"final""#.utf8
        if let assignment = content.assignment {
            out += #","subject":{"#.utf8
            if let bed = assignment.bed {
                out += #""display":"#.utf8
                JSONValue.writeString("Bed " + bed, into: &out)
                out.append(UInt8(ascii: ","))
            }
            out += #""identifier":{"system":"#.utf8
            JSONValue.writeString(assignment.system, into: &out)
            out += #","value":"#.utf8
            JSONValue.writeString(assignment.value, into: &out)
            out += "}}".utf8
        }
        if case .single(.quantity(let quantity)) = content.value {
            out += #","valueQuantity":"#.utf8
            try writeQuantity(quantity, numbers: numbers, into: &out)
        }
        out.append(UInt8(ascii: "}"))
    }

    /// `{"coding":[loinc?, mdc],"text":display}`; each coding `{"code","display","system"}`.
    private static func writeConcept(loinc: String?, mdc: UInt32, reference: String, display: String, into out: inout [UInt8]) {
        out += #"{"coding":[{"code":"#.utf8
        if let loinc {
            JSONValue.writeString(loinc, into: &out)
            out += #","display":"#.utf8
            JSONValue.writeString(display, into: &out)
            out += #","system":"#.utf8
            out += Fragments.loincSystem
            out += #"},{"code":"#.utf8
        }
        out.append(UInt8(ascii: "\""))
        FHIRTimeText.appendDigits(UInt64(mdc), to: &out)
        out += #"","display":"#.utf8
        JSONValue.writeString(reference, into: &out)
        out += #","system":"#.utf8
        out += Fragments.mdcSystem
        out += #"}],"text":"#.utf8
        JSONValue.writeString(display, into: &out)
        out.append(UInt8(ascii: "}"))
    }

    /// `{"code":unit,"system":UCUM,"unit":unit,"value":number}`.
    private static func writeQuantity(_ quantity: Quantity, numbers: Numbers, into out: inout [UInt8]) throws(CanonicalNumber.Failure) {
        out += #"{"code":"#.utf8
        JSONValue.writeString(quantity.unit, into: &out)
        out += #","system":"#.utf8
        out += Fragments.ucumSystem
        out += #","unit":"#.utf8
        JSONValue.writeString(quantity.unit, into: &out)
        out += #","value":"#.utf8
        switch numbers {
        case .canonical: try CanonicalNumber.append(lexeme: quantity.value.text, to: &out)
        case .asWritten: out += quantity.value.text.utf8
        }
        out.append(UInt8(ascii: "}"))
    }

    /// `{"coding":[{"code":reason,"system":data-absent-reason}]}`.
    private static func writeAbsentReason(_ reason: DataAbsentReason, into out: inout [UInt8]) {
        out += #"{"coding":[{"code":"#.utf8
        JSONValue.writeString(reason.rawValue, into: &out)
        out += #","system":"#.utf8
        out += Fragments.dataAbsentReasonSystem
        out += "}]}".utf8
    }

    /// Constant pieces, escaped once.
    private enum Fragments {
        static func quoted(_ text: String) -> [UInt8] {
            var out: [UInt8] = []
            JSONValue.writeString(text, into: &out)
            return out
        }

        static let deviceSystem = quoted(WardgateSystems.deviceIdentifier)
        static let readingSystem = quoted(WardgateSystems.readingIdentifier)
        static let loincSystem = quoted(Nomenclature.loincSystem)
        static let mdcSystem = quoted(Nomenclature.mdcSystem)
        static let ucumSystem = quoted(Nomenclature.ucumSystem)
        static let dataAbsentReasonSystem = quoted(WardgateSystems.dataAbsentReason)
        /// `{"category":[{"coding":[{"code","display","system"}],"text"}]` (opens the object).
        static let categoryMember: [UInt8] = Array(#"{"category":[{"coding":[{"code":"#.utf8) + quoted(Nomenclature.vitalSignsCategory)
            + Array(#","display":"#.utf8) + quoted(WardgateSystems.vitalSignsDisplay) + Array(#","system":"#.utf8)
            + quoted(Nomenclature.categorySystem) + Array(#"}],"text":"#.utf8) + quoted(WardgateSystems.vitalSignsDisplay) + Array("}]".utf8)
        /// `,"meta":{"tag":[{"code","display","system"}]}`.
        static let metaMember: [UInt8] = Array(#","meta":{"tag":[{"code":"implausible","display":"#.utf8)
            + quoted(WardgateSystems.implausibleDisplay) + Array(#","system":"#.utf8) + quoted(WardgateSystems.flags) + Array("}]}".utf8)
    }
}
