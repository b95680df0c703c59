/// Checks for identifiers that end up in topics, FHIR identifiers and file names.
enum PlainIdentifier {
    /// Starts with a letter or digit; then letters, digits or one of `extra`; at most `maxLength`.
    static func isValid(_ text: String, maxLength: Int, extra: Set<Character>, lowercaseOnly: Bool = false) -> Bool {
        guard let first = text.first, text.count <= maxLength, first.isASCII, first.isLetter || first.isNumber else { return false }
        return text.allSatisfy { c in
            c.isASCII && ((c.isLetter && (!lowercaseOnly || c.isLowercase)) || c.isNumber || extra.contains(c))
        }
    }
}
