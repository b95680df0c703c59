/// AARQ: the agent asks to associate, listing the data protocols it speaks.
public struct AssociationRequest: Sendable, Hashable {
    public let assocVersion: UInt32
    public let dataProtocols: [DataProtocol]

    public init(assocVersion: UInt32 = AssociationConstants.assocVersion1, dataProtocols: [DataProtocol]) {
        self.assocVersion = assocVersion
        self.dataProtocols = dataProtocols
    }

    /// The 20601 association information, if the agent offered that protocol.
    public var phdInformation: PhdAssociationInformation? {
        for proto in dataProtocols { if case .phd(let info) = proto.info { return info } }
        return nil
    }
}

/// AARE: the manager's answer.
public struct AssociationResponse: Sendable, Hashable {
    /// Raw result code; `AssociationResult(rawValue:)` names the defined ones.
    public let result: UInt16
    public let selectedDataProtocol: DataProtocol

    public init(result: AssociationResult, selectedDataProtocol: DataProtocol) {
        self.result = result.rawValue
        self.selectedDataProtocol = selectedDataProtocol
    }

    public init(rawResult: UInt16, selectedDataProtocol: DataProtocol) {
        self.result = rawResult
        self.selectedDataProtocol = selectedDataProtocol
    }

    public var associationResult: AssociationResult? { AssociationResult(rawValue: result) }
}

/// DataProto: a protocol id and its information. 20601 information is decoded strictly.
public struct DataProtocol: Sendable, Hashable {
    public enum Info: Sendable, Hashable {
        case phd(PhdAssociationInformation)
        /// Another protocol id: kept as bytes, never interpreted.
        case opaque([UInt8])
    }

    public let id: UInt16
    public let info: Info

    public init(id: UInt16, info: Info) {
        self.id = id
        self.info = info
    }

    public static func phd(_ info: PhdAssociationInformation) -> DataProtocol {
        DataProtocol(id: AssociationConstants.dataProtoId20601, info: .phd(info))
    }

    /// What a rejecting AARE carries: no protocol selected.
    public static let none = DataProtocol(id: 0, info: .opaque([]))

    static func decode(_ reader: inout MDERReader, _ field: String) throws(DecodeError) -> DataProtocol {
        let id = try reader.u16("\(field).data-proto-id")
        var content = try reader.lengthPrefixedWindow("\(field).data-proto-info")
        if id == AssociationConstants.dataProtoId20601 {
            let info = try PhdAssociationInformation.decode(&content)
            try content.finish("PhdAssociationInformation")
            return DataProtocol(id: id, info: .phd(info))
        }
        return DataProtocol(id: id, info: .opaque(try content.bytes(content.remaining, "data-proto-info")))
    }

    func encode(_ writer: inout MDERWriter) throws(EncodeError) {
        writer.u16(id)
        switch info {
        case .phd(let phd): try writer.lengthPrefixed("data-proto-info") { (inner: inout MDERWriter) throws(EncodeError) in try phd.encode(&inner) }
        case .opaque(let bytes): try writer.octetString(bytes, "data-proto-info")
        }
    }
}

/// PhdAssociationInformation (20601 data-proto-info).
public struct PhdAssociationInformation: Sendable, Hashable {
    public var protocolVersion: UInt32
    public var encodingRules: UInt16
    public var nomenclatureVersion: UInt32
    public var functionalUnits: UInt32
    public var systemType: UInt32
    public var systemId: [UInt8]
    public var devConfigId: UInt16
    public var dataRequestModeFlags: UInt16
    public var dataRequestInitAgentCount: UInt8
    public var dataRequestInitManagerCount: UInt8
    public var optionList: [AttributeValue]

    public init(
        protocolVersion: UInt32 = AssociationConstants.protocolVersion1,
        encodingRules: UInt16 = AssociationConstants.encodingMDER,
        nomenclatureVersion: UInt32 = AssociationConstants.nomenclatureVersion1,
        functionalUnits: UInt32 = 0,
        systemType: UInt32,
        systemId: [UInt8],
        devConfigId: UInt16,
        dataRequestModeFlags: UInt16 = 0,
        dataRequestInitAgentCount: UInt8 = 0,
        dataRequestInitManagerCount: UInt8 = 0,
        optionList: [AttributeValue] = []
    ) {
        self.protocolVersion = protocolVersion
        self.encodingRules = encodingRules
        self.nomenclatureVersion = nomenclatureVersion
        self.functionalUnits = functionalUnits
        self.systemType = systemType
        self.systemId = systemId
        self.devConfigId = devConfigId
        self.dataRequestModeFlags = dataRequestModeFlags
        self.dataRequestInitAgentCount = dataRequestInitAgentCount
        self.dataRequestInitManagerCount = dataRequestInitManagerCount
        self.optionList = optionList
    }

    static func decode(_ reader: inout MDERReader) throws(DecodeError) -> PhdAssociationInformation {
        PhdAssociationInformation(
            protocolVersion: try reader.u32("protocol-version"),
            encodingRules: try reader.u16("encoding-rules"),
            nomenclatureVersion: try reader.u32("nomenclature-version"),
            functionalUnits: try reader.u32("functional-units"),
            systemType: try reader.u32("system-type"),
            systemId: try reader.octetString("system-id"),
            devConfigId: try reader.u16("dev-config-id"),
            dataRequestModeFlags: try reader.u16("data-req-mode-flags"),
            dataRequestInitAgentCount: try reader.u8("data-req-init-agent-count"),
            dataRequestInitManagerCount: try reader.u8("data-req-init-manager-count"),
            optionList: try AttributeValue.decodeList(&reader, "option-list"))
    }

    func encode(_ writer: inout MDERWriter) throws(EncodeError) {
        writer.u32(protocolVersion)
        writer.u16(encodingRules)
        writer.u32(nomenclatureVersion)
        writer.u32(functionalUnits)
        writer.u32(systemType)
        try writer.octetString(systemId, "system-id")
        writer.u16(devConfigId)
        writer.u16(dataRequestModeFlags)
        writer.u8(dataRequestInitAgentCount)
        writer.u8(dataRequestInitManagerCount)
        try AttributeValue.encodeList(optionList, &writer)
    }
}
