/// The agent's System-Id: an IEEE EUI-64, eight bytes.
public struct SystemId: Sendable, Hashable, CustomStringConvertible {
    public let bytes: [UInt8]

    /// Nil unless exactly eight bytes: 20601 agents identify themselves with an EUI-64.
    public init?(_ bytes: [UInt8]) {
        guard bytes.count == 8 else { return nil }
        self.bytes = bytes
    }

    /// The EUI-64 as a big-endian integer.
    public init(_ value: UInt64) {
        self.bytes = (0..<8).map { UInt8(truncatingIfNeeded: value >> (56 - 8 * $0)) }
    }

    public init?(hex: String) {
        guard let bytes = MDERHex.bytes(hex) else { return nil }
        self.init(bytes)
    }

    /// `8877665544332211`
    public var hex: String { MDERHex.string(bytes) }

    /// The HL7 PHD IG form for Device.identifier.value: upper-case hex pairs joined by dashes,
    /// `88-77-66-55-44-33-22-11`.
    public var deviceIdentifierValue: String {
        bytes.map { byte in
            let text = String(byte, radix: 16, uppercase: true)
            return text.count == 1 ? "0" + text : text
        }.joined(separator: "-")
    }

    public var description: String { deviceIdentifierValue }
}

/// How the PHD IG (HL7 FHIR Personal Health Device Implementation Guide) identifies a device.
public enum PHDDeviceIdentifier {
    /// Device.identifier.system for the IEEE 11073 System-Id (EUI-64).
    public static let system = "urn:oid:1.2.840.10004.1.1.1.0.0.1.0.0.1.2680"
    /// Device.identifier.type coding: system and code.
    public static let typeSystem = "http://terminology.hl7.org/CodeSystem/ContinuaDeviceIdentifiers"
    public static let typeCode = "SYSID"
    public static let typeDisplay = "IEEE 11073 System Identifier"

    /// Device.identifier.value, which is also the `Reading.deviceId` this module writes.
    public static func value(for systemId: SystemId) -> String { systemId.deviceIdentifierValue }
}
