/// Text from a device (topics, device ids, reasons quoting them) cut to a bound before it is
/// logged or kept as a key, so a hostile name cannot amplify the log or memory.
public enum BoundedText {
    /// The longest log field, in UTF-8 bytes, before it is cut.
    public static let maximumLogFieldBytes = 200

    /// The longest prefix of `text` of at most `maxBytes` UTF-8 bytes that ends on a whole scalar.
    public static func prefix(_ text: String, maxBytes: Int) -> String {
        guard text.utf8.count > maxBytes else { return text }
        var bytes = 0
        var end = text.unicodeScalars.startIndex
        for index in text.unicodeScalars.indices {
            let length = UTF8.width(text.unicodeScalars[index])
            if bytes + length > maxBytes { break }
            bytes += length
            end = text.unicodeScalars.index(after: index)
        }
        return String(text.unicodeScalars[..<end])
    }

    /// `text` for a log field: whole when short, else its prefix and how long it was.
    public static func logField(_ text: String) -> String {
        let length = text.utf8.count
        guard length > maximumLogFieldBytes else { return text }
        return prefix(text, maxBytes: maximumLogFieldBytes) + "…(\(length) bytes)"
    }
}
