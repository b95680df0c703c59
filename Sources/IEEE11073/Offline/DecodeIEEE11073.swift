/// Entry point for `wardgate decode --format ieee11073-20601 [--config-id HEX] --hex APDU [--hex APDU ...]`.
///
/// Feeds the APDUs, in order, to one manager session as if one device sent them, and returns one
/// event per APDU: the manager's responses, the Readings, or the reason the APDU was refused. The
/// caller prints them (FHIR JSON for the Readings). AbsoluteTime carries no UTC offset, so
/// `utcOffsetSeconds` is the offset assumed for device times.
public func decodeIEEE11073(
    hexAPDUs: [String], configId: UInt16?, utcOffsetSeconds: Int, systemIdHex: String? = nil
) -> [OfflineDecodeEvent] {
    var apdus: [[UInt8]] = []
    for (index, text) in hexAPDUs.enumerated() {
        guard let bytes = MDERHex.bytes(text), !bytes.isEmpty else {
            // Bad hex anywhere: report it where it is and decode nothing, so the order stays honest.
            return hexAPDUs.enumerated().map { position, other in
                OfflineDecoder.refused(position, MDERHex.bytes(other) ?? [],
                    position == index ? "--hex \(index + 1) is not an even number of hex digits" : "not decoded: --hex \(index + 1) is not valid hex")
            }
        }
        apdus.append(bytes)
    }
    var systemId: SystemId?
    if let systemIdHex {
        guard let parsed = SystemId(hex: systemIdHex) else {
            return apdus.enumerated().map { OfflineDecoder.refused($0, $1, "system id \(systemIdHex) is not 8 bytes of hex") }
        }
        systemId = parsed
    }
    return OfflineDecoder.decode(apdus: apdus, configId: configId, offsetRule: .fixed(seconds: utcOffsetSeconds), systemId: systemId)
}

/// Parses a `--config-id` argument: `0x0190`, `0190` or `190` (hex).
public func parseIEEE11073ConfigId(_ text: String) -> UInt16? {
    var digits = Substring(text)
    if digits.hasPrefix("0x") || digits.hasPrefix("0X") { digits = digits.dropFirst(2) }
    guard !digits.isEmpty, digits.allSatisfy({ $0.isASCII && $0.isHexDigit }) else { return nil }
    return UInt16(digits, radix: 16)
}
