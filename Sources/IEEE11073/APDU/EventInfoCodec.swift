extension EventInfo {
    static func decode(_ reader: inout MDERReader, eventType: UInt16) throws(DecodeError) -> EventInfo {
        switch Layout(eventType: eventType) {
        case .config:
            let id = try reader.u16("config-report-id")
            let objects = try reader.list("config-obj-list", minimumElementSize: 8) {
                (element: inout MDERReader, index: Int) throws(DecodeError) in
                ConfigObject(
                    objectClass: try element.u16("[\(index)].obj-class"),
                    handle: try element.u16("[\(index)].obj-handle"),
                    attributes: try AttributeValue.decodeList(&element, "[\(index)].attributes"))
            }
            return .configReport(ConfigReport(configReportId: id, objects: objects))
        case .fixed:
            return .scanFixed(ScanReportFixed(
                dataRequestId: try reader.u16("data-req-id"),
                scanReportNumber: try reader.u16("scan-report-no"),
                observations: try decodeFixedList(&reader, "obs-scan-fixed")))
        case .variable:
            return .scanVar(ScanReportVar(
                dataRequestId: try reader.u16("data-req-id"),
                scanReportNumber: try reader.u16("scan-report-no"),
                observations: try decodeVarList(&reader, "obs-scan-var")))
        case .mpFixed:
            let requestId = try reader.u16("data-req-id")
            let number = try reader.u16("scan-report-no")
            let persons = try reader.list("scan-per-fixed", minimumElementSize: 6) {
                (element: inout MDERReader, index: Int) throws(DecodeError) in
                PersonFixedObservations(
                    personId: try element.u16("[\(index)].person-id"),
                    observations: try decodeFixedList(&element, "[\(index)].obs-scan-fixed"))
            }
            return .scanMPFixed(ScanReportMPFixed(dataRequestId: requestId, scanReportNumber: number, persons: persons))
        case .mpVariable:
            let requestId = try reader.u16("data-req-id")
            let number = try reader.u16("scan-report-no")
            let persons = try reader.list("scan-per-var", minimumElementSize: 6) {
                (element: inout MDERReader, index: Int) throws(DecodeError) in
                PersonVarObservations(
                    personId: try element.u16("[\(index)].person-id"),
                    observations: try decodeVarList(&element, "[\(index)].obs-scan-var"))
            }
            return .scanMPVar(ScanReportMPVar(dataRequestId: requestId, scanReportNumber: number, persons: persons))
        case .grouped:
            let requestId = try reader.u16("data-req-id")
            let number = try reader.u16("scan-report-no")
            let groups = try reader.list("obs-scan-grouped", minimumElementSize: 2) {
                (element: inout MDERReader, index: Int) throws(DecodeError) in try element.octetString("[\(index)]")
            }
            return .scanGrouped(ScanReportGrouped(dataRequestId: requestId, scanReportNumber: number, groups: groups))
        case .mpGrouped:
            let requestId = try reader.u16("data-req-id")
            let number = try reader.u16("scan-report-no")
            let persons = try reader.list("scan-per-grouped", minimumElementSize: 4) {
                (element: inout MDERReader, index: Int) throws(DecodeError) in
                PersonGroupedObservations(
                    personId: try element.u16("[\(index)].person-id"),
                    group: try element.octetString("[\(index)].obs-scan-grouped"))
            }
            return .scanMPGrouped(ScanReportMPGrouped(dataRequestId: requestId, scanReportNumber: number, persons: persons))
        case .opaque:
            return .opaque(try reader.bytes(reader.remaining, "event-info"))
        }
    }

    static func decodeFixedList(_ reader: inout MDERReader, _ field: String) throws(DecodeError) -> [ObservationScanFixed] {
        try reader.list(field, minimumElementSize: 4) { (element: inout MDERReader, index: Int) throws(DecodeError) in
            ObservationScanFixed(
                handle: try element.u16("[\(index)].obj-handle"),
                data: try element.octetString("[\(index)].obs-val-data"))
        }
    }

    static func decodeVarList(_ reader: inout MDERReader, _ field: String) throws(DecodeError) -> [ObservationScan] {
        try reader.list(field, minimumElementSize: 6) { (element: inout MDERReader, index: Int) throws(DecodeError) in
            ObservationScan(
                handle: try element.u16("[\(index)].obj-handle"),
                attributes: try AttributeValue.decodeList(&element, "[\(index)].attributes"))
        }
    }

    func encode(_ writer: inout MDERWriter) throws(EncodeError) {
        switch self {
        case .configReport(let report):
            writer.u16(report.configReportId)
            try writer.list(report.objects, "config-obj-list") { (inner: inout MDERWriter, object: ConfigObject) throws(EncodeError) in
                inner.u16(object.objectClass)
                inner.u16(object.handle)
                try AttributeValue.encodeList(object.attributes, &inner)
            }
        case .scanFixed(let report):
            writer.u16(report.dataRequestId)
            writer.u16(report.scanReportNumber)
            try Self.encodeFixedList(report.observations, &writer)
        case .scanVar(let report):
            writer.u16(report.dataRequestId)
            writer.u16(report.scanReportNumber)
            try Self.encodeVarList(report.observations, &writer)
        case .scanMPFixed(let report):
            writer.u16(report.dataRequestId)
            writer.u16(report.scanReportNumber)
            try writer.list(report.persons, "scan-per-fixed") { (inner: inout MDERWriter, person: PersonFixedObservations) throws(EncodeError) in
                inner.u16(person.personId)
                try Self.encodeFixedList(person.observations, &inner)
            }
        case .scanMPVar(let report):
            writer.u16(report.dataRequestId)
            writer.u16(report.scanReportNumber)
            try writer.list(report.persons, "scan-per-var") { (inner: inout MDERWriter, person: PersonVarObservations) throws(EncodeError) in
                inner.u16(person.personId)
                try Self.encodeVarList(person.observations, &inner)
            }
        case .scanGrouped(let report):
            writer.u16(report.dataRequestId)
            writer.u16(report.scanReportNumber)
            try writer.list(report.groups, "obs-scan-grouped") { (inner: inout MDERWriter, group: [UInt8]) throws(EncodeError) in
                try inner.octetString(group, "grouped observation")
            }
        case .scanMPGrouped(let report):
            writer.u16(report.dataRequestId)
            writer.u16(report.scanReportNumber)
            try writer.list(report.persons, "scan-per-grouped") { (inner: inout MDERWriter, person: PersonGroupedObservations) throws(EncodeError) in
                inner.u16(person.personId)
                try inner.octetString(person.group, "grouped observation")
            }
        case .opaque(let bytes):
            writer.raw(bytes)
        }
    }

    static func encodeFixedList(_ observations: [ObservationScanFixed], _ writer: inout MDERWriter) throws(EncodeError) {
        try writer.list(observations, "obs-scan-fixed") { (inner: inout MDERWriter, observation: ObservationScanFixed) throws(EncodeError) in
            inner.u16(observation.handle)
            try inner.octetString(observation.data, "obs-val-data")
        }
    }

    static func encodeVarList(_ observations: [ObservationScan], _ writer: inout MDERWriter) throws(EncodeError) {
        try writer.list(observations, "obs-scan-var") { (inner: inout MDERWriter, observation: ObservationScan) throws(EncodeError) in
            inner.u16(observation.handle)
            try AttributeValue.encodeList(observation.attributes, &inner)
        }
    }
}
