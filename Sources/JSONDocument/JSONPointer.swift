/// RFC 6901 JSON Pointer, as device profiles use to say where a metric sits in a payload.
public struct JSONPointer: Sendable, Hashable, CustomStringConvertible {
    public let tokens: [String]
    public let description: String

    /// Parses `/a/b~1c/0`; returns nil for text that is not a pointer.
    ///
    /// Works on Unicode scalars, not Characters: a '/' or '~' followed by a combining mark is one
    /// Swift Character but still a separator or an escape to RFC 6901.
    public init?(_ text: String) {
        guard text.isEmpty || text.unicodeScalars.first == "/" else { return nil }
        var tokens: [String] = []
        for raw in text.unicodeScalars.split(separator: "/", omittingEmptySubsequences: false).dropFirst() {
            var token = String.UnicodeScalarView()
            var scalars = raw.makeIterator()
            while let c = scalars.next() {
                if c == "~" {
                    switch scalars.next() {
                    case "0": token.append("~")
                    case "1": token.append("/")
                    default: return nil
                    }
                } else {
                    token.append(c)
                }
            }
            tokens.append(String(token))
        }
        self.tokens = tokens
        self.description = text
    }

    public func resolve(in document: JSONValue) -> JSONValue? {
        var node = document
        for token in tokens {
            switch node {
            case .object(let members):
                // RFC 6901 §4: names are equal when their code points are, with no Unicode normalization.
                guard let next = members.first(where: { $0.key.unicodeScalars.elementsEqual(token.unicodeScalars) })?.value
                else { return nil }
                node = next
            case .array(let elements):
                // RFC 6901 §4: "0" or a non-zero ASCII digit then ASCII digits; no sign, no leading zero.
                let digits = token.utf8
                guard let first = digits.first, digits.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }),
                    first != UInt8(ascii: "0") || digits.count == 1,
                    let i = Int(token), i < elements.count
                else { return nil }
                node = elements[i]
            default:
                return nil
            }
        }
        return node
    }
}
