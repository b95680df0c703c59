/// One object of a configuration, with the attributes the manager needs to read its data.
public struct ConfiguredObject: Sendable, Hashable {
    public let handle: UInt16
    public let objectClass: UInt16
    /// MDC_ATTR_ID_TYPE: what the object measures.
    public let type: MetricType?
    /// MDC_ATTR_UNIT_CODE (MDC partition 4 term).
    public let unitCode: UInt16?
    /// MDC_ATTR_ATTRIBUTE_VAL_MAP: layout of fixed-format observation data.
    public let attributeValueMap: [AttributeValueMapEntry]?
    public let metricSpecSmall: UInt16?
    public let metricStructure: MetricStructure?
    /// MDC_ATTR_ID_PHYSIO_LIST: component term codes of a compound value, in value order.
    public let physioList: [UInt16]?
    /// Scanners: MDC_ATTR_SCAN_HANDLE_LIST.
    public let scanHandles: [UInt16]?
    /// Scanners: MDC_ATTR_SCAN_HANDLE_ATTR_VAL_MAP, the layout of grouped reports, in order.
    public let groupedLayout: [GroupedLayoutEntry]?
    /// Every attribute as the agent reported it (or the standard defines it).
    public let attributes: [AttributeValue]

    public var isScanner: Bool {
        [ObjectClass.scanner, ObjectClass.configurableScanner, ObjectClass.episodicScanner, ObjectClass.periodicScanner]
            .contains(objectClass)
    }

    public var isMetric: Bool {
        [ObjectClass.metric, ObjectClass.numeric, ObjectClass.enumeration, ObjectClass.realTimeSampleArray]
            .contains(objectClass)
    }
}

public struct GroupedLayoutEntry: Sendable, Hashable {
    public let handle: UInt16
    public let map: [AttributeValueMapEntry]
}

/// Why a reported configuration cannot be used. The text goes into the unsupported-config answer's log.
public struct ConfigurationError: Error, Sendable, Hashable, CustomStringConvertible {
    public let reason: String
    public init(_ reason: String) { self.reason = reason }
    public var description: String { reason }
}

/// A device configuration: the objects (by handle) an agent reports data from.
public struct Configuration: Sendable, Hashable {
    public let id: UInt16
    /// Objects in the order the agent listed them.
    public let objects: [ConfiguredObject]
    private let indexByHandle: [UInt16: Int]

    public var isStandard: Bool { id >= 0x0001 && id < AssociationConstants.extendedConfigurationStart }
    public var isExtended: Bool {
        (AssociationConstants.extendedConfigurationStart...AssociationConstants.extendedConfigurationEnd).contains(id)
    }

    public func object(handle: UInt16) -> ConfiguredObject? {
        indexByHandle[handle].map { objects[$0] }
    }

    public var handles: [UInt16] { objects.map(\.handle) }

    /// The config report this configuration came from (what a store persists).
    public var report: ConfigReport {
        ConfigReport(configReportId: id, objects: objects.map {
            ConfigObject(objectClass: $0.objectClass, handle: $0.handle, attributes: $0.attributes)
        })
    }

    /// Validates a reported configuration. Refuses reserved ids, duplicate or zero handles,
    /// metric objects without a type, numerics without a unit, and attribute values that do not
    /// decode exactly.
    public init(report: ConfigReport) throws(ConfigurationError) {
        let id = report.configReportId
        guard id != 0, id <= AssociationConstants.extendedConfigurationEnd else {
            throw ConfigurationError("config-report-id 0x\(hex16(id)) is reserved (agents use 0x0001-0x7FFF)")
        }
        guard !report.objects.isEmpty else {
            throw ConfigurationError("configuration 0x\(hex16(id)) lists no objects")
        }
        var objects: [ConfiguredObject] = []
        var index: [UInt16: Int] = [:]
        for object in report.objects {
            guard object.handle != 0 else {
                throw ConfigurationError("object of class \(ObjectClass.name(object.objectClass)) uses handle 0, which is the MDS")
            }
            guard index[object.handle] == nil else {
                throw ConfigurationError("handle \(object.handle) is listed twice")
            }
            let configured = try Self.interpret(object)
            index[object.handle] = objects.count
            objects.append(configured)
        }
        try Self.checkScannerReferences(objects, index)
        self.id = id
        self.objects = objects
        self.indexByHandle = index
    }

    private static func interpret(_ object: ConfigObject) throws(ConfigurationError) -> ConfiguredObject {
        let handle = object.handle
        func decoded<T>(_ id: UInt16, _ name: String, _ decode: ([UInt8]) throws(DecodeError) -> T) throws(ConfigurationError) -> T? {
            let matches = object.attributes.filter { $0.id == id }
            guard let value = matches.first?.value else { return nil }
            guard matches.count == 1 else { throw ConfigurationError("handle \(handle): \(name) is given \(matches.count) times") }
            do {
                return try decode(value)
            } catch {
                throw ConfigurationError("handle \(handle): \(name) does not decode: \(error)")
            }
        }
        let type = try decoded(AttributeId.idType, "Type", AttributeDecoding.type)
        let unit = try decoded(AttributeId.unitCode, "Unit-Code") { (v: [UInt8]) throws(DecodeError) in try AttributeDecoding.u16(v, "Unit-Code") }
        let map = try decoded(AttributeId.attributeValueMap, "Attribute-Value-Map", AttributeDecoding.attributeValueMap)
        let spec = try decoded(AttributeId.metricSpecSmall, "Metric-Spec-Small") { (v: [UInt8]) throws(DecodeError) in try AttributeDecoding.u16(v, "Metric-Spec-Small") }
        let structure = try decoded(AttributeId.metricStructSmall, "Metric-Structure-Small", AttributeDecoding.metricStructure)
        let physio = try decoded(AttributeId.idPhysioList, "Metric-Id-List") { (v: [UInt8]) throws(DecodeError) in try AttributeDecoding.u16List(v, "Metric-Id-List") }
        let scanHandles = try decoded(AttributeId.scanHandleList, "Scan-Handle-List") { (v: [UInt8]) throws(DecodeError) in try AttributeDecoding.u16List(v, "Scan-Handle-List") }
        let grouped = try decoded(AttributeId.scanHandleAttributeValueMap, "Scan-Handle-Attr-Val-Map", AttributeDecoding.handleAttributeValueMap)

        if [ObjectClass.numeric, ObjectClass.enumeration, ObjectClass.realTimeSampleArray].contains(object.objectClass) {
            guard type != nil else { throw ConfigurationError("handle \(handle): \(ObjectClass.name(object.objectClass)) has no Type") }
        }
        if object.objectClass == ObjectClass.numeric, unit == nil {
            throw ConfigurationError("handle \(handle): numeric object has no Unit-Code")
        }
        if let map {
            for entry in map where entry.length == 0 {
                throw ConfigurationError("handle \(handle): Attribute-Value-Map gives attribute \(entry.attributeId) length 0")
            }
        }
        if let structure, let physio, structure.isCompound, physio.count != Int(structure.componentCount) {
            throw ConfigurationError(
                "handle \(handle): Metric-Structure-Small says \(structure.componentCount) components, Metric-Id-List has \(physio.count)")
        }
        return ConfiguredObject(
            handle: handle, objectClass: object.objectClass, type: type, unitCode: unit,
            attributeValueMap: map, metricSpecSmall: spec, metricStructure: structure, physioList: physio,
            scanHandles: scanHandles,
            groupedLayout: grouped?.map { GroupedLayoutEntry(handle: $0.handle, map: $0.map) },
            attributes: object.attributes)
    }

    private static func checkScannerReferences(_ objects: [ConfiguredObject], _ index: [UInt16: Int]) throws(ConfigurationError) {
        for scanner in objects where scanner.isScanner {
            for handle in (scanner.scanHandles ?? []) + (scanner.groupedLayout?.map(\.handle) ?? []) {
                guard let target = index[handle], objects[target].isMetric else {
                    throw ConfigurationError("scanner \(scanner.handle) refers to handle \(handle), which is not a metric object of this configuration")
                }
            }
        }
    }

    /// The configuration as MDER bytes (a ConfigReport), for a store to persist.
    public func encoded() throws(EncodeError) -> [UInt8] {
        var writer = MDERWriter()
        try EventInfo.configReport(report).encode(&writer)
        return writer.bytes
    }

    /// Reads back what `encoded()` wrote; the same validation as a live config report applies.
    public init(encoded bytes: [UInt8]) throws(ConfigurationError) {
        var reader = MDERReader(bytes, path: "stored-configuration")
        let info: EventInfo
        do {
            info = try EventInfo.decode(&reader, eventType: EventType.config)
            try reader.finish("stored-configuration")
        } catch {
            throw ConfigurationError("stored configuration does not decode: \(error)")
        }
        guard case .configReport(let report) = info else { throw ConfigurationError("stored configuration is not a config report") }
        try self.init(report: report)
    }
}
