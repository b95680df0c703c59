/// ECMAScript `Number.prototype.toString()` (ECMA-262 §7.1.12.1 / 6.1.6.1.20) for IEEE 754
/// doubles, as RFC 8785 §3.2.2.3 requires.
///
/// The digits come from Swift's `Double.description`, which prints the shortest digit string that
/// round-trips and, among those, the one closest to the exact value: the same digits ECMAScript
/// asks for. Only the layout (plain vs. exponent form, where the point goes) differs, and that is
/// what this type does.
public enum ECMAScriptNumber {
    /// Canonical text of a JSON number lexeme (e.g. "1E3" → "1000", "-0" → "0").
    public static func canonical(lexeme: String) throws(JCSError) -> String {
        var out: [UInt8] = []
        try appendCanonical(lexeme: lexeme, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    public static func canonical(_ value: Double) throws(JCSError) -> String {
        var out: [UInt8] = []
        try append(value, to: &out, lexemeForErrors: String(value))
        return String(decoding: out, as: UTF8.self)
    }

    static func appendCanonical(lexeme: String, to out: inout [UInt8]) throws(JCSError) {
        // JSONValue numbers normally come from JSONParser, but a caller can build `.number("NaN")`;
        // Swift's Double(String) would also accept "inf", "0x1p3", "+1", so check the grammar first.
        guard isJSONNumber(lexeme), let value = Double(lexeme) else { throw .invalidNumber(lexeme) }
        try append(value, to: &out, lexemeForErrors: lexeme)
    }

    static func append(_ value: Double, to out: inout [UInt8], lexemeForErrors: String) throws(JCSError) {
        guard value.isFinite else { throw .numberOutOfRange(lexemeForErrors) }
        if value == 0 {  // both +0 and -0
            out.append(UInt8(ascii: "0"))
            return
        }
        if value < 0 { out.append(UInt8(ascii: "-")) }
        let (digits, n) = decimalDigits(of: value.magnitude)
        let k = digits.count
        let zero = UInt8(ascii: "0")
        if k <= n && n <= 21 {
            // Integer: digits then n−k zeros.
            out.append(contentsOf: digits)
            out.append(contentsOf: repeatElement(zero, count: n - k))
        } else if 0 < n && n <= 21 {
            out.append(contentsOf: digits[0..<n])
            out.append(UInt8(ascii: "."))
            out.append(contentsOf: digits[n...])
        } else if -6 < n && n <= 0 {
            out.append(contentsOf: [zero, UInt8(ascii: ".")])
            out.append(contentsOf: repeatElement(zero, count: -n))
            out.append(contentsOf: digits)
        } else {
            out.append(digits[0])
            if k > 1 {
                out.append(UInt8(ascii: "."))
                out.append(contentsOf: digits[1...])
            }
            out.append(UInt8(ascii: "e"))
            let exponent = n - 1
            out.append(exponent < 0 ? UInt8(ascii: "-") : UInt8(ascii: "+"))
            out.append(contentsOf: String(abs(exponent)).utf8)
        }
    }

    /// The shortest round-trip digits d₁…d_k (no leading or trailing zeros) and n such that
    /// value = 0.d₁…d_k × 10ⁿ, read off Swift's description ("1e-07", "1.5e+300", "123.25").
    static func decimalDigits(of positive: Double) -> (digits: [UInt8], n: Int) {
        let text = Array(positive.description.utf8)
        var digits: [UInt8] = []
        digits.reserveCapacity(17)
        var digitsBeforePoint = 0
        var seenPoint = false
        var exponent = 0
        var index = 0
        while index < text.count {
            let c = text[index]
            if c == UInt8(ascii: ".") {
                seenPoint = true
            } else if c == UInt8(ascii: "e") || c == UInt8(ascii: "E") {
                var sign = 1
                index += 1
                if index < text.count, text[index] == UInt8(ascii: "-") || text[index] == UInt8(ascii: "+") {
                    sign = text[index] == UInt8(ascii: "-") ? -1 : 1
                    index += 1
                }
                var magnitude = 0
                while index < text.count {
                    magnitude = magnitude * 10 + Int(text[index] &- UInt8(ascii: "0"))
                    index += 1
                }
                exponent = sign * magnitude
                break
            } else {
                digits.append(c)
                if !seenPoint { digitsBeforePoint += 1 }
            }
            index += 1
        }
        var n = digitsBeforePoint + exponent
        var leading = 0
        while leading < digits.count - 1 && digits[leading] == UInt8(ascii: "0") { leading += 1 }
        n -= leading
        var end = digits.count
        while end > leading + 1 && digits[end - 1] == UInt8(ascii: "0") { end -= 1 }
        return (Array(digits[leading..<end]), n)
    }

    /// RFC 8259 number grammar: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
    static func isJSONNumber(_ lexeme: String) -> Bool {
        let bytes = Array(lexeme.utf8)
        var i = 0
        func digit(_ at: Int) -> Bool { at < bytes.count && bytes[at] >= 0x30 && bytes[at] <= 0x39 }
        if i < bytes.count && bytes[i] == UInt8(ascii: "-") { i += 1 }
        guard digit(i) else { return false }
        if bytes[i] == UInt8(ascii: "0") {
            i += 1
        } else {
            while digit(i) { i += 1 }
        }
        if i < bytes.count && bytes[i] == UInt8(ascii: ".") {
            i += 1
            guard digit(i) else { return false }
            while digit(i) { i += 1 }
        }
        if i < bytes.count && (bytes[i] == UInt8(ascii: "e") || bytes[i] == UInt8(ascii: "E")) {
            i += 1
            if i < bytes.count && (bytes[i] == UInt8(ascii: "+") || bytes[i] == UInt8(ascii: "-")) { i += 1 }
            guard digit(i) else { return false }
            while digit(i) { i += 1 }
        }
        return i == bytes.count
    }
}
