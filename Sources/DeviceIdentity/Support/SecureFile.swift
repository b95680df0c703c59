#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import HexEncoding

/// The C `read`, reachable from inside `SecureFile` whose own `read` shadows it.
private func systemRead(_ fd: Int32, _ buffer: UnsafeMutableRawPointer, _ count: Int) -> Int {
    read(fd, buffer, count)
}

/// What `stat` says about a file, enough to notice that it changed (including a chmod, which
/// moves ctime but not mtime) and to police key-file permissions.
struct FileFingerprint: Sendable, Hashable {
    var device: UInt64
    var inode: UInt64
    var size: Int64
    var modificationNanoseconds: Int64
    var changeNanoseconds: Int64
    var mode: UInt32

    var isRegularFile: Bool { mode & UInt32(S_IFMT) == UInt32(S_IFREG) }
    var isDirectory: Bool { mode & UInt32(S_IFMT) == UInt32(S_IFDIR) }
    var permissions: UInt32 { mode & 0o7777 }

    init(_ info: stat) {
        device = UInt64(info.st_dev)
        inode = UInt64(info.st_ino)
        size = Int64(info.st_size)
        mode = UInt32(info.st_mode)
        #if canImport(Darwin)
        modificationNanoseconds = Int64(info.st_mtimespec.tv_sec) * 1_000_000_000 + Int64(info.st_mtimespec.tv_nsec)
        changeNanoseconds = Int64(info.st_ctimespec.tv_sec) * 1_000_000_000 + Int64(info.st_ctimespec.tv_nsec)
        #else
        modificationNanoseconds = Int64(info.st_mtim.tv_sec) * 1_000_000_000 + Int64(info.st_mtim.tv_nsec)
        changeNanoseconds = Int64(info.st_ctim.tv_sec) * 1_000_000_000 + Int64(info.st_ctim.tv_nsec)
        #endif
    }

    /// nil when the path does not exist (or cannot be examined).
    static func of(_ path: String) -> FileFingerprint? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return FileFingerprint(info)
    }
}

/// File primitives with the guarantees the keystore needs: atomic replacement, files created with
/// their final mode (no moment where a key is world-readable), bounded reads of regular files.
enum SecureFile {
    /// Nothing this module reads (PEM keys, certificates, CRLs, the index) is anywhere near this.
    static let maximumReadSize = 16 << 20

    static func exists(_ path: String) -> Bool { FileFingerprint.of(path) != nil }

    static func errnoDescription(_ code: Int32 = errno) -> String { String(cString: strerror(code)) }

    /// Writes `bytes` to a temporary file created with `mode` (O_EXCL, so never an existing file),
    /// fsyncs it and renames it over `path`. Readers see the old or the new content, never a mix.
    static func writeAtomically(_ bytes: [UInt8], to path: String, mode: UInt32) throws(IdentityError) {
        let temporary = "\(path).tmp-\(Hex.encode((0..<6).map { _ in UInt8.random(in: 0...255) }))"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode_t(mode))
        guard fd >= 0 else { throw .fileSystem(path: temporary, operation: "create", reason: errnoDescription()) }
        var closed = false
        defer {
            if !closed { close(fd) }
        }
        do throws(IdentityError) {
            try writeAll(bytes, to: fd, path: temporary)
            guard fsync(fd) == 0 else { throw .fileSystem(path: temporary, operation: "sync", reason: errnoDescription()) }
            closed = true
            guard close(fd) == 0 else { throw .fileSystem(path: temporary, operation: "close", reason: errnoDescription()) }
            guard rename(temporary, path) == 0 else {
                throw .fileSystem(path: path, operation: "replace", reason: errnoDescription())
            }
        } catch {
            unlink(temporary)
            throw error
        }
    }

    /// Creates `path` exclusively (fails if it exists) with `mode`.
    static func createExclusively(_ bytes: [UInt8], at path: String, mode: UInt32) throws(IdentityError) {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode_t(mode))
        guard fd >= 0 else {
            if errno == EEXIST { throw .alreadyExists(path: path) }
            throw .fileSystem(path: path, operation: "create", reason: errnoDescription())
        }
        defer { close(fd) }
        do throws(IdentityError) {
            try writeAll(bytes, to: fd, path: path)
            guard fsync(fd) == 0 else { throw .fileSystem(path: path, operation: "sync", reason: errnoDescription()) }
        } catch {
            unlink(path)
            throw error
        }
    }

    private static func writeAll(_ bytes: [UInt8], to fd: Int32, path: String) throws(IdentityError) {
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes { buffer in
                write(fd, buffer.baseAddress! + offset, buffer.count - offset)
            }
            if written < 0 {
                if errno == EINTR { continue }
                throw .fileSystem(path: path, operation: "write", reason: errnoDescription())
            }
            offset += written
        }
    }

    /// Reads a whole regular file. `inspect` sees the fstat of the opened descriptor, so a
    /// permission check applies to exactly the file that is read (no check-then-open race).
    static func read(
        _ path: String,
        inspect: (FileFingerprint) throws(IdentityError) -> Void = { _ throws(IdentityError) in }
    ) throws(IdentityError) -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            if errno == ENOENT { throw .fileNotFound(path: path) }
            throw .fileSystem(path: path, operation: "open", reason: errnoDescription())
        }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw .fileSystem(path: path, operation: "examine", reason: errnoDescription()) }
        let fingerprint = FileFingerprint(info)
        guard fingerprint.isRegularFile else { throw .malformedFile(path: path, reason: "not a regular file") }
        guard fingerprint.size <= maximumReadSize else {
            throw .malformedFile(path: path, reason: "larger than \(maximumReadSize) bytes")
        }
        try inspect(fingerprint)
        var out = [UInt8](repeating: 0, count: Int(fingerprint.size))
        var total = 0
        while true {
            if total == out.count { out.append(contentsOf: repeatElement(0, count: 4096)) }
            let count = out.withUnsafeMutableBytes { buffer in
                systemRead(fd, buffer.baseAddress! + total, buffer.count - total)
            }
            if count < 0 {
                if errno == EINTR { continue }
                throw .fileSystem(path: path, operation: "read", reason: errnoDescription())
            }
            if count == 0 { break }
            total += count
            guard total <= maximumReadSize else { throw .malformedFile(path: path, reason: "larger than \(maximumReadSize) bytes") }
        }
        out.removeSubrange(total...)
        return out
    }

    static func readText(_ path: String) throws(IdentityError) -> String {
        let bytes = try read(path)
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw .malformedFile(path: path, reason: "not UTF-8 text")
        }
        return text
    }

    /// Creates a directory (and missing parents) with mode 0700 for new levels.
    static func makeDirectory(_ path: String, mode: UInt32 = 0o700) throws(IdentityError) {
        if let existing = FileFingerprint.of(path) {
            guard existing.isDirectory else { throw .fileSystem(path: path, operation: "use as a directory", reason: "it is not a directory") }
            return
        }
        let parent = parentDirectory(of: path)
        if !parent.isEmpty, parent != path { try makeDirectory(parent, mode: mode) }
        if mkdir(path, mode_t(mode)) != 0, errno != EEXIST {
            throw .fileSystem(path: path, operation: "create directory", reason: errnoDescription())
        }
    }

    static func remove(_ path: String) { unlink(path) }

    /// Names in a directory (no `.`/`..`), or [] when it does not exist.
    static func directoryEntries(_ path: String) -> [String] {
        guard let dir = opendir(path) else { return [] }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names.sorted()
    }

    static func parentDirectory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "" }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    static func join(_ base: String, _ parts: String...) -> String {
        var out = base
        for part in parts {
            if !out.hasSuffix("/") { out += "/" }
            out += part
        }
        return out
    }
}

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
