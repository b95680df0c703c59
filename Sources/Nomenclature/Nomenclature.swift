/// IEEE 11073-10101 (MDC) terms for the common vitals, with their LOINC codes and UCUM units.
///
/// This is the one code table of the project: the FHIR normalizer and the 11073 manager both read it.
/// The entries mirror `shared/testdata/vitals-codes.json` (checked by a test), plus the few terms
/// the 11073 specializations need beyond the vital-signs profile (BMI, height, body fat).
public enum Nomenclature {
    public static let mdcSystem = "urn:iso:std:iso:11073:10101"
    public static let loincSystem = "http://loinc.org"
    public static let ucumSystem = "http://unitsofmeasure.org"
    public static let categorySystem = "http://terminology.hl7.org/CodeSystem/observation-category"
    public static let vitalSignsCategory = "vital-signs"

    /// MDC partition 2: SCADA (metrics). Partition 4: dimensions (units).
    public static let scadaPartition: UInt16 = 2
    public static let dimensionPartition: UInt16 = 4

    public static let metrics: [MetricTerm] = [
        MetricTerm("MDC_PULS_OXIM_SAT_O2", term: 19384, loinc: "2708-6", display: "Oxygen saturation in Arterial blood by Pulse oximetry", unit: "%"),
        MetricTerm("MDC_PULS_OXIM_PULS_RATE", term: 18458, loinc: "8867-4", display: "Heart rate", unit: "/min"),
        MetricTerm("MDC_PULS_RATE_NON_INV", term: 18474, loinc: "8867-4", display: "Heart rate", unit: "/min"),
        MetricTerm("MDC_ECG_HEART_RATE", term: 16770, loinc: "8867-4", display: "Heart rate", unit: "/min"),
        MetricTerm("MDC_PRESS_BLD_NONINV", term: 18948, loinc: "85354-9", display: "Blood pressure panel", unit: "mm[Hg]", components: [
            ComponentTerm("MDC_PRESS_BLD_NONINV_SYS", role: .systolic, term: 18949, loinc: "8480-6", display: "Systolic blood pressure"),
            ComponentTerm("MDC_PRESS_BLD_NONINV_DIA", role: .diastolic, term: 18950, loinc: "8462-4", display: "Diastolic blood pressure"),
            ComponentTerm("MDC_PRESS_BLD_NONINV_MEAN", role: .mean, term: 18951, loinc: nil, display: "Mean blood pressure"),
        ]),
        MetricTerm("MDC_TEMP_BODY", term: 19292, loinc: "8310-5", display: "Body temperature", unit: "Cel"),
        MetricTerm("MDC_RESP_RATE", term: 20490, loinc: "9279-1", display: "Respiratory rate", unit: "/min"),
        MetricTerm("MDC_MASS_BODY_ACTUAL", term: 57664, loinc: "29463-7", display: "Body weight", unit: "kg"),
        MetricTerm("MDC_CONC_GLU_CAPILLARY_WHOLEBLOOD", term: 29112, loinc: nil, display: "Glucose in capillary whole blood", unit: "mg/dL"),
        // Beyond the vital-signs table: reported by 10415 weighing scales.
        MetricTerm("MDC_RATIO_MASS_BODY_LEN_SQ", term: 57680, loinc: "39156-5", display: "Body mass index (BMI)", unit: "kg/m2"),
        MetricTerm("MDC_LEN_BODY_ACTUAL", term: 57668, loinc: "8302-2", display: "Body height", unit: "cm"),
        MetricTerm("MDC_BODY_FAT", term: 57676, loinc: "41982-0", display: "Percentage of body fat Measured", unit: "%"),
    ]

    public static let units: [UnitTerm] = [
        UnitTerm("MDC_DIM_PERCENT", term: 544, ucum: "%"),
        UnitTerm("MDC_DIM_BEAT_PER_MIN", term: 2720, ucum: "/min"),
        UnitTerm("MDC_DIM_RESP_PER_MIN", term: 2784, ucum: "/min"),
        UnitTerm("MDC_DIM_MMHG", term: 3872, ucum: "mm[Hg]"),
        UnitTerm("MDC_DIM_KILO_PASCAL", term: 3843, ucum: "kPa"),
        UnitTerm("MDC_DIM_DEGC", term: 6048, ucum: "Cel"),
        UnitTerm("MDC_DIM_FAHR", term: 4416, ucum: "[degF]"),
        UnitTerm("MDC_DIM_KILO_G", term: 1731, ucum: "kg"),
        UnitTerm("MDC_DIM_LB", term: 1760, ucum: "[lb_av]"),
        UnitTerm("MDC_DIM_MILLI_G_PER_DL", term: 2130, ucum: "mg/dL"),
        UnitTerm("MDC_DIM_MILLI_MOLE_PER_L", term: 4722, ucum: "mmol/L"),
        UnitTerm("MDC_DIM_KG_PER_M_SQ", term: 1952, ucum: "kg/m2"),
        UnitTerm("MDC_DIM_CENTI_M", term: 1297, ucum: "cm"),
        UnitTerm("MDC_DIM_INCH", term: 1376, ucum: "[in_i]"),
    ]

    private static let metricsByReference = Dictionary(uniqueKeysWithValues: metrics.map { ($0.reference, $0) })
    private static let metricsByCode = Dictionary(uniqueKeysWithValues: metrics.map { ($0.code, $0) })
    private static let componentsByCode: [UInt32: (MetricTerm, ComponentTerm)] = Dictionary(
        uniqueKeysWithValues: metrics.flatMap { metric in metric.components.map { ($0.code, (metric, $0)) } })
    private static let unitsByTerm = Dictionary(uniqueKeysWithValues: units.map { ($0.term, $0) })

    /// Looks up a metric by its reference id (`MDC_TEMP_BODY`) or its decimal 32-bit code (`150364`).
    public static func metric(named nameOrCode: String) -> MetricTerm? {
        if let code = UInt32(nameOrCode) { return metricsByCode[code] }
        return metricsByReference[nameOrCode]
    }

    public static func metric(code: UInt32) -> MetricTerm? { metricsByCode[code] }

    /// A metric by its 16-bit term code in the SCADA partition, as 11073 agents send it.
    public static func metric(term: UInt16) -> MetricTerm? {
        metricsByCode[combinedCode(partition: scadaPartition, term: term)]
    }

    /// The panel and component that a component code (for example systolic, 150021) belongs to.
    public static func component(code: UInt32) -> (panel: MetricTerm, component: ComponentTerm)? {
        componentsByCode[code].map { (panel: $0.0, component: $0.1) }
    }

    public static func unit(term: UInt16) -> UnitTerm? { unitsByTerm[term] }

    public static func combinedCode(partition: UInt16, term: UInt16) -> UInt32 {
        UInt32(partition) << 16 | UInt32(term)
    }
}

public struct MetricTerm: Sendable, Hashable {
    public let reference: String
    public let partition: UInt16
    public let term: UInt16
    public let loinc: String?
    public let display: String
    /// The canonical UCUM unit an Observation of this metric carries.
    public let canonicalUnit: String
    public let components: [ComponentTerm]

    public var code: UInt32 { Nomenclature.combinedCode(partition: partition, term: term) }
    public var isPanel: Bool { !components.isEmpty }

    init(_ reference: String, term: UInt16, loinc: String?, display: String, unit: String, components: [ComponentTerm] = []) {
        self.reference = reference
        self.partition = Nomenclature.scadaPartition
        self.term = term
        self.loinc = loinc
        self.display = display
        self.canonicalUnit = unit
        self.components = components
    }

    public func component(_ role: ComponentRole) -> ComponentTerm? {
        components.first { $0.role == role }
    }
}

public enum ComponentRole: String, Sendable, Hashable, CaseIterable {
    case systolic, diastolic, mean
}

public struct ComponentTerm: Sendable, Hashable {
    public let reference: String
    public let role: ComponentRole
    public let term: UInt16
    public let loinc: String?
    public let display: String

    public var code: UInt32 { Nomenclature.combinedCode(partition: Nomenclature.scadaPartition, term: term) }

    init(_ reference: String, role: ComponentRole, term: UInt16, loinc: String?, display: String) {
        self.reference = reference
        self.role = role
        self.term = term
        self.loinc = loinc
        self.display = display
    }
}

public struct UnitTerm: Sendable, Hashable {
    public let reference: String
    public let term: UInt16
    public let ucum: String

    public var code: UInt32 { Nomenclature.combinedCode(partition: Nomenclature.dimensionPartition, term: term) }

    init(_ reference: String, term: UInt16, ucum: String) {
        self.reference = reference
        self.term = term
        self.ucum = ucum
    }
}
