import HexEncoding

/// One 11073-20601 APDU, as it travels between agent and manager.
public enum APDU: Sendable, Hashable {
    case aarq(AssociationRequest)
    case aare(AssociationResponse)
    /// RLRQ with its reason (normal 0).
    case rlrq(reason: UInt16)
    /// RLRE with its reason (normal 0).
    case rlre(reason: UInt16)
    case abrt(reason: UInt16)
    case prst(DataAPDU)

    public var name: String {
        switch self {
        case .aarq: "AARQ"
        case .aare: "AARE"
        case .rlrq: "RLRQ"
        case .rlre: "RLRE"
        case .abrt: "ABRT"
        case .prst: "PRST"
        }
    }

    /// Strict decode: the APDU length must match the bytes exactly, every nested length and
    /// count must match its content, and nothing may trail.
    public static func decode(_ bytes: [UInt8]) throws(DecodeError) -> APDU {
        var reader = MDERReader(bytes, path: "")
        return try decode(&reader)
    }

    /// Like `decode(_:)`, also returning the decoder's work steps (the fuzz tests bound them).
    public static func decodeCountingWork(_ bytes: [UInt8]) -> (result: Result<APDU, DecodeError>, workSteps: Int) {
        var reader = MDERReader(bytes, path: "")
        do {
            let apdu = try decode(&reader)
            return (.success(apdu), reader.workSteps)
        } catch {
            return (.failure(error), reader.workSteps)
        }
    }

    static func decode(_ reader: inout MDERReader) throws(DecodeError) -> APDU {
        let tag = try reader.u16("apdu-tag")
        let name = Self.name(tag: tag)
        guard let name else {
            throw reader.error(.invalidValue, "apdu-tag", "0x\(hex16(tag)) is not an APDU tag (E2-E7)")
        }
        let length = Int(try reader.u16("\(name).length"))
        guard length <= reader.remaining else {
            throw reader.error(.truncated, name, "APDU length \(length) but \(reader.remaining) bytes follow")
        }
        guard length == reader.remaining else {
            throw reader.error(.trailingBytes, name, "APDU length \(length) but \(reader.remaining) bytes follow")
        }
        var body = try reader.window(length, name)
        let apdu: APDU
        switch tag {
        case APDUTag.aarq:
            let version = try body.u32("assoc-version")
            let protocols = try body.list("data-proto-list", minimumElementSize: 4) {
                (element: inout MDERReader, index: Int) throws(DecodeError) in
                try DataProtocol.decode(&element, "[\(index)]")
            }
            apdu = .aarq(AssociationRequest(assocVersion: version, dataProtocols: protocols))
        case APDUTag.aare:
            let result = try body.u16("result")
            let proto = try DataProtocol.decode(&body, "selected-data-proto")
            apdu = .aare(AssociationResponse(rawResult: result, selectedDataProtocol: proto))
        case APDUTag.rlrq:
            apdu = .rlrq(reason: try body.u16("reason"))
        case APDUTag.rlre:
            apdu = .rlre(reason: try body.u16("reason"))
        case APDUTag.abrt:
            apdu = .abrt(reason: try body.u16("reason"))
        default:
            var data = try body.lengthPrefixedWindow("octet-string")
            apdu = .prst(try DataAPDU.decode(&data))
            try data.finish("data-apdu")
        }
        try body.finish(name)
        return apdu
    }

    static func name(tag: UInt16) -> String? {
        switch tag {
        case APDUTag.aarq: "AARQ"
        case APDUTag.aare: "AARE"
        case APDUTag.rlrq: "RLRQ"
        case APDUTag.rlre: "RLRE"
        case APDUTag.abrt: "ABRT"
        case APDUTag.prst: "PRST"
        default: nil
        }
    }

    public var tag: UInt16 {
        switch self {
        case .aarq: APDUTag.aarq
        case .aare: APDUTag.aare
        case .rlrq: APDUTag.rlrq
        case .rlre: APDUTag.rlre
        case .abrt: APDUTag.abrt
        case .prst: APDUTag.prst
        }
    }

    public func encode() throws(EncodeError) -> [UInt8] {
        var body = MDERWriter()
        switch self {
        case .aarq(let request):
            body.u32(request.assocVersion)
            try body.list(request.dataProtocols, "data-proto-list") { (inner: inout MDERWriter, proto: DataProtocol) throws(EncodeError) in
                try proto.encode(&inner)
            }
        case .aare(let response):
            body.u16(response.result)
            try response.selectedDataProtocol.encode(&body)
        case .rlrq(let reason), .rlre(let reason), .abrt(let reason):
            body.u16(reason)
        case .prst(let data):
            try body.lengthPrefixed("PRST octet string") { (inner: inout MDERWriter) throws(EncodeError) in try data.encode(&inner) }
        }
        var writer = MDERWriter()
        writer.u16(tag)
        try writer.octetString(body.bytes, "\(name) body")
        return writer.bytes
    }
}

package func hex16(_ value: UInt16) -> String {
    let text = String(value, radix: 16, uppercase: true)
    return String(repeating: "0", count: max(0, 4 - text.count)) + text
}

/// Hex text helpers for logs, identifiers and the decode command.
public enum MDERHex {
    /// Lower-case hex of a byte sequence, for messages and identifiers.
    public static func string(_ bytes: [UInt8]) -> String { Hex.encode(bytes) }

    /// Bytes from hex text (whitespace ignored); nil if it is not an even run of hex digits.
    public static func bytes(_ text: String) -> [UInt8]? { try? Hex.decode(ignoringWhitespace: text) }
}
