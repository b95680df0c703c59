/// MDS attributes from a GET response: who the device is and what its clock says.
public struct MDSAttributes: Sendable, Hashable {
    public var manufacturer: String?
    public var model: String?
    public var systemId: SystemId?
    public var devConfigId: UInt16?
    public var absoluteTime: AbsoluteTime?
    /// System-Type-Spec-List: (specialization code, version).
    public var specializations: [Specialization] = []
    /// Production-Specification entries: (spec-type, component-id, text).
    public var productionSpecs: [ProductionSpec] = []

    public struct Specialization: Sendable, Hashable {
        public let type: UInt16
        public let version: UInt16

        public init(type: UInt16, version: UInt16) {
            self.type = type
            self.version = version
        }
    }

    public struct ProductionSpec: Sendable, Hashable {
        public let specType: UInt16
        public let componentId: UInt16
        public let value: String
    }

    public init() {}

    /// The attribute ids this type reads; the others are skipped.
    static let knownIds: Set<UInt16> = [
        AttributeId.idModel, AttributeId.systemId, AttributeId.devConfigId, AttributeId.timeAbsolute,
        AttributeId.systemTypeSpecList, AttributeId.idProductionSpec,
    ]

    /// Reads the attributes it knows; each known attribute must decode exactly.
    public init(attributes: [AttributeValue]) throws(DecodeError) {
        for attribute in attributes {
            var reader = MDERReader(attribute.value, path: "MDS attribute \(attribute.id)")
            switch attribute.id {
            case AttributeId.idModel:
                manufacturer = Self.text(try reader.octetString("manufacturer"))
                model = Self.text(try reader.octetString("model-number"))
            case AttributeId.systemId:
                let raw = try reader.octetString("System-Id")
                guard let id = SystemId(raw) else {
                    throw reader.error(.invalidValue, "System-Id", "\(raw.count) bytes, an EUI-64 has 8")
                }
                systemId = id
            case AttributeId.devConfigId:
                devConfigId = try reader.u16("Dev-Configuration-Id")
            case AttributeId.timeAbsolute:
                let raw = try reader.bytes(8, "Date-and-Time")
                do { absoluteTime = try AbsoluteTime(bcd: raw) } catch {
                    throw reader.error(.invalidValue, "Date-and-Time", error.description)
                }
            case AttributeId.systemTypeSpecList:
                specializations = try reader.list("TypeVerList", minimumElementSize: 4) {
                    (element: inout MDERReader, index: Int) throws(DecodeError) in
                    Specialization(type: try element.u16("[\(index)].type"), version: try element.u16("[\(index)].version"))
                }
            case AttributeId.idProductionSpec:
                productionSpecs = try reader.list("ProductionSpec", minimumElementSize: 6) {
                    (element: inout MDERReader, index: Int) throws(DecodeError) in
                    ProductionSpec(
                        specType: try element.u16("[\(index)].spec-type"),
                        componentId: try element.u16("[\(index)].component-id"),
                        value: Self.text(try element.octetString("[\(index)].prod-spec")))
                }
            default:
                continue
            }
            try reader.finish("value")
        }
    }

    /// Octet strings are padded to even length with NUL: drop the padding.
    static func text(_ bytes: [UInt8]) -> String {
        var trimmed = bytes[...]
        while trimmed.last == 0 { trimmed = trimmed.dropLast() }
        return String(decoding: trimmed, as: UTF8.self)
    }
}
