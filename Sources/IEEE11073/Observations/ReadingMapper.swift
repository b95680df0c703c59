import Nomenclature
import Observations

/// Turns decoded observations into `Reading`s, or says why one cannot be.
///
/// Only terms and units of the shared Nomenclature table become Readings. Flagged measurements
/// (invalid, not available) become data-absent values; test and demo data, and values the device
/// itself calls questionable, are never presented as patient readings.
struct ReadingMapper {
    let deviceId: String
    let offsetRule: UTCOffsetRule

    enum Outcome {
        case reading(Reading)
        case deadLetter(String)
    }

    func map(_ observation: DecodedObservation) -> Outcome {
        guard let type = observation.type else { return .deadLetter("object has no Type") }
        guard type.partition == Nomenclature.scadaPartition, let metric = Nomenclature.metric(term: type.code) else {
            return .deadLetter("MDC term \(type) is not in the shared Nomenclature table")
        }
        if let reason = Self.excludedByStatus(observation.measurementStatus) { return .deadLetter(reason) }
        let time = observation.absoluteTime?.deviceTime(assuming: offsetRule)

        switch observation.value {
        case .numeric(let number):
            guard !metric.isPanel else { return .deadLetter("\(metric.reference) is a panel but a single value was sent") }
            guard let unit = ucum(observation.unitCode) else { return .deadLetter(unitReason(observation.unitCode)) }
            return .reading(Reading(deviceId: deviceId, metric: metric, value: .single(value(number, unit, observation.measurementStatus)), deviceTime: time))
        case .compound(let components):
            if !metric.isPanel {
                // NuObsValue: a single value that carries its own metric id, unit and state.
                guard components.count == 1, let only = components.first else {
                    return .deadLetter("\(metric.reference) is not a panel but \(components.count) values were sent")
                }
                if let reason = Self.excludedByStatus(only.state) { return .deadLetter(reason) }
                guard let unit = ucum(only.unitCode ?? observation.unitCode) else { return .deadLetter(unitReason(only.unitCode ?? observation.unitCode)) }
                return .reading(Reading(deviceId: deviceId, metric: metric, value: .single(value(only.value, unit, only.state)), deviceTime: time))
            }
            return panel(metric, components, observation, time)
        case .enumerationCode, .enumerationBits, .enumerationText:
            return .deadLetter("enumeration observations have no Reading form")
        }
    }

    private func panel(_ metric: MetricTerm, _ components: [CompoundComponent], _ observation: DecodedObservation, _ time: DeviceTime?) -> Outcome {
        let physio = components.allSatisfy { $0.metricId != nil } ? components.compactMap(\.metricId) : nil
        guard let ids = physio ?? observation.componentIds else {
            return .deadLetter("compound value without a Metric-Id-List: components cannot be named")
        }
        guard ids.count == components.count else {
            return .deadLetter("\(components.count) compound values but \(ids.count) component ids")
        }
        var values: [ComponentRole: MeasuredValue] = [:]
        for (id, component) in zip(ids, components) {
            let code = Nomenclature.combinedCode(partition: Nomenclature.scadaPartition, term: id)
            guard let (panel, term) = Nomenclature.component(code: code), panel == metric else {
                return .deadLetter("component term 0x\(hex16(id)) is not a component of \(metric.reference)")
            }
            guard values[term.role] == nil else { return .deadLetter("component \(term.reference) sent twice") }
            if let reason = Self.excludedByStatus(component.state) { return .deadLetter("\(term.reference): \(reason)") }
            guard let unit = ucum(component.unitCode ?? observation.unitCode) else {
                return .deadLetter(unitReason(component.unitCode ?? observation.unitCode))
            }
            values[term.role] = value(component.value, unit, component.state)
        }
        return .reading(Reading(deviceId: deviceId, metric: metric, value: .panel(values), deviceTime: time))
    }

    private func value(_ number: MDERNumber, _ unit: String, _ status: UInt16?) -> MeasuredValue {
        if let status {
            if status & MeasurementStatus.invalid != 0 { return .absent(.error) }
            if status & MeasurementStatus.notAvailable != 0 { return .absent(.unknown) }
        }
        return number.measuredValue(unit: unit)
    }

    private func ucum(_ unitCode: UInt16?) -> String? { unitCode.flatMap { Nomenclature.unit(term: $0)?.ucum } }

    private func unitReason(_ unitCode: UInt16?) -> String {
        guard let unitCode else { return "no unit code" }
        return "unit term 0x\(hex16(unitCode)) (\(unitCode)) is not in the shared Nomenclature table"
    }

    /// Statuses that keep a value out of the Readings altogether.
    static func excludedByStatus(_ status: UInt16?) -> String? {
        guard let status else { return nil }
        if status & MeasurementStatus.testData != 0 { return "measurement-status says test data" }
        if status & MeasurementStatus.demoData != 0 { return "measurement-status says demo data" }
        if status & MeasurementStatus.questionable != 0 { return "measurement-status says questionable" }
        if status & MeasurementStatus.calibrationOngoing != 0 { return "measurement-status says calibration ongoing" }
        return nil
    }
}
