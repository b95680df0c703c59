/// The one rule for a reading's device id, wherever one arrives: from a topic (the profile
/// decoder dead-letters a reading whose topic names another kind of id) or from a staff query
/// (the API answers 400). Device ids end up in FHIR identifiers, SQL parameters and file names,
/// so they stay plain ASCII: no control character, no NUL that a C string would cut off.
public enum DeviceIdentifier {
    public static let maximumLength = 128
    public static let rule = "1–128 letters, digits, '.', '_', ':' or '-', starting with a letter or digit"

    public static func isValid(_ id: String) -> Bool {
        let bytes = id.utf8
        guard let first = bytes.first, bytes.count <= maximumLength, isAlphanumeric(first) else { return false }
        return bytes.allSatisfy { isAlphanumeric($0) || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: ":") || $0 == UInt8(ascii: "-") }
    }

    /// Why `id` is not a device id, in words an operator can act on (control characters named by
    /// code point, never echoed).
    public static func problem(_ id: String) -> String? {
        guard !isValid(id) else { return nil }
        if let control = id.unicodeScalars.first(where: { $0.properties.generalCategory == .control }) {
            return "contains the control character U+\(String(control.value, radix: 16, uppercase: true).leftPadded(to: 4)); a device id is \(rule)"
        }
        if id.utf8.count > maximumLength { return "is longer than \(maximumLength) bytes; a device id is \(rule)" }
        return "is not a valid device id (\(rule))"
    }

    private static func isAlphanumeric(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
            || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
    }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
