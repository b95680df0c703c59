import Foundation
import Nomenclature

/// Everything a normalized Observation says, before it is written as JSON: what both the
/// `JSONValue` builder (`ObservationResource`) and the byte renderer (`ObservationRenderer`)
/// write, so the two cannot disagree about content, only (tested) about bytes.
struct ObservationContent: Sendable, Hashable {
    let id: String
    let reading: Reading
    /// The value in the canonical unit (converted).
    let value: ReadingValue
    let receivedAt: Date
    let assignment: PatientAssignment?
    let notes: [String]
    let implausible: Bool
}

extension ObservationContent {
    /// A panel's components in the order its metric lists them (the order FHIR arrays keep).
    static func orderedComponents(_ metric: MetricTerm, _ components: [ComponentRole: MeasuredValue]) -> [(ComponentTerm, MeasuredValue)] {
        metric.components.compactMap { term in components[term.role].map { (term, $0) } }
    }
}
