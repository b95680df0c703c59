/// Failures of the journal. `quotaExceeded` and `storage` mean: do not acknowledge.
public enum JournalError: Error, Sendable, CustomStringConvertible {
    case quotaExceeded(usedBytes: Int64, maxBytes: Int64)
    case storage(String)
    case cannotOpen(path: String, reason: String)
    /// A module used the journal for its tables, but the journal was opened without them.
    case missingTables(owner: String)

    public var description: String {
        switch self {
        case .quotaExceeded(let used, let max): "journal quota exhausted: \(used) of \(max) bytes used"
        case .storage(let reason): "journal write failed: \(reason)"
        case .cannotOpen(let path, let reason): "cannot open the journal \(path): \(reason)"
        case .missingTables(let owner): "the journal was opened without the tables of the \(owner)"
        }
    }
}
