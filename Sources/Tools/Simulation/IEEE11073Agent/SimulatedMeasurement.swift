import Foundation
import IEEE11073
import Nomenclature
import Observations

/// One simulated measurement: the APDU the agent sends and the Readings a correct manager must produce.
public struct SimulatedMeasurement: Sendable {
    public let invokeId: UInt16
    public let apdu: [UInt8]
    public let expectedReadings: [Reading]
}

/// Realistic values for each specialization, drawn from a seeded generator.
enum MeasurementGenerator {
    struct Value {
        let handle: UInt16
        let metric: String
        let unit: String
        /// One number, or the systolic/diastolic/mean components.
        let numbers: [MDERNumber]
    }

    static func values(for specialization: AgentSpecialization, using random: inout SeededGenerator) -> [Value] {
        func int(_ range: ClosedRange<Int32>) -> Int32 { Int32.random(in: range, using: &random) }
        switch specialization {
        case .pulseOximeter:
            return [
                Value(handle: 1, metric: "MDC_PULS_OXIM_SAT_O2", unit: "MDC_DIM_PERCENT", numbers: [.finite(mantissa: int(93...99), exponent: 0)]),
                Value(handle: 10, metric: "MDC_PULS_OXIM_PULS_RATE", unit: "MDC_DIM_BEAT_PER_MIN", numbers: [.finite(mantissa: int(55...98), exponent: 0)]),
            ]
        case .bloodPressure:
            let systolic = int(105...145), diastolic = int(62...92)
            let mean = (systolic + 2 * diastolic + 1) / 3
            return [
                Value(handle: 1, metric: "MDC_PRESS_BLD_NONINV", unit: "MDC_DIM_MMHG", numbers: [
                    .finite(mantissa: systolic, exponent: 0), .finite(mantissa: diastolic, exponent: 0), .finite(mantissa: mean, exponent: 0),
                ]),
                Value(handle: 2, metric: "MDC_PULS_RATE_NON_INV", unit: "MDC_DIM_BEAT_PER_MIN", numbers: [.finite(mantissa: int(55...98), exponent: 0)]),
            ]
        case .weighingScaleExtended:
            let weight = int(520...1150)  // 52.0-115.0 kg
            let bmi = int(185...340)      // 18.5-34.0 kg/m2
            return [
                Value(handle: 1, metric: "MDC_MASS_BODY_ACTUAL", unit: "MDC_DIM_KILO_G", numbers: [.finite(mantissa: weight, exponent: -1)]),
                Value(handle: 2, metric: "MDC_RATIO_MASS_BODY_LEN_SQ", unit: "MDC_DIM_KG_PER_M_SQ", numbers: [.finite(mantissa: bmi, exponent: -1)]),
            ]
        }
    }

    /// obs-val-data for one object, following its Attribute-Value-Map.
    static func fixedData(_ value: Value, object: ConfiguredObject, time: AbsoluteTime) throws(EncodeError) -> [UInt8] {
        guard let map = object.attributeValueMap else { throw EncodeError("handle \(object.handle) has no Attribute-Value-Map") }
        var writer = MDERWriter()
        for entry in map {
            switch entry.attributeId {
            case AttributeId.nuObservedValueBasic:
                guard let number = value.numbers.first else { throw EncodeError("no value") }
                writer.u16(try SFloat.encode(number))
            case AttributeId.nuObservedValueSimple:
                guard let number = value.numbers.first else { throw EncodeError("no value") }
                writer.u32(try MDERFloat.encode(number))
            case AttributeId.nuCompoundObservedValueBasic:
                var components: [UInt16] = []
                for number in value.numbers { components.append(try SFloat.encode(number)) }
                try writer.list(components, "BasicNuObsValueCmp") { (inner: inout MDERWriter, raw: UInt16) throws(EncodeError) in inner.u16(raw) }
            case AttributeId.timeStampAbsolute:
                writer.raw(time.bcd)
            default:
                throw EncodeError("the simulator cannot write attribute \(entry.attributeId)")
            }
        }
        let expected = map.reduce(0) { $0 + Int($1.length) }
        guard writer.bytes.count == expected else {
            throw EncodeError("handle \(object.handle): wrote \(writer.bytes.count) bytes, the Attribute-Value-Map says \(expected)")
        }
        return writer.bytes
    }

    /// The Readings a manager must derive, built from the Nomenclature directly.
    static func expectedReading(_ value: Value, deviceId: String, time: DeviceTime) -> Reading? {
        guard let metric = Nomenclature.metric(named: value.metric),
              let ucum = Nomenclature.units.first(where: { $0.reference == value.unit })?.ucum else { return nil }
        let measured = value.numbers.map { $0.measuredValue(unit: ucum) }
        if metric.isPanel {
            let roles: [ComponentRole] = [.systolic, .diastolic, .mean]
            return Reading(deviceId: deviceId, metric: metric,
                           value: .panel(Dictionary(uniqueKeysWithValues: zip(roles, measured))), deviceTime: time)
        }
        guard let only = measured.first else { return nil }
        return Reading(deviceId: deviceId, metric: metric, value: .single(only), deviceTime: time)
    }
}
