import SigningKeys

/// SigningKeys' file primitives as the identity code calls them: the same operations (see
/// `SigningKeys.SecureFile`), failing with `IdentityError`, whose file cases have the same names
/// and messages as `KeyFileError`'s.
enum SecureFile {
    static func exists(_ path: String) -> Bool { SigningKeys.SecureFile.exists(path) }

    static func errnoDescription() -> String { SigningKeys.SecureFile.errnoDescription() }

    static func writeAtomically(_ bytes: [UInt8], to path: String, mode: UInt32) throws(IdentityError) {
        try IdentityError.mapping { () throws(KeyFileError) in try SigningKeys.SecureFile.writeAtomically(bytes, to: path, mode: mode) }
    }

    static func createExclusively(_ bytes: [UInt8], at path: String, mode: UInt32) throws(IdentityError) {
        try IdentityError.mapping { () throws(KeyFileError) in try SigningKeys.SecureFile.createExclusively(bytes, at: path, mode: mode) }
    }

    /// `inspect` sees the fstat of the opened descriptor and may refuse the file (see `SecretFile`).
    static func read(
        _ path: String, inspect: (FileFingerprint) throws(IdentityError) -> Void = { _ throws(IdentityError) in }
    ) throws(IdentityError) -> [UInt8] {
        var refusal: IdentityError?
        do {
            return try SigningKeys.SecureFile.read(path) { fingerprint throws(KeyFileError) in
                do throws(IdentityError) {
                    try inspect(fingerprint)
                } catch {
                    refusal = error
                    throw .malformedFile(path: path, reason: error.description)
                }
            }
        } catch {
            throw refusal ?? IdentityError(error)
        }
    }

    static func readText(_ path: String) throws(IdentityError) -> String {
        try IdentityError.mapping { () throws(KeyFileError) in try SigningKeys.SecureFile.readText(path) }
    }

    static func makeDirectory(_ path: String, mode: UInt32 = 0o700) throws(IdentityError) {
        try IdentityError.mapping { () throws(KeyFileError) in try SigningKeys.SecureFile.makeDirectory(path, mode: mode) }
    }

    static func remove(_ path: String) { SigningKeys.SecureFile.remove(path) }

    static func directoryEntries(_ path: String) -> [String] { SigningKeys.SecureFile.directoryEntries(path) }

    static func parentDirectory(of path: String) -> String { SigningKeys.SecureFile.parentDirectory(of: path) }

    static func join(_ base: String, _ parts: String...) -> String {
        parts.reduce(base) { SigningKeys.SecureFile.join($0, $1) }
    }
}
