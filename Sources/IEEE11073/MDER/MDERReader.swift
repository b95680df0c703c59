/// A bounds-checked big-endian reader over one APDU.
///
/// Every read checks the remaining byte count first, so no length field can make it read past
/// its window or allocate more than the input holds. Sub-readers (`window`) share the same
/// work counter, so the total work of a decode is bounded by the input size: the fuzz tests
/// assert that bound instead of a clock.
public struct MDERReader {
    /// Counts read operations across all windows of one decode.
    final class WorkCounter {
        var steps = 0
        let budget: Int
        init(budget: Int) { self.budget = budget }
    }

    let bytes: [UInt8]
    private(set) var position: Int
    let end: Int
    /// Structure path used in error messages.
    let path: String
    let counter: WorkCounter

    /// Work allowed per input byte: each read consumes at least one byte, so this is generous.
    package static let stepsPerByte = 4
    package static let baseSteps = 64

    public init(_ bytes: [UInt8], path: String = "apdu") {
        self.bytes = bytes
        self.position = 0
        self.end = bytes.count
        self.path = path
        self.counter = WorkCounter(budget: bytes.count * Self.stepsPerByte + Self.baseSteps)
    }

    private init(bytes: [UInt8], position: Int, end: Int, path: String, counter: WorkCounter) {
        self.bytes = bytes
        self.position = position
        self.end = end
        self.path = path
        self.counter = counter
    }

    public var remaining: Int { end - position }
    public var isAtEnd: Bool { position == end }
    public var offset: Int { position }
    /// Read operations so far in this decode (all windows).
    public var workSteps: Int { counter.steps }

    func error(_ kind: DecodeError.Kind, _ field: String, _ detail: String) -> DecodeError {
        DecodeError(kind, field: Self.join(path, field), offset: position, detail: detail)
    }

    /// `a.b`, or `a[1]` for list elements.
    static func join(_ path: String, _ field: String) -> String {
        if path.isEmpty { return field }
        return field.hasPrefix("[") ? path + field : "\(path).\(field)"
    }

    private func step(_ field: String) throws(DecodeError) {
        counter.steps += 1
        if counter.steps > counter.budget {
            throw error(.workBudgetExceeded, field, "decoder exceeded \(counter.budget) steps")
        }
    }

    private func need(_ count: Int, _ field: String) throws(DecodeError) {
        try step(field)
        guard count <= remaining else {
            throw error(.truncated, field, "needs \(count) byte\(count == 1 ? "" : "s") but \(remaining) remain")
        }
    }

    public mutating func u8(_ field: String) throws(DecodeError) -> UInt8 {
        try need(1, field)
        defer { position += 1 }
        return bytes[position]
    }

    public mutating func u16(_ field: String) throws(DecodeError) -> UInt16 {
        try need(2, field)
        defer { position += 2 }
        return UInt16(bytes[position]) << 8 | UInt16(bytes[position + 1])
    }

    public mutating func u32(_ field: String) throws(DecodeError) -> UInt32 {
        try need(4, field)
        defer { position += 4 }
        return UInt32(bytes[position]) << 24 | UInt32(bytes[position + 1]) << 16
            | UInt32(bytes[position + 2]) << 8 | UInt32(bytes[position + 3])
    }

    public mutating func bytes(_ count: Int, _ field: String) throws(DecodeError) -> [UInt8] {
        try need(count, field)
        defer { position += count }
        return Array(bytes[position..<position + count])
    }

    /// OCTET STRING: a 16-bit length and that many bytes.
    public mutating func octetString(_ field: String) throws(DecodeError) -> [UInt8] {
        let length = try u16("\(field).length")
        guard Int(length) <= remaining else {
            throw error(.lengthMismatch, field, "length \(length) but \(remaining) bytes remain")
        }
        return try bytes(Int(length), field)
    }

    /// Consumes `length` bytes and returns a reader confined to them.
    public mutating func window(_ length: Int, _ field: String) throws(DecodeError) -> MDERReader {
        try step(field)
        guard length <= remaining else {
            throw error(.lengthMismatch, field, "length \(length) but \(remaining) bytes remain")
        }
        let sub = MDERReader(
            bytes: bytes, position: position, end: position + length,
            path: Self.join(path, field), counter: counter)
        position += length
        return sub
    }

    /// Reads a 16-bit length and returns a window over exactly that many bytes.
    public mutating func lengthPrefixedWindow(_ field: String) throws(DecodeError) -> MDERReader {
        let length = try u16("\(field).length")
        return try window(Int(length), field)
    }

    /// Fails unless every byte of this window was consumed.
    public func finish(_ field: String) throws(DecodeError) {
        guard isAtEnd else {
            throw error(.trailingBytes, field, "\(remaining) byte\(remaining == 1 ? "" : "s") left after the structure ended")
        }
    }

    /// Decodes a MDER list: `count` (16 bits), `length` (16 bits), then `count` elements filling
    /// exactly `length` bytes. `minimumElementSize` rejects absurd counts before looping.
    public mutating func list<Element>(
        _ field: String, minimumElementSize: Int,
        element: (inout MDERReader, Int) throws(DecodeError) -> Element
    ) throws(DecodeError) -> [Element] {
        let count = Int(try u16("\(field).count"))
        let length = Int(try u16("\(field).length"))
        guard length <= remaining else {
            throw error(.lengthMismatch, field, "length \(length) but \(remaining) bytes remain")
        }
        guard count * minimumElementSize <= length else {
            throw error(.countMismatch, field,
                "count \(count) needs at least \(count * minimumElementSize) bytes but length is \(length)")
        }
        var content = try window(length, field)
        var elements: [Element] = []
        elements.reserveCapacity(count)
        for index in 0..<count {
            do {
                elements.append(try element(&content, index))
            } catch {
                if error.kind == .truncated {
                    throw DecodeError(.countMismatch, field: error.field, offset: error.offset,
                        detail: "count \(count) does not fit length \(length): element \(index) \(error.detail)")
                }
                throw error
            }
        }
        guard content.isAtEnd else {
            throw content.error(.countMismatch, field,
                "count \(count) elements used \(length - content.remaining) of \(length) bytes")
        }
        return elements
    }
}
