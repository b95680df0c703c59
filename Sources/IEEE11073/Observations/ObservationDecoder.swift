/// Reads the observations of a scan report against a configuration.
///
/// A report is all-or-nothing: if any entry of a known object fails to decode (a length that
/// disagrees with the Attribute-Value-Map, a bad BCD time, a compound count that disagrees with
/// its bytes) the whole report is refused and nothing from it becomes a Reading. Entries for
/// handles the configuration does not have are set aside as dead letters and the rest is kept:
/// their bytes are self-delimited, so skipping them cannot shift the others.
struct ObservationDecoder {
    let configuration: Configuration

    struct Output {
        var observations: [DecodedObservation] = []
        var deadLetters: [DeadLetter] = []
    }

    func decode(_ info: EventInfo, scanner: ConfiguredObject?) throws(DecodeError) -> Output {
        var output = Output()
        switch info {
        case .scanFixed(let report):
            for (index, entry) in report.observations.enumerated() {
                try fixed(entry, personId: nil, field: "obs-scan-fixed[\(index)]", into: &output)
            }
        case .scanVar(let report):
            for (index, entry) in report.observations.enumerated() {
                try variable(entry, personId: nil, field: "obs-scan-var[\(index)]", into: &output)
            }
        case .scanMPFixed(let report):
            for (p, person) in report.persons.enumerated() {
                for (index, entry) in person.observations.enumerated() {
                    try fixed(entry, personId: person.personId, field: "scan-per-fixed[\(p)].obs-scan-fixed[\(index)]", into: &output)
                }
            }
        case .scanMPVar(let report):
            for (p, person) in report.persons.enumerated() {
                for (index, entry) in person.observations.enumerated() {
                    try variable(entry, personId: person.personId, field: "scan-per-var[\(p)].obs-scan-var[\(index)]", into: &output)
                }
            }
        case .scanGrouped(let report):
            let layout = try groupedLayout(scanner)
            for (index, group) in report.groups.enumerated() {
                try grouped(group, layout: layout, personId: nil, field: "obs-scan-grouped[\(index)]", into: &output)
            }
        case .scanMPGrouped(let report):
            let layout = try groupedLayout(scanner)
            for (index, person) in report.persons.enumerated() {
                try grouped(person.group, layout: layout, personId: person.personId, field: "scan-per-grouped[\(index)]", into: &output)
            }
        case .configReport, .opaque:
            throw DecodeError(.unsupported, field: "event-info", offset: 0, detail: "not a scan report")
        }
        return output
    }

    private func groupedLayout(_ scanner: ConfiguredObject?) throws(DecodeError) -> [GroupedLayoutEntry] {
        guard let layout = scanner?.groupedLayout else {
            throw DecodeError(.unsupported, field: "obs-scan-grouped", offset: 0,
                detail: "scanner \(scanner?.handle ?? 0) has no Scan-Handle-Attr-Val-Map, so grouped data cannot be read")
        }
        return layout
    }

    private func fixed(_ entry: ObservationScanFixed, personId: UInt16?, field: String, into output: inout Output) throws(DecodeError) {
        guard let object = configuration.object(handle: entry.handle) else {
            output.deadLetters.append(unknownHandle(entry.handle, personId))
            return
        }
        guard let map = object.attributeValueMap else {
            throw DecodeError(.unsupported, field: field, offset: 0,
                detail: "handle \(entry.handle) has no Attribute-Value-Map, so its fixed-format data cannot be read")
        }
        var reader = MDERReader(entry.data, path: "\(field).obs-val-data")
        let attributes = try slice(&reader, map: map, handle: entry.handle)
        try reader.finish("obs-val-data")
        try append(object, attributes, personId: personId, field: field, into: &output)
    }

    private func variable(_ entry: ObservationScan, personId: UInt16?, field: String, into output: inout Output) throws(DecodeError) {
        guard let object = configuration.object(handle: entry.handle) else {
            output.deadLetters.append(unknownHandle(entry.handle, personId))
            return
        }
        try append(object, entry.attributes, personId: personId, field: field, into: &output)
    }

    private func grouped(
        _ group: [UInt8], layout: [GroupedLayoutEntry], personId: UInt16?, field: String, into output: inout Output
    ) throws(DecodeError) {
        var reader = MDERReader(group, path: field)
        var perHandle: [(ConfiguredObject, [AttributeValue])] = []
        for entry in layout {
            guard let object = configuration.object(handle: entry.handle) else {
                throw DecodeError(.invalidValue, field: field, offset: reader.offset, detail: "layout handle \(entry.handle) is not configured")
            }
            perHandle.append((object, try slice(&reader, map: entry.map, handle: entry.handle)))
        }
        try reader.finish(field)
        for (object, attributes) in perHandle {
            try append(object, attributes, personId: personId, field: "\(field).handle[\(object.handle)]", into: &output)
        }
    }

    /// Cuts fixed-format data into attributes following an Attribute-Value-Map.
    private func slice(_ reader: inout MDERReader, map: [AttributeValueMapEntry], handle: UInt16) throws(DecodeError) -> [AttributeValue] {
        let expected = map.reduce(0) { $0 + Int($1.length) }
        guard reader.remaining == expected else {
            throw reader.error(.lengthMismatch, "handle \(handle)",
                "\(reader.remaining) bytes of data but the Attribute-Value-Map describes \(expected)")
        }
        var attributes: [AttributeValue] = []
        for entry in map {
            attributes.append(AttributeValue(id: entry.attributeId, value: try reader.bytes(Int(entry.length), "attribute \(entry.attributeId)")))
        }
        return attributes
    }

    private func unknownHandle(_ handle: UInt16, _ personId: UInt16?) -> DeadLetter {
        DeadLetter(handle: handle, personId: personId, observation: nil,
                   reason: "handle \(handle) is not an object of configuration 0x\(hex16(configuration.id)); entry skipped")
    }

    /// Interprets value attributes of one object and appends the observation (or a dead letter).
    private func append(
        _ object: ConfiguredObject, _ attributes: [AttributeValue], personId: UInt16?, field: String, into output: inout Output
    ) throws(DecodeError) {
        guard object.isMetric else {
            output.deadLetters.append(DeadLetter(handle: object.handle, personId: personId, observation: nil,
                reason: "handle \(object.handle) is a \(ObjectClass.name(object.objectClass)), which carries no observations"))
            return
        }
        var value: (ObservedValue, UInt16)?
        var time: AbsoluteTime?
        var relative: UInt32?
        var status: UInt16?
        var unit = object.unitCode
        for attribute in attributes {
            let decoded = try ValueAttributeDecoder.decode(attribute, field: field)
            switch decoded {
            case .value(let observed):
                guard value == nil else {
                    throw DecodeError(.invalidValue, field: field, offset: 0, detail: "handle \(object.handle) carries two observed values")
                }
                value = (observed, attribute.id)
            case .absoluteTime(let stamp): time = stamp
            case .relativeTime(let stamp): relative = stamp
            case .status(let bits): status = bits
            case .unit(let code): unit = code
            case .ignored: break
            }
        }
        guard let (observed, valueAttribute) = value else {
            output.deadLetters.append(DeadLetter(handle: object.handle, personId: personId, observation: nil,
                reason: "handle \(object.handle) reported no observed value"))
            return
        }
        if case .numeric(let number) = observed, let count = object.metricStructure?.componentCount,
            object.metricStructure?.isCompound == true, count > 1 {
            throw DecodeError(.invalidValue, field: field, offset: 0,
                detail: "handle \(object.handle) is a \(count)-component compound but sent a single value \(number)")
        }
        if case .compound(let components) = observed, let physio = object.physioList, physio.count != components.count {
            throw DecodeError(.countMismatch, field: field, offset: 0,
                detail: "handle \(object.handle) sent \(components.count) components; its Metric-Id-List has \(physio.count)")
        }
        output.observations.append(DecodedObservation(
            handle: object.handle, personId: personId, type: object.type, unitCode: unit, value: observed,
            valueAttribute: valueAttribute, absoluteTime: time, relativeTime: relative, measurementStatus: status,
            componentIds: object.physioList))
    }
}

/// Strict decoding of the value attributes that appear in scan reports.
enum ValueAttributeDecoder {
    enum Decoded {
        case value(ObservedValue)
        case absoluteTime(AbsoluteTime)
        case relativeTime(UInt32)
        case status(UInt16)
        case unit(UInt16)
        case ignored
    }

    static func decode(_ attribute: AttributeValue, field: String) throws(DecodeError) -> Decoded {
        var reader = MDERReader(attribute.value, path: "\(field).attribute(\(attribute.id))")
        let decoded: Decoded
        switch attribute.id {
        case AttributeId.nuObservedValueBasic:
            decoded = .value(.numeric(SFloat.decode(try reader.u16("BasicNuObsValue"))))
        case AttributeId.nuObservedValueSimple:
            decoded = .value(.numeric(MDERFloat.decode(try reader.u32("SimpleNuObsValue"))))
        case AttributeId.nuObservedValue:
            let component = try nuObsValue(&reader, "NuObsValue")
            decoded = .value(.compound([component]))
        case AttributeId.nuCompoundObservedValueBasic:
            decoded = .value(.compound(try reader.list("BasicNuObsValueCmp", minimumElementSize: 2) {
                (element: inout MDERReader, index: Int) throws(DecodeError) in
                CompoundComponent(metricId: nil, value: SFloat.decode(try element.u16("[\(index)]")))
            }))
        case AttributeId.nuCompoundObservedValueSimple:
            decoded = .value(.compound(try reader.list("SimpleNuObsValueCmp", minimumElementSize: 4) {
                (element: inout MDERReader, index: Int) throws(DecodeError) in
                CompoundComponent(metricId: nil, value: MDERFloat.decode(try element.u32("[\(index)]")))
            }))
        case AttributeId.nuCompoundObservedValue:
            decoded = .value(.compound(try reader.list("NuObsValueCmp", minimumElementSize: 10) {
                (element: inout MDERReader, index: Int) throws(DecodeError) in try nuObsValue(&element, "[\(index)]")
            }))
        case AttributeId.timeStampAbsolute:
            let raw = try reader.bytes(8, "AbsoluteTime")
            do {
                decoded = .absoluteTime(try AbsoluteTime(bcd: raw))
            } catch {
                throw reader.error(.invalidValue, "AbsoluteTime", error.description)
            }
        case AttributeId.timeStampRelative:
            decoded = .relativeTime(try reader.u32("RelativeTime"))
        case AttributeId.measurementStatus:
            decoded = .status(try reader.u16("MeasurementStatus"))
        case AttributeId.unitCode:
            decoded = .unit(try reader.u16("Unit-Code"))
        case AttributeId.enumObservedValueSimpleOID:
            decoded = .value(.enumerationCode(try reader.u16("OID-Type")))
        case AttributeId.enumObservedValueSimpleBitString:
            decoded = .value(.enumerationBits(try reader.u32("BITS-32")))
        case AttributeId.enumObservedValueBasicBitString:
            decoded = .value(.enumerationBits(UInt32(try reader.u16("BITS-16"))))
        case AttributeId.enumObservedValueSimpleString:
            decoded = .value(.enumerationText(try reader.octetString("OCTET STRING")))
        default:
            // Attributes the manager does not interpret are skipped; their bytes are delimited.
            return .ignored
        }
        try reader.finish("value")
        return decoded
    }

    static func nuObsValue(_ reader: inout MDERReader, _ field: String) throws(DecodeError) -> CompoundComponent {
        let metric = try reader.u16("\(field).metric-id")
        let state = try reader.u16("\(field).state")
        let unit = try reader.u16("\(field).unit-code")
        let value = MDERFloat.decode(try reader.u32("\(field).value"))
        return CompoundComponent(metricId: metric, unitCode: unit, value: value, state: state)
    }
}
