/// ECMAScript `Number.prototype.toString()` of the IEEE 754 double nearest a JSON number, as
/// RFC 8785 §3.2.2.3 requires (ECMA-262 §6.1.6.1.20).
///
/// Most numbers a device sends have at most 15 significant digits. Every such decimal maps to a
/// different double (DBL_DIG is 15), so the shortest digits that round-trip are the lexeme's own
/// digits without leading and trailing zeros, and only their layout needs computing: no `Double`
/// parse and no digit generation. Other numbers go through `Double` and Swift's shortest
/// round-trip `description`, whose digits are the ones ECMAScript asks for.
public enum CanonicalNumber {
    public enum Failure: Error, Sendable, Hashable {
        /// The text is not an RFC 8259 number.
        case invalidNumber
        /// The number is beyond the double range (it would be Infinity, or it is NaN).
        case outOfRange
    }

    /// Appends the canonical form of the RFC 8259 number `lexeme`.
    public static func append(lexeme: String, to out: inout [UInt8]) throws(Failure) {
        var text = lexeme
        let handled = text.withUTF8 { bytes -> Bool? in
            guard let parts = Parts(bytes) else { return nil }
            return appendShort(parts, to: &out)
        }
        switch handled {
        case nil: throw .invalidNumber
        case true?: return
        case false?:
            guard let value = Double(lexeme) else { throw .invalidNumber }
            try append(value, to: &out)
        }
    }

    /// The canonical form of `lexeme` as a String.
    public static func canonical(lexeme: String) throws(Failure) -> String {
        var out: [UInt8] = []
        try append(lexeme: lexeme, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// Appends the canonical form of a finite double.
    public static func append(_ value: Double, to out: inout [UInt8]) throws(Failure) {
        guard value.isFinite else { throw .outOfRange }
        if value == 0 {  // +0 and -0
            out.append(UInt8(ascii: "0"))
            return
        }
        if value < 0 { out.append(UInt8(ascii: "-")) }
        var text = value.magnitude.description
        text.withUTF8 { description in
            var digits = DigitBuffer()
            let n = digits.read(description: description)
            layOut(digits, n: n, to: &out)
        }
    }

    /// The fast path: true when `parts` had at most 15 significant digits and a normal exponent.
    static func appendShort(_ parts: Parts, to out: inout [UInt8]) -> Bool {
        var digits = DigitBuffer()
        guard let n = parts.significantDigits(into: &digits) else { return false }
        if digits.count == 0 {
            out.append(UInt8(ascii: "0"))
            return true
        }
        if parts.negative { out.append(UInt8(ascii: "-")) }
        layOut(digits, n: n, to: &out)
        return true
    }

    /// ECMA-262 §6.1.6.1.20 steps 5–9 for value = 0.d₁…d_k × 10ⁿ.
    static func layOut(_ digits: DigitBuffer, n: Int, to out: inout [UInt8]) {
        let k = digits.count
        let zero = UInt8(ascii: "0")
        if k <= n && n <= 21 {
            digits.append(0..<k, to: &out)
            out.append(contentsOf: repeatElement(zero, count: n - k))
        } else if 0 < n && n <= 21 {
            digits.append(0..<n, to: &out)
            out.append(UInt8(ascii: "."))
            digits.append(n..<k, to: &out)
        } else if -6 < n && n <= 0 {
            out.append(zero)
            out.append(UInt8(ascii: "."))
            out.append(contentsOf: repeatElement(zero, count: -n))
            digits.append(0..<k, to: &out)
        } else {
            digits.append(0..<1, to: &out)
            if k > 1 {
                out.append(UInt8(ascii: "."))
                digits.append(1..<k, to: &out)
            }
            out.append(UInt8(ascii: "e"))
            let exponent = n - 1
            out.append(exponent < 0 ? UInt8(ascii: "-") : UInt8(ascii: "+"))
            appendDecimal(exponent.magnitude, to: &out)
        }
    }

    static func appendDecimal(_ value: UInt, to out: inout [UInt8]) {
        if value >= 10 { appendDecimal(value / 10, to: &out) }
        out.append(UInt8(ascii: "0") + UInt8(value % 10))
    }

    /// At most 17 significant digits (a double never needs more), kept without heap allocation.
    struct DigitBuffer {
        private var storage: (UInt64, UInt64, UInt64) = (0, 0, 0)
        private(set) var count = 0

        /// false when full.
        mutating func push(_ digit: UInt8) -> Bool {
            guard count < 24 else { return false }
            withUnsafeMutableBytes(of: &storage) { $0[count] = digit }
            count += 1
            return true
        }

        mutating func dropTrailingZeros() {
            while count > 0, self[count - 1] == UInt8(ascii: "0") { count -= 1 }
        }

        subscript(position: Int) -> UInt8 {
            withUnsafeBytes(of: storage) { $0[position] }
        }

        func append(_ range: Range<Int>, to out: inout [UInt8]) {
            withUnsafeBytes(of: storage) { out.append(contentsOf: $0[range]) }
        }

        /// Reads Swift's `description` of a positive finite double ("1e-07", "1.5e+300", "123.25")
        /// into its significant digits; returns n with value = 0.digits × 10ⁿ.
        mutating func read(description text: UnsafeBufferPointer<UInt8>) -> Int {
            var digitsBeforePoint = 0
            var seenPoint = false
            var seenNonZero = false
            var leadingZerosAfterPoint = 0
            var exponent = 0
            var index = 0
            while index < text.count {
                let c = text[index]
                if c == UInt8(ascii: ".") {
                    seenPoint = true
                } else if c == UInt8(ascii: "e") || c == UInt8(ascii: "E") {
                    exponent = Self.exponent(text, from: index + 1)
                    break
                } else if !seenNonZero && c == UInt8(ascii: "0") {
                    if seenPoint { leadingZerosAfterPoint += 1 }
                } else {
                    seenNonZero = true
                    _ = push(c)
                    if !seenPoint { digitsBeforePoint += 1 }
                }
                index += 1
            }
            dropTrailingZeros()
            return digitsBeforePoint - leadingZerosAfterPoint + exponent
        }

        private static func exponent(_ text: UnsafeBufferPointer<UInt8>, from start: Int) -> Int {
            var index = start
            var sign = 1
            if index < text.count, text[index] == UInt8(ascii: "-") || text[index] == UInt8(ascii: "+") {
                sign = text[index] == UInt8(ascii: "-") ? -1 : 1
                index += 1
            }
            var magnitude = 0
            while index < text.count {
                magnitude = magnitude * 10 + Int(text[index] &- UInt8(ascii: "0"))
                index += 1
            }
            return sign * magnitude
        }
    }

    /// A lexeme split by the RFC 8259 grammar -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
    struct Parts {
        let negative: Bool
        let integer: Slice<UnsafeBufferPointer<UInt8>>
        let fraction: Slice<UnsafeBufferPointer<UInt8>>
        /// nil when the exponent has more digits than any double needs (the slow path decides).
        let exponent: Int?

        /// nil when `bytes` is not a JSON number.
        init?(_ bytes: UnsafeBufferPointer<UInt8>) {
            var i = 0
            func isDigit(_ at: Int) -> Bool { at < bytes.count && bytes[at] >= 0x30 && bytes[at] <= 0x39 }
            negative = i < bytes.count && bytes[i] == UInt8(ascii: "-")
            if negative { i += 1 }
            guard isDigit(i) else { return nil }
            let integerStart = i
            if bytes[i] == UInt8(ascii: "0") {
                i += 1
            } else {
                while isDigit(i) { i += 1 }
            }
            integer = bytes[integerStart..<i]
            if i < bytes.count && bytes[i] == UInt8(ascii: ".") {
                i += 1
                guard isDigit(i) else { return nil }
                let fractionStart = i
                while isDigit(i) { i += 1 }
                fraction = bytes[fractionStart..<i]
            } else {
                fraction = bytes[i..<i]
            }
            var exponentValue: Int? = 0
            if i < bytes.count && (bytes[i] == UInt8(ascii: "e") || bytes[i] == UInt8(ascii: "E")) {
                i += 1
                var sign = 1
                if i < bytes.count && (bytes[i] == UInt8(ascii: "+") || bytes[i] == UInt8(ascii: "-")) {
                    sign = bytes[i] == UInt8(ascii: "-") ? -1 : 1
                    i += 1
                }
                guard isDigit(i) else { return nil }
                var magnitude = 0
                while isDigit(i) {
                    if magnitude < 100_000 { magnitude = magnitude * 10 + Int(bytes[i] - 0x30) } else { exponentValue = nil }
                    i += 1
                }
                exponentValue = exponentValue.map { _ in sign * magnitude }
            }
            exponent = exponentValue
            guard i == bytes.count else { return nil }
        }

        /// The digits without leading and trailing zeros, and n with value = 0.digits × 10ⁿ; nil
        /// when there are more than 15 of them or n is outside the normal double range, so the
        /// double nearest the number may not have these digits as its shortest form.
        func significantDigits(into digits: inout DigitBuffer) -> Int? {
            guard let exponent else { return nil }
            var n = integer.count + exponent
            var started = false
            for part in [integer, fraction] {
                for byte in part {
                    if !started && byte == UInt8(ascii: "0") {
                        n -= 1  // a leading zero: the point moves one digit left of the first significant one
                        continue
                    }
                    started = true
                    guard digits.push(byte) else { return nil }
                }
            }
            digits.dropTrailingZeros()
            if digits.count == 0 { return 0 }
            // Normal doubles span about 2.2e-308 to 1.8e308: stay well inside, where 15 digits round-trip.
            guard digits.count <= 15, n > -300, n < 300 else { return nil }
            return n
        }
    }
}
