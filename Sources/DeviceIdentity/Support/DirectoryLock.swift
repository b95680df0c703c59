#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// An exclusive advisory lock on a file, so two `wardgate` commands cannot interleave updates of
/// the CA index and CRL.
final class DirectoryLock {
    private let fd: Int32

    init(path: String) throws(IdentityError) {
        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw .fileSystem(path: path, operation: "open lock file", reason: SecureFile.errnoDescription()) }
        while flock(fd, LOCK_EX) != 0 {
            if errno == EINTR { continue }
            let reason = SecureFile.errnoDescription()
            close(fd)
            throw .fileSystem(path: path, operation: "lock", reason: reason)
        }
    }

    deinit {
        flock(fd, LOCK_UN)
        close(fd)
    }
}
