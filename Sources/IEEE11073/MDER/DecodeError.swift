/// Why a byte sequence is not a valid MDER encoding, with the field and byte offset where it failed.
///
/// Every decoder in this module reports failures with this type, so a rejected APDU always carries
/// a reason an auditor can read ("event-info: length 104 but 98 bytes remain at offset 14").
public struct DecodeError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Kind: String, Sendable, Hashable {
        /// Fewer bytes than a length, count or fixed-size field needs.
        case truncated
        /// Bytes left over after a structure whose length says it has ended.
        case trailingBytes
        /// A length field disagrees with what its content actually occupies.
        case lengthMismatch
        /// A count field disagrees with the byte length of its list.
        case countMismatch
        /// A field holds a value this structure does not allow (bad tag, bad BCD digit, bad choice).
        case invalidValue
        /// Well-formed but outside what this implementation supports.
        case unsupported
        /// The decoder did more work than the input size allows: a defect guard, never expected.
        case workBudgetExceeded
    }

    public let kind: Kind
    /// The structure path, e.g. `PRST.data.roiv-confirmed-event-report.event-info.obs-scan-fixed[1]`.
    public let field: String
    /// Offset from the start of the APDU where the problem was found.
    public let offset: Int
    public let detail: String

    public init(_ kind: Kind, field: String, offset: Int, detail: String) {
        self.kind = kind
        self.field = field
        self.offset = offset
        self.detail = detail
    }

    public var description: String { "\(kind.rawValue) at \(field) (offset \(offset)): \(detail)" }
}

/// Why a value cannot be encoded (a list or octet string longer than a 16-bit length allows).
public struct EncodeError: Error, Sendable, Hashable, CustomStringConvertible {
    public let detail: String
    public init(_ detail: String) { self.detail = detail }
    public var description: String { detail }
}
