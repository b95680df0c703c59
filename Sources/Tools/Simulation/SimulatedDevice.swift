import Foundation
import JSONDocument

/// A simulated ward device producing plausible, slowly drifting vitals.
public struct SimulatedDevice: Sendable {
    public enum Kind: String, Sendable, CaseIterable {
        /// `generic-wearable-json` profile.
        case wearableJSON = "json"
        /// `senml-vitals` profile.
        case senml
    }

    public let id: String
    public let kind: Kind
    public let ward: String
    /// Publishes temperature in °F instead of °C (JSON wearables only).
    public let fahrenheit: Bool
    private var vitals: Vitals

    public init(id: String, kind: Kind, ward: String = "ward-7b", fahrenheit: Bool = false, seed: UInt64) {
        self.id = id
        self.kind = kind
        self.ward = ward
        self.fahrenheit = fahrenheit
        var generator = SeededGenerator(seed: seed)
        vitals = Vitals.baseline(using: &generator)
        vitals.generator = generator
    }

    public var topic: String {
        switch kind {
        case .wearableJSON: "wards/\(ward)/devices/\(id)/vitals"
        case .senml: "wards/\(ward)/devices/\(id)/senml"
        }
    }

    /// The next payload, measured at `time`. Times must differ between calls (they identify readings).
    public mutating func nextPayload(at time: Date) -> [UInt8] {
        vitals.drift()
        let v = vitals
        let ms = Int64((time.timeIntervalSince1970 * 1000).rounded())
        switch kind {
        case .wearableJSON:
            let temperature: JSONValue = fahrenheit
                ? ["temp_f": .number(String(format: "%.1f", v.temperature * 9 / 5 + 32))]
                : ["temp_c": .number(String(format: "%.1f", v.temperature))]
            var members: [JSONMember] = [
                JSONMember("ts", .integer(ms)),
                JSONMember("hr", .integer(v.heartRate)),
                JSONMember("spo2", .integer(v.spo2)),
                JSONMember("rr", .integer(v.respiration)),
            ]
            members += temperature.objectMembers ?? []
            members.append(JSONMember("bp", ["sys": .integer(v.systolic), "dia": .integer(v.diastolic)]))
            return JSONValue.object(members).serializedBytes
        case .senml:
            let seconds = String(format: "%.3f", Double(ms) / 1000)
            let pack: JSONValue = [
                ["bn": .string("urn:dev:wardgate:\(id):"), "bt": .number(seconds), "n": "heartRate", "u": "beat/min", "v": .integer(v.heartRate)],
                ["n": "spo2", "u": "%", "v": .integer(v.spo2)],
                ["n": "respRate", "u": "breaths/min", "v": .integer(v.respiration)],
                ["n": "temp", "u": "Cel", "v": .number(String(format: "%.1f", v.temperature))],
                ["n": "bpSys", "u": "mm[Hg]", "v": .integer(v.systolic)],
                ["n": "bpDia", "u": "mm[Hg]", "v": .integer(v.diastolic)],
            ]
            return pack.serializedBytes
        }
    }

    /// Readings (Observations) one payload of this device yields.
    public var readingsPerPayload: Int {
        5
    }
}

struct Vitals: Sendable {
    var heartRate: Int
    var spo2: Int
    var respiration: Int
    var temperature: Double
    var systolic: Int
    var diastolic: Int
    var generator: SeededGenerator

    static func baseline(using g: inout SeededGenerator) -> Vitals {
        Vitals(
            heartRate: Int.random(in: 62...92, using: &g), spo2: Int.random(in: 95...99, using: &g),
            respiration: Int.random(in: 12...18, using: &g), temperature: Double.random(in: 36.4...37.3, using: &g),
            systolic: Int.random(in: 108...135, using: &g), diastolic: Int.random(in: 66...86, using: &g),
            generator: g)
    }

    mutating func drift() {
        heartRate = (heartRate + Int.random(in: -2...2, using: &generator)).clamped(48, 130)
        spo2 = (spo2 + Int.random(in: -1...1, using: &generator)).clamped(90, 100)
        respiration = (respiration + Int.random(in: -1...1, using: &generator)).clamped(10, 26)
        temperature = min(39.5, max(35.8, temperature + Double.random(in: -0.05...0.05, using: &generator)))
        systolic = (systolic + Int.random(in: -2...2, using: &generator)).clamped(95, 165)
        diastolic = (diastolic + Int.random(in: -2...2, using: &generator)).clamped(55, 100)
    }
}

extension Int {
    func clamped(_ low: Int, _ high: Int) -> Int { Swift.min(high, Swift.max(low, self)) }
}
