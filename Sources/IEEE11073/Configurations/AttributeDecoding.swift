/// TYPE: a nomenclature partition and a term code.
public struct MetricType: Sendable, Hashable, CustomStringConvertible {
    public let partition: UInt16
    public let code: UInt16

    public init(partition: UInt16, code: UInt16) {
        self.partition = partition
        self.code = code
    }

    public var description: String { "(\(partition), 0x\(hex16(code)))" }
}

/// One entry of an Attribute-Value-Map: which attribute comes next in fixed-format data, and its size.
public struct AttributeValueMapEntry: Sendable, Hashable {
    public let attributeId: UInt16
    public let length: UInt16

    public init(attributeId: UInt16, length: UInt16) {
        self.attributeId = attributeId
        self.length = length
    }
}

/// MetricStructureSmall: simple (0) or compound structure and component count.
public struct MetricStructure: Sendable, Hashable {
    public let structure: UInt8
    public let componentCount: UInt8

    public init(structure: UInt8, componentCount: UInt8) {
        self.structure = structure
        self.componentCount = componentCount
    }

    public var isCompound: Bool { structure != 0 }
}

/// Strict decoders for the attribute values the manager interprets. Each consumes the whole value.
enum AttributeDecoding {
    static func reader(_ value: [UInt8], _ field: String) -> MDERReader { MDERReader(value, path: field) }

    static func type(_ value: [UInt8]) throws(DecodeError) -> MetricType {
        var r = reader(value, "Type")
        let result = MetricType(partition: try r.u16("partition"), code: try r.u16("code"))
        try r.finish("Type")
        return result
    }

    static func u16(_ value: [UInt8], _ field: String) throws(DecodeError) -> UInt16 {
        var r = reader(value, field)
        let result = try r.u16("value")
        try r.finish(field)
        return result
    }

    static func u32(_ value: [UInt8], _ field: String) throws(DecodeError) -> UInt32 {
        var r = reader(value, field)
        let result = try r.u32("value")
        try r.finish(field)
        return result
    }

    static func attributeValueMap(_ value: [UInt8]) throws(DecodeError) -> [AttributeValueMapEntry] {
        var r = reader(value, "Attribute-Value-Map")
        let result = try attributeValueMap(&r, "entries")
        try r.finish("Attribute-Value-Map")
        return result
    }

    static func attributeValueMap(_ r: inout MDERReader, _ field: String) throws(DecodeError) -> [AttributeValueMapEntry] {
        try r.list(field, minimumElementSize: 4) { (element: inout MDERReader, index: Int) throws(DecodeError) in
            AttributeValueMapEntry(
                attributeId: try element.u16("[\(index)].attribute-id"),
                length: try element.u16("[\(index)].attribute-len"))
        }
    }

    /// HandleAttrValMap of a scanner: per handle, the layout of grouped data.
    static func handleAttributeValueMap(_ value: [UInt8]) throws(DecodeError) -> [(handle: UInt16, map: [AttributeValueMapEntry])] {
        var r = reader(value, "Scan-Handle-Attr-Val-Map")
        let result = try r.list("entries", minimumElementSize: 6) { (element: inout MDERReader, index: Int) throws(DecodeError) in
            (handle: try element.u16("[\(index)].obj-handle"),
             map: try attributeValueMap(&element, "[\(index)].attr-val-map"))
        }
        try r.finish("Scan-Handle-Attr-Val-Map")
        return result
    }

    static func metricStructure(_ value: [UInt8]) throws(DecodeError) -> MetricStructure {
        var r = reader(value, "Metric-Structure-Small")
        let result = MetricStructure(structure: try r.u8("ms-struct"), componentCount: try r.u8("ms-comp-no"))
        try r.finish("Metric-Structure-Small")
        return result
    }

    static func u16List(_ value: [UInt8], _ field: String) throws(DecodeError) -> [UInt16] {
        var r = reader(value, field)
        let result = try r.list("entries", minimumElementSize: 2) { (element: inout MDERReader, index: Int) throws(DecodeError) in
            try element.u16("[\(index)]")
        }
        try r.finish(field)
        return result
    }
}

/// Encoders for the same attributes, used by the standard configuration table and the agent.
package enum AttributeEncoding {
    static func type(_ type: MetricType) -> AttributeValue {
        var w = MDERWriter()
        w.u16(type.partition)
        w.u16(type.code)
        return AttributeValue(id: AttributeId.idType, value: w.bytes)
    }

    package static func u16(_ id: UInt16, _ value: UInt16) -> AttributeValue {
        var w = MDERWriter()
        w.u16(value)
        return AttributeValue(id: id, value: w.bytes)
    }

    static func attributeValueMap(_ entries: [AttributeValueMapEntry]) throws(EncodeError) -> AttributeValue {
        var w = MDERWriter()
        try w.list(entries, "Attribute-Value-Map") { (inner: inout MDERWriter, entry: AttributeValueMapEntry) throws(EncodeError) in
            inner.u16(entry.attributeId)
            inner.u16(entry.length)
        }
        return AttributeValue(id: AttributeId.attributeValueMap, value: w.bytes)
    }

    static func metricStructure(_ structure: MetricStructure) -> AttributeValue {
        AttributeValue(id: AttributeId.metricStructSmall, value: [structure.structure, structure.componentCount])
    }

    static func u16List(_ id: UInt16, _ values: [UInt16]) throws(EncodeError) -> AttributeValue {
        var w = MDERWriter()
        try w.list(values, "id list") { (inner: inout MDERWriter, value: UInt16) throws(EncodeError) in inner.u16(value) }
        return AttributeValue(id: id, value: w.bytes)
    }
}
