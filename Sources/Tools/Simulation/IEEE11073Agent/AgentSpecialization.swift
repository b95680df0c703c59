import IEEE11073
import Nomenclature

/// What a simulated agent is.
public enum AgentSpecialization: String, Sendable, Hashable, CaseIterable {
    /// IEEE 11073-10404, standard configuration 0x0190 (SpO2 and pulse rate, SFLOAT, time stamps).
    case pulseOximeter
    /// IEEE 11073-10407, standard configuration 0x02BC (compound BP and pulse rate).
    case bloodPressure
    /// IEEE 11073-10415 scale with an extended configuration 0x4000 (weight and BMI, FLOAT):
    /// needs the configuration exchange the first time, then re-associates at once.
    case weighingScaleExtended

    public var configId: UInt16 {
        switch self {
        case .pulseOximeter: 0x0190
        case .bloodPressure: 0x02BC
        case .weighingScaleExtended: 0x4000
        }
    }

    /// MDC_DEV_SPEC_PROFILE_* for the System-Type-Spec-List.
    var specializationCode: UInt16 {
        switch self {
        case .pulseOximeter: 4100
        case .bloodPressure: 4103
        case .weighingScaleExtended: 4111
        }
    }

    var modelName: String {
        switch self {
        case .pulseOximeter: "SimOx 400"
        case .bloodPressure: "SimCuff 700"
        case .weighingScaleExtended: "SimScale X"
        }
    }

    /// The configuration the agent uses (and reports when asked to).
    public func configuration() throws(ConfigurationError) -> Configuration {
        switch self {
        case .pulseOximeter, .bloodPressure:
            guard let standard = StandardConfigurations.configuration(id: configId) else {
                throw ConfigurationError("standard configuration 0x\(hex16(configId)) is missing")
            }
            return standard
        case .weighingScaleExtended:
            let map = [StandardConfigurations.simple, StandardConfigurations.absoluteTimeStamp]
            return try Configuration(report: ConfigReport(configReportId: configId, objects: [
                try StandardConfigurations.numeric(handle: 1, metric: "MDC_MASS_BODY_ACTUAL", unit: "MDC_DIM_KILO_G",
                                                   spec: StandardConfigurations.episodicSpec, map: map),
                try StandardConfigurations.numeric(handle: 2, metric: "MDC_RATIO_MASS_BODY_LEN_SQ", unit: "MDC_DIM_KG_PER_M_SQ",
                                                   spec: StandardConfigurations.episodicSpec, map: map),
            ]))
        }
    }
}
