/// RFC 6901 JSON Pointer, as device profiles use to say where a metric sits in a payload.
public struct JSONPointer: Sendable, Hashable, CustomStringConvertible {
    public let tokens: [String]
    public let description: String

    /// Parses `/a/b~1c/0`; returns nil for text that is not a pointer.
    public init?(_ text: String) {
        guard text.isEmpty || text.hasPrefix("/") else { return nil }
        var tokens: [String] = []
        for raw in text.split(separator: "/", omittingEmptySubsequences: false).dropFirst() {
            var token = ""
            var chars = raw.makeIterator()
            while let c = chars.next() {
                if c == "~" {
                    switch chars.next() {
                    case "0": token.append("~")
                    case "1": token.append("/")
                    default: return nil
                    }
                } else {
                    token.append(c)
                }
            }
            tokens.append(token)
        }
        self.tokens = tokens
        self.description = text
    }

    public func resolve(in document: JSONValue) -> JSONValue? {
        var node = document
        for token in tokens {
            switch node {
            case .object(let members):
                guard let next = members.first(where: { $0.key == token })?.value else { return nil }
                node = next
            case .array(let elements):
                guard token == "0" || (token.first != "0" && !token.isEmpty),
                    let i = Int(token), i >= 0, i < elements.count
                else { return nil }
                node = elements[i]
            default:
                return nil
            }
        }
        return node
    }
}
