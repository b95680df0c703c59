/// Rules for device and gateway identifiers.
///
/// Identifiers become file names in the keystore, the certificate's CN and a URN, so the charset
/// is restricted to what is safe in all three: ASCII letters, digits, `.`, `_`, `-`, starting with
/// a letter or digit (which also excludes `.` and `..`), at most 64 characters (the X.520 upper
/// bound for a common name).
public enum SubjectIdentifier {
    public static let maximumLength = 64

    public static func validate(_ id: String) throws(IdentityError) {
        let bytes = Array(id.utf8)
        guard !bytes.isEmpty else { throw .invalidIdentifier(id, reason: "it is empty") }
        guard bytes.count <= maximumLength else {
            throw .invalidIdentifier(id, reason: "longer than \(maximumLength) characters")
        }
        if bytes.contains(UInt8(ascii: "/")) || bytes.contains(UInt8(ascii: "\\")) {
            throw .invalidIdentifier(id, reason: "path separators are not allowed")
        }
        guard isAlphanumeric(bytes[0]) else {
            throw .invalidIdentifier(id, reason: "it must start with a letter or digit")
        }
        for byte in bytes where !(isAlphanumeric(byte) || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "-")) {
            throw .invalidIdentifier(id, reason: "only letters, digits, '.', '_' and '-' are allowed")
        }
    }

    public static func isValid(_ id: String) -> Bool {
        do {
            try validate(id)
            return true
        } catch {
            return false
        }
    }

    private static func isAlphanumeric(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
            || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
    }
}
