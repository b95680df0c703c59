#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The journal holds every reading of the ward: its files are the service user's alone, whatever
/// the umask of whoever starts the gateway (systemd's `UMask=0077`, or a shell's 022 or 000).
///
/// SQLite creates `journal.sqlite` with mode 0644 minus the umask, and gives `-wal` and `-shm`
/// the mode of the database file. So the directory is made 0700 and the database file 0600
/// before SQLite opens it, each chmod'ed after creation (a umask can only take bits away, and a
/// strange one such as 0200 would take the owner's). Files an older version left readable by
/// group or others lose those bits at open. The embedded ledger's file gets the same.
public enum JournalFiles {
    static let directoryMode: mode_t = 0o700
    static let fileMode: mode_t = 0o600

    /// Makes `directory` (0700) and the SQLite file `databasePath` (0600) before SQLite opens it.
    public static func prepare(directory: String, databasePath: String) throws(JournalError) {
        try makeDirectory(directory, path: databasePath)
        let fd = open(databasePath, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, fileMode)
        if fd >= 0 {
            let changed = fchmod(fd, fileMode)
            let reason = changed == 0 ? nil : errnoText()
            close(fd)
            if let reason { throw .cannotOpen(path: databasePath, reason: "cannot make it mode 600: \(reason)") }
        } else if errno != EEXIST {
            throw .cannotOpen(path: databasePath, reason: "cannot create it: \(errnoText())")
        }
        for file in [databasePath, databasePath + "-wal", databasePath + "-shm"] { tighten(file) }
    }

    /// Creates `directory` and any missing parent with mode 0700; an existing one is left as it is.
    static func makeDirectory(_ directory: String, path: String) throws(JournalError) {
        var info = stat()
        if stat(directory, &info) == 0 { return }
        if let slash = directory.lastIndex(of: "/"), slash != directory.startIndex {
            try makeDirectory(String(directory[..<slash]), path: path)
        }
        guard mkdir(directory, directoryMode) == 0 || errno == EEXIST else {
            throw .cannotOpen(path: path, reason: "cannot create the directory \(directory): \(errnoText())")
        }
        guard chmod(directory, directoryMode) == 0 else {
            throw .cannotOpen(path: path, reason: "cannot make the directory \(directory) mode 700: \(errnoText())")
        }
    }

    /// Takes group and other bits off an existing file (best effort: a file of another owner
    /// stays as it is, and SQLite then says what it cannot do).
    private static func tighten(_ file: String) {
        var info = stat()
        guard stat(file, &info) == 0, info.st_mode & 0o077 != 0 else { return }
        _ = chmod(file, info.st_mode & 0o700)
    }

    static func errnoText() -> String { String(cString: strerror(errno)) }
}
