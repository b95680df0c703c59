import GRDB

/// Failures of the journal. `quotaExceeded`, `storage` and `corrupt` mean: do not acknowledge.
public enum JournalError: Error, Sendable, CustomStringConvertible {
    case quotaExceeded(usedBytes: Int64, maxBytes: Int64)
    case storage(String)
    case cannotOpen(path: String, reason: String)
    /// A read-only command was pointed at a state directory with no journal in it.
    case missing(path: String)
    /// SQLite found the file damaged (`quick_check`, or SQLITE_CORRUPT/SQLITE_NOTADB on a read
    /// or write). Nothing more is acknowledged until the file is recovered.
    case corrupt(path: String, detail: String)
    /// A module used the journal for its tables, but the journal was opened without them.
    case missingTables(owner: String)
    /// Another process (`holder`, as its lock file says) holds the state directory's lock.
    case locked(path: String, holder: String)

    public var description: String {
        switch self {
        case .quotaExceeded(let used, let max): "journal quota exhausted: \(used) of \(max) bytes used"
        case .storage(let reason): "journal write failed: \(reason)"
        case .cannotOpen(let path, let reason): "cannot open the journal \(path): \(reason)"
        case .missing(let path): "there is no journal at \(path) (nothing was created; check stateDirectory in the configuration)"
        case .corrupt(let path, let detail):
            "the journal \(path) is corrupt: \(detail). Stop the gateway, keep a copy of the file and its -wal, and follow "
                + "\"Faults and recovery\" in docs/deployment.md (`wardgate journal check` shows the damage)"
        case .missingTables(let owner): "the journal was opened without the tables of the \(owner)"
        case .locked(let path, let holder):
            "the state directory is in use: \(holder.isEmpty ? "another process" : holder) holds \(path). Stop the gateway first "
                + "(systemctl stop wardgate), then run this again"
        }
    }

    /// Whether SQLite says the file itself is damaged (not busy, full or refused).
    static func isCorruption(_ error: any Error) -> Bool {
        guard let error = error as? DatabaseError else { return false }
        return error.resultCode == .SQLITE_CORRUPT || error.resultCode == .SQLITE_NOTADB
    }

    /// An error from opening `path`: corruption as `.corrupt`, anything else as `.cannotOpen`.
    static func opening(path: String, _ error: any Error) -> JournalError {
        if let error = error as? JournalError { return error }
        return isCorruption(error) ? .corrupt(path: path, detail: "\(error)") : .cannotOpen(path: path, reason: "\(error)")
    }
}
