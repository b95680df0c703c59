/// ECMAScript `Number.prototype.toString()` (ECMA-262 §7.1.12.1 / 6.1.6.1.20) for IEEE 754
/// doubles, as RFC 8785 §3.2.2.3 requires. The work is done by `CanonicalNumber`;
/// this keeps JCS's error type.
public enum ECMAScriptNumber {
    /// Canonical text of a JSON number lexeme (e.g. "1E3" → "1000", "-0" → "0").
    public static func canonical(lexeme: String) throws(JCSError) -> String {
        var out: [UInt8] = []
        try appendCanonical(lexeme: lexeme, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    public static func canonical(_ value: Double) throws(JCSError) -> String {
        var out: [UInt8] = []
        do {
            try CanonicalNumber.append(value, to: &out)
        } catch {
            throw .numberOutOfRange(String(value))
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func appendCanonical(lexeme: String, to out: inout [UInt8]) throws(JCSError) {
        do {
            try CanonicalNumber.append(lexeme: lexeme, to: &out)
        } catch .invalidNumber {
            throw .invalidNumber(lexeme)
        } catch {
            throw .numberOutOfRange(lexeme)
        }
    }
}
