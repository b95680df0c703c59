import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The state directory's writer lock: an exclusive `flock` on `<stateDirectory>/wardgate.lock`,
/// held by `wardgate run` for its lifetime and by every command that changes the state
/// directory for its run. So a second gateway, or a `ledger reanchor` beside a running one,
/// refuses instead of writing under it. Read-only commands never take it (they create nothing).
///
/// The kernel drops the lock when the process exits, however it exits, so a crash leaves no
/// stale lock; the file's text ("pid 123: wardgate run") only names the holder in the refusal.
public final class StateDirectoryLock: Sendable {
    public static let fileName = "wardgate.lock"
    public let path: String
    private let descriptor: Int32

    /// Takes the lock for `holder` (for example "wardgate run"), creating the directory (0700)
    /// and the lock file (0600) as needed; `.locked` names the process that holds it.
    public init(stateDirectory: String, holder: String) throws(JournalError) {
        let path = (stateDirectory as NSString).appendingPathComponent(Self.fileName)
        try JournalFiles.makeDirectory(stateDirectory, path: path)
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, JournalFiles.fileMode)
        guard fd >= 0 else { throw .cannotOpen(path: path, reason: "cannot open the lock file: \(JournalFiles.errnoText())") }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            let failure = errno
            let reason = JournalFiles.errnoText()
            close(fd)
            guard failure == EAGAIN else { throw .cannotOpen(path: path, reason: "cannot lock \(path): \(reason)") }
            let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
            throw .locked(path: path, holder: text.trimmingCharacters(in: .whitespacesAndNewlines))
        }
        let text = Array("pid \(getpid()): \(holder)\n".utf8)
        _ = ftruncate(fd, 0)
        _ = text.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
        self.path = path
        self.descriptor = fd
    }

    deinit { close(descriptor) }
}
