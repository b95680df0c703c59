/// Big-endian MDER writer. Length fields are computed from the content, never supplied by hand.
public struct MDERWriter: Sendable {
    public private(set) var bytes: [UInt8] = []

    public init() {}

    public mutating func u8(_ value: UInt8) { bytes.append(value) }

    public mutating func u16(_ value: UInt16) {
        bytes.append(UInt8(value >> 8))
        bytes.append(UInt8(value & 0xFF))
    }

    public mutating func u32(_ value: UInt32) {
        bytes.append(UInt8(value >> 24))
        bytes.append(UInt8((value >> 16) & 0xFF))
        bytes.append(UInt8((value >> 8) & 0xFF))
        bytes.append(UInt8(value & 0xFF))
    }

    public mutating func raw(_ data: [UInt8]) { bytes.append(contentsOf: data) }

    static func length16(_ count: Int, _ what: String) throws(EncodeError) -> UInt16 {
        guard let length = UInt16(exactly: count) else {
            throw EncodeError("\(what) is \(count) bytes; MDER lengths stop at 65535")
        }
        return length
    }

    /// OCTET STRING: 16-bit length then the bytes.
    public mutating func octetString(_ data: [UInt8], _ what: String = "octet string") throws(EncodeError) {
        u16(try Self.length16(data.count, what))
        raw(data)
    }

    /// Writes a 16-bit length followed by whatever `body` writes.
    public mutating func lengthPrefixed(
        _ what: String, _ body: (inout MDERWriter) throws(EncodeError) -> Void
    ) throws(EncodeError) {
        var inner = MDERWriter()
        try body(&inner)
        try octetString(inner.bytes, what)
    }

    /// MDER list: count, byte length, then the elements.
    public mutating func list<Element>(
        _ elements: [Element], _ what: String,
        _ body: (inout MDERWriter, Element) throws(EncodeError) -> Void
    ) throws(EncodeError) {
        u16(try Self.length16(elements.count, "\(what) count"))
        var inner = MDERWriter()
        for element in elements { try body(&inner, element) }
        try octetString(inner.bytes, what)
    }
}
