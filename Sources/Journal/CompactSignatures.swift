import Foundation
import GRDB
import HexEncoding

/// An Observation id as its row keys it: a reading id (32 lowercase hex digits, 128 bits of
/// SHA-256: `Normalizer.readingId`) as its 16 bytes, any other id as its text. The unique
/// index on the ids is half the size; the text an API or export shows is the same.
package enum ObservationKey {
    package static func value(_ id: String) -> DatabaseValue {
        // Lowercase hex only, so the bytes print back as the same text.
        guard id.utf8.count == 32, id.utf8.allSatisfy(isLowercaseHexDigit), let bytes = try? Hex.decode(id) else { return id.databaseValue }
        return Data(bytes).databaseValue
    }

    private static func isLowercaseHexDigit(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains(byte)
    }

    package static func id(_ value: DatabaseValue) -> String {
        switch value.storage {
        case .blob(let data): Hex.encode(data)
        case .string(let text): text
        default: ""
        }
    }
}

/// A compact detached JWS (`<header>..<signature>`) as the journal keeps it: the protected
/// header's JSON around its `iat` (a row of `jws_header`, one per signing certificate), the
/// `iat`, and the raw 64-byte r‖s. It rebuilds the text byte for byte: a JWS that would not
/// (anything but canonical base64url, or a signature of another length) is kept as text.
struct StoredSignature: Sendable, Hashable {
    /// The header JSON with its `iat` digits cut out, and the certificate it names.
    struct Header: Sendable, Hashable {
        let prefix: [UInt8]
        let suffix: [UInt8]
        let thumbprint: String
    }

    let header: Header
    let iat: Int64?
    /// The raw r‖s; nil when `legacyJWS` holds the text.
    let raw: [UInt8]?
    let legacyJWS: String?

    init(jws: String, thumbprint: String) {
        if let parts = Self.split(jws, thumbprint: thumbprint), Self.rebuild(parts.header, iat: parts.iat, raw: parts.raw) == jws {
            (header, iat, raw, legacyJWS) = (parts.header, parts.iat, parts.raw, nil)
        } else {
            (header, iat, raw, legacyJWS) = (Header(prefix: [], suffix: [], thumbprint: thumbprint), nil, nil, jws)
        }
    }

    /// Parts that rebuild their own text (`jws`), as a signer made them or a row holds them.
    init(header: Header, iat: Int64?, raw: [UInt8]) {
        (self.header, self.iat, self.raw, legacyJWS) = (header, iat, raw, nil)
    }

    /// A row's text JWS (one that would not rebuild from parts).
    init(legacyJWS: String, thumbprint: String) {
        (header, iat, raw, self.legacyJWS) = (Header(prefix: [], suffix: [], thumbprint: thumbprint), nil, nil, legacyJWS)
    }

    var jws: String { legacyJWS ?? Self.rebuild(header, iat: iat, raw: raw ?? []) }

    static func rebuild(_ header: Header, iat: Int64?, raw: [UInt8]) -> String {
        var json = header.prefix
        if let iat { json += String(iat).utf8 }
        json += header.suffix
        var out: [UInt8] = []
        out.reserveCapacity(json.count * 4 / 3 + 90)
        Base64URL.append(json, to: &out)
        out += "..".utf8
        Base64URL.append(raw, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// `<base64url header JSON>..<base64url r‖s>`, the JSON cut around `"iat":<digits>`.
    private static func split(_ jws: String, thumbprint: String) -> (header: Header, iat: Int64?, raw: [UInt8])? {
        let bytes = Array(jws.utf8)
        guard let dot = bytes.firstIndex(of: UInt8(ascii: ".")), dot + 1 < bytes.count, bytes[dot + 1] == UInt8(ascii: "."),
              let json = Base64URL.decode(bytes[..<dot]), let raw = Base64URL.decode(bytes[(dot + 2)...]), raw.count == 64
        else { return nil }
        let key = Array(#""iat":"#.utf8)
        guard let start = json.firstRange(of: key)?.upperBound else {
            return (Header(prefix: json, suffix: [], thumbprint: thumbprint), nil, raw)
        }
        let end = json[start...].firstIndex { $0 < UInt8(ascii: "0") || $0 > UInt8(ascii: "9") } ?? json.endIndex
        // Digits that print back the same (no leading zero, within Int64); else the JSON stays whole.
        guard let iat = Int64(String(decoding: json[start..<end], as: UTF8.self)), String(iat).utf8.elementsEqual(json[start..<end]) else {
            return (Header(prefix: json, suffix: [], thumbprint: thumbprint), nil, raw)
        }
        return (Header(prefix: Array(json[..<start]), suffix: Array(json[end...]), thumbprint: thumbprint), iat, raw)
    }
}

/// The `jws_header` rows one write transaction uses: looked up (or added) once per header.
struct SignatureHeaders {
    private let db: Database
    private var ids: [StoredSignature.Header: Int64] = [:]

    init(_ db: Database) { self.db = db }

    mutating func id(of header: StoredSignature.Header) throws -> Int64 {
        if let id = ids[header] { return id }
        let arguments: StatementArguments = [Data(header.prefix), Data(header.suffix), header.thumbprint]
        let id: Int64
        if let found = try Int64.fetchOne(
            db.cachedStatement(sql: "SELECT id FROM jws_header WHERE prefix = ? AND suffix = ? AND thumbprint = ?"), arguments: arguments) {
            id = found
        } else {
            try db.cachedStatement(sql: "INSERT INTO jws_header (prefix, suffix, thumbprint) VALUES (?, ?, ?)").execute(arguments: arguments)
            id = db.lastInsertedRowID
        }
        ids[header] = id
        return id
    }

    /// The signature columns of an observation row (`header_id, iat, signature, jws, signed_at_ms`).
    mutating func columns(_ signature: ObservationSignature?) throws -> [DatabaseValue] {
        guard let signature else { return [.null, .null, .null, .null, .null] }
        let stored = signature.stored
        return [try id(of: stored.header).databaseValue, stored.iat.databaseValue, stored.raw.map { Data($0) }.databaseValue,
                stored.legacyJWS.databaseValue, signature.signedAtMs.databaseValue]
    }
}

extension Journal {
    /// Every column of an observation row, with its header's parts (`signature(_:)` reads them).
    package static let observationColumns = """
        o.*, h.prefix AS header_prefix, h.suffix AS header_suffix, h.thumbprint AS header_thumbprint
        FROM observation o LEFT JOIN jws_header h ON h.id = o.header_id
        """

    /// The JWS of a row selected with `observationColumns` (nil: not signed).
    package static func signature(_ row: Row) -> ObservationSignature? {
        guard let headerId: Int64 = row["header_id"], headerId > 0 else { return nil }
        let header = StoredSignature.Header(
            prefix: Array((row["header_prefix"] as Data?) ?? Data()), suffix: Array((row["header_suffix"] as Data?) ?? Data()),
            thumbprint: row["header_thumbprint"] ?? "")
        let stored: StoredSignature = (row["jws"] as String?).map { StoredSignature(legacyJWS: $0, thumbprint: header.thumbprint) }
            ?? StoredSignature(header: header, iat: row["iat"], raw: Array((row["signature"] as Data?) ?? Data()))
        return ObservationSignature(stored: stored, signedAtMs: row["signed_at_ms"] ?? 0)
    }
}
