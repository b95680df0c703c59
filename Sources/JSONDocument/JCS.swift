/// RFC 8785 JSON Canonicalization Scheme over `JSONValue`.
///
/// Object members are sorted by their names' UTF-16 code units, strings use the minimal JSON
/// escapes, numbers are the ECMAScript `Number.prototype.toString` form of their IEEE 754 double,
/// and there is no whitespace. The output is UTF-8.
public enum JCS {
    public static func canonicalize(_ value: JSONValue) throws(JCSError) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(512)
        try append(value, to: &out)
        return out
    }

    public static func canonicalString(_ value: JSONValue) throws(JCSError) -> String {
        String(decoding: try canonicalize(value), as: UTF8.self)
    }

    public static func append(_ value: JSONValue, to out: inout [UInt8]) throws(JCSError) {
        switch value {
        case .null: out.append(contentsOf: [0x6E, 0x75, 0x6C, 0x6C])
        case .bool(true): out.append(contentsOf: [0x74, 0x72, 0x75, 0x65])
        case .bool(false): out.append(contentsOf: [0x66, 0x61, 0x6C, 0x73, 0x65])
        case .number(let lexeme): try ECMAScriptNumber.appendCanonical(lexeme: lexeme, to: &out)
        case .string(let text): appendString(text, to: &out)
        case .array(let elements):
            out.append(UInt8(ascii: "["))
            for (position, element) in elements.enumerated() {
                if position > 0 { out.append(UInt8(ascii: ",")) }
                try append(element, to: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .object(let members):
            out.append(UInt8(ascii: "{"))
            let sorted = try sortedMembers(members)
            for (position, member) in sorted.enumerated() {
                if position > 0 { out.append(UInt8(ascii: ",")) }
                appendString(member.key, to: &out)
                out.append(UInt8(ascii: ":"))
                try append(member.value, to: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
    }

    /// Sorted by UTF-16 code units (not Swift's `<`, which compares Unicode scalars after
    /// normalization). Duplicate names, compared as code units, have no canonical form.
    static func sortedMembers(_ members: [JSONMember]) throws(JCSError) -> [JSONMember] {
        if members.count < 2 { return members }
        var sorted = members
        var alreadySorted = true
        for position in 1..<members.count where !utf16Precedes(members[position - 1].key, members[position].key) {
            alreadySorted = false
            break
        }
        if !alreadySorted { sorted.sort { utf16Precedes($0.key, $1.key) } }
        for position in 1..<sorted.count where !utf16Precedes(sorted[position - 1].key, sorted[position].key) {
            throw .duplicateMemberName(sorted[position].key)
        }
        return sorted
    }

    /// UTF-16 code-unit order, computed on UTF-8 bytes without transcoding. The two orders agree
    /// except between U+E000–U+FFFF (UTF-8 lead byte 0xEE/0xEF) and supplementary characters
    /// (lead byte 0xF0–0xF4), which UTF-16 puts first (as surrogates D800–DFFF).
    static func utf16Precedes(_ lhs: String, _ rhs: String) -> Bool {
        let fast = lhs.utf8.withContiguousStorageIfAvailable { a in
            rhs.utf8.withContiguousStorageIfAvailable { b -> Bool in
                let count = min(a.count, b.count)
                var index = 0
                while index < count {
                    let x = a[index]
                    let y = b[index]
                    if x != y {
                        if x >= 0xF0 && (y == 0xEE || y == 0xEF) { return true }
                        if y >= 0xF0 && (x == 0xEE || x == 0xEF) { return false }
                        return x < y
                    }
                    index += 1
                }
                return a.count < b.count
            }
        }
        if let result = fast ?? nil { return result }
        return lhs.utf16.lexicographicallyPrecedes(rhs.utf16)
    }

    /// RFC 8785 §3.2.2.2: `\"`, `\\`, the five short control escapes, `\u00xx` (lower-case hex)
    /// for other controls, everything else as raw UTF-8: exactly what `JSONValue` writes.
    static func appendString(_ text: String, to out: inout [UInt8]) {
        JSONValue.writeString(text, into: &out)
    }
}

public enum JCSError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The lexeme is not a JSON number.
    case invalidNumber(String)
    /// The number is outside the IEEE 754 double range (it would be Infinity), which I-JSON and
    /// RFC 8785 cannot represent.
    case numberOutOfRange(String)
    case duplicateMemberName(String)

    public var description: String {
        switch self {
        case .invalidNumber(let lexeme): "\"\(lexeme)\" is not a JSON number"
        case .numberOutOfRange(let lexeme): "\(lexeme) is outside the IEEE 754 double range"
        case .duplicateMemberName(let name): "duplicate member name \"\(name)\" has no canonical form"
        }
    }
}
