/// AVA-Type: an attribute id and its MDER-encoded value.
public struct AttributeValue: Sendable, Hashable {
    public let id: UInt16
    public let value: [UInt8]

    public init(id: UInt16, value: [UInt8]) {
        self.id = id
        self.value = value
    }

    static func decode(_ reader: inout MDERReader, _ field: String) throws(DecodeError) -> AttributeValue {
        let id = try reader.u16("\(field).attribute-id")
        let value = try reader.octetString("\(field).attribute-value")
        return AttributeValue(id: id, value: value)
    }

    func encode(_ writer: inout MDERWriter) throws(EncodeError) {
        writer.u16(id)
        try writer.octetString(value, "attribute \(id) value")
    }

    /// AttributeList: count, length, AVA-Type...
    static func decodeList(_ reader: inout MDERReader, _ field: String) throws(DecodeError) -> [AttributeValue] {
        try reader.list(field, minimumElementSize: 4) { (element: inout MDERReader, index: Int) throws(DecodeError) in
            try AttributeValue.decode(&element, "[\(index)]")
        }
    }

    static func encodeList(_ attributes: [AttributeValue], _ writer: inout MDERWriter) throws(EncodeError) {
        try writer.list(attributes, "attribute list") { (inner: inout MDERWriter, attribute: AttributeValue) throws(EncodeError) in
            try attribute.encode(&inner)
        }
    }
}

extension Array where Element == AttributeValue {
    /// The first attribute with this id.
    public func value(of id: UInt16) -> [UInt8]? { first { $0.id == id }?.value }
}
