import Foundation
import IEEE11073
import Testing

/// The shared test vectors, found by walking up from this file to `<dir>/shared/testdata`.
enum Vectors {
    struct Vector {
        let name: String
        let bytes: [UInt8]
        let hex: String
        let expect: [String: Any]
        let standardConfig: String?
    }

    static let directory: URL? = {
        var directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        for _ in 0..<16 {
            let candidate = directory.appendingPathComponent("shared/testdata")
            if FileManager.default.fileExists(atPath: candidate.path) { return candidate }
            directory.deleteLastPathComponent()
        }
        return nil
    }()

    static var root: [String: Any] {
        guard let directory,
              let data = try? Data(contentsOf: directory.appendingPathComponent("ieee11073-apdus.json")),
              let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return [:] }
        return object
    }

    static var all: [Vector] {
        guard let vectors = root["vectors"] as? [[String: Any]] else { return [] }
        return vectors.compactMap { entry in
            guard let name = entry["name"] as? String, let hex = entry["hex"] as? String,
                  let bytes = MDERHex.bytes(hex) else { return nil }
            return Vector(name: name, bytes: bytes, hex: hex, expect: entry["expect"] as? [String: Any] ?? [:],
                          standardConfig: entry["standardConfig"] as? String)
        }
    }

    static func named(_ name: String) throws -> Vector {
        try #require(all.first { $0.name == name }, "vector \(name) missing from ieee11073-apdus.json")
    }

    static var floats: [String: Any] { root["floats"] as? [String: Any] ?? [:] }
}

/// Reads "0x4321" or "0x4000 (extended ...)" or "3 (accepted-unknown-config)" as a number.
func leadingNumber(_ text: String?) -> Int? {
    guard let text else { return nil }
    let token = text.split(separator: " ").first.map(String.init) ?? text
    if token.hasPrefix("0x") { return Int(token.dropFirst(2), radix: 16) }
    return Int(token)
}

let managerId = SystemId(0x1122_3344_5566_7788)
let testSettings = ManagerSettings(managerSystemId: managerId, offsetRule: .utc)

func operatingSession(_ configId: UInt16, settings: ManagerSettings = testSettings) throws -> ManagerSession {
    let configuration = try #require(StandardConfigurations.configuration(id: configId))
    return ManagerSession.preset(operatingWith: configuration, systemId: SystemId(0x0022_0922_5808_03CC), settings: settings)
}

func encoded(_ apdu: APDU) throws -> [UInt8] { try apdu.encode() }

extension DecodedObservation {
    var decimalText: String? {
        if case .numeric(let number) = value { return number.decimal?.text }
        return nil
    }

    var componentTexts: [String] {
        if case .compound(let components) = value { return components.map { $0.value.decimal?.text ?? $0.value.description } }
        return []
    }
}
