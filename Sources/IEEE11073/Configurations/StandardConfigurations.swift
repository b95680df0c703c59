import Nomenclature

/// The standard configurations this manager knows, so agents using them skip the configuration
/// exchange (AARQ → AARE accepted → operating).
///
/// Metric and unit codes come from the shared `Nomenclature` table; the layouts (handles, value
/// maps, metric specs) are the specializations' own.
public enum StandardConfigurations {
    public struct Entry: Sendable {
        public let id: UInt16
        public let specialization: String
        public let summary: String
        public let configuration: Configuration
    }

    /// Every supported standard configuration by id.
    public static let all: [UInt16: Entry] = {
        var table: [UInt16: Entry] = [:]
        for definition in definitions {
            // The definitions are constants; a failure here is a defect the test suite reports
            // (StandardConfigurationTests checks every id is present).
            guard let entry = try? definition() else { continue }
            table[entry.id] = entry
        }
        return table
    }()

    public static func configuration(id: UInt16) -> Configuration? { all[id]?.configuration }

    public static let supportedIds: [UInt16] = [0x0190, 0x0191, 0x02BC, 0x0320, 0x05DC, 0x06A4, 0x06A5]

    // MARK: - Layout vocabulary

    /// Metric-Spec-Small of an episodic, agent-initiated measurement: intermittent, stored data,
    /// aperiodic update and measurement, agent-initiated, measured (0xF040).
    package static let episodicSpec: UInt16 = 0xF040
    /// Metric-Spec-Small of a continuous pulse oximeter: stored data, periodic update,
    /// continuous measurement, agent-initiated (0x4C40).
    static let continuousSpec: UInt16 = 0x4C40

    static let basic = AttributeValueMapEntry(attributeId: AttributeId.nuObservedValueBasic, length: 2)
    package static let simple = AttributeValueMapEntry(attributeId: AttributeId.nuObservedValueSimple, length: 4)
    static let compoundBasic3 = AttributeValueMapEntry(attributeId: AttributeId.nuCompoundObservedValueBasic, length: 10)
    package static let absoluteTimeStamp = AttributeValueMapEntry(attributeId: AttributeId.timeStampAbsolute, length: 8)

    static func metricTerm(_ reference: String) throws(ConfigurationError) -> UInt16 {
        guard let term = Nomenclature.metric(named: reference)?.term else {
            throw ConfigurationError("\(reference) is not in the Nomenclature table")
        }
        return term
    }

    static func componentTerms(_ reference: String) throws(ConfigurationError) -> [UInt16] {
        guard let metric = Nomenclature.metric(named: reference) else {
            throw ConfigurationError("\(reference) is not in the Nomenclature table")
        }
        return [ComponentRole.systolic, .diastolic, .mean].compactMap { metric.component($0)?.term }
    }

    static func unitTerm(_ reference: String) throws(ConfigurationError) -> UInt16 {
        guard let term = Nomenclature.units.first(where: { $0.reference == reference })?.term else {
            throw ConfigurationError("\(reference) is not in the Nomenclature units")
        }
        return term
    }

    package static func numeric(
        handle: UInt16, metric: String, unit: String, spec: UInt16, map: [AttributeValueMapEntry],
        compound: Bool = false
    ) throws(ConfigurationError) -> ConfigObject {
        var attributes = [
            AttributeEncoding.type(MetricType(partition: Nomenclature.scadaPartition, code: try metricTerm(metric))),
            AttributeEncoding.u16(AttributeId.metricSpecSmall, spec),
        ]
        do {
            if compound {
                let components = try componentTerms(metric)
                attributes.append(AttributeEncoding.metricStructure(MetricStructure(structure: 3, componentCount: UInt8(components.count))))
                attributes.append(try AttributeEncoding.u16List(AttributeId.idPhysioList, components))
            }
            attributes.append(AttributeEncoding.u16(AttributeId.unitCode, try unitTerm(unit)))
            attributes.append(try AttributeEncoding.attributeValueMap(map))
        } catch let error as EncodeError {
            throw ConfigurationError(error.detail)
        } catch let error as ConfigurationError {
            throw error
        } catch {
            throw ConfigurationError("\(error)")
        }
        return ConfigObject(objectClass: ObjectClass.numeric, handle: handle, attributes: attributes)
    }

    static func entry(
        _ id: UInt16, _ specialization: String, _ summary: String, _ objects: [ConfigObject]
    ) throws(ConfigurationError) -> Entry {
        Entry(id: id, specialization: specialization, summary: summary,
              configuration: try Configuration(report: ConfigReport(configReportId: id, objects: objects)))
    }

    // MARK: - The table

    static let definitions: [@Sendable () throws -> Entry] = [
        {
            try entry(0x0190, "IEEE 11073-10404 pulse oximeter", "spot check: SpO2 and pulse rate with time stamps", [
                try numeric(handle: 1, metric: "MDC_PULS_OXIM_SAT_O2", unit: "MDC_DIM_PERCENT", spec: episodicSpec, map: [basic, absoluteTimeStamp]),
                try numeric(handle: 10, metric: "MDC_PULS_OXIM_PULS_RATE", unit: "MDC_DIM_BEAT_PER_MIN", spec: episodicSpec, map: [basic, absoluteTimeStamp]),
            ])
        },
        {
            try entry(0x0191, "IEEE 11073-10404 pulse oximeter", "continuous: SpO2 and pulse rate without time stamps", [
                try numeric(handle: 1, metric: "MDC_PULS_OXIM_SAT_O2", unit: "MDC_DIM_PERCENT", spec: continuousSpec, map: [basic]),
                try numeric(handle: 10, metric: "MDC_PULS_OXIM_PULS_RATE", unit: "MDC_DIM_BEAT_PER_MIN", spec: continuousSpec, map: [basic]),
            ])
        },
        {
            try entry(0x02BC, "IEEE 11073-10407 blood pressure monitor", "systolic/diastolic/mean compound and pulse rate", [
                try numeric(handle: 1, metric: "MDC_PRESS_BLD_NONINV", unit: "MDC_DIM_MMHG", spec: episodicSpec, map: [compoundBasic3, absoluteTimeStamp], compound: true),
                try numeric(handle: 2, metric: "MDC_PULS_RATE_NON_INV", unit: "MDC_DIM_BEAT_PER_MIN", spec: episodicSpec, map: [basic, absoluteTimeStamp]),
            ])
        },
        {
            try entry(0x0320, "IEEE 11073-10408 thermometer", "body temperature", [
                try numeric(handle: 1, metric: "MDC_TEMP_BODY", unit: "MDC_DIM_DEGC", spec: episodicSpec, map: [basic, absoluteTimeStamp]),
            ])
        },
        {
            try entry(0x05DC, "IEEE 11073-10415 weighing scale", "body weight, body height, BMI", [
                try numeric(handle: 1, metric: "MDC_MASS_BODY_ACTUAL", unit: "MDC_DIM_KILO_G", spec: episodicSpec, map: [simple, absoluteTimeStamp]),
                try numeric(handle: 2, metric: "MDC_LEN_BODY_ACTUAL", unit: "MDC_DIM_CENTI_M", spec: episodicSpec, map: [simple, absoluteTimeStamp]),
                try numeric(handle: 3, metric: "MDC_RATIO_MASS_BODY_LEN_SQ", unit: "MDC_DIM_KG_PER_M_SQ", spec: episodicSpec, map: [simple, absoluteTimeStamp]),
            ])
        },
        {
            try entry(0x06A4, "IEEE 11073-10417 glucose meter", "capillary whole blood glucose, mg/dL", [
                try numeric(handle: 1, metric: "MDC_CONC_GLU_CAPILLARY_WHOLEBLOOD", unit: "MDC_DIM_MILLI_G_PER_DL", spec: episodicSpec, map: [basic, absoluteTimeStamp]),
            ])
        },
        {
            try entry(0x06A5, "IEEE 11073-10417 glucose meter", "capillary whole blood glucose, mmol/L", [
                try numeric(handle: 1, metric: "MDC_CONC_GLU_CAPILLARY_WHOLEBLOOD", unit: "MDC_DIM_MILLI_MOLE_PER_L", spec: episodicSpec, map: [basic, absoluteTimeStamp]),
            ])
        },
    ]
}
