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
package struct FileFingerprint: Sendable, Hashable {
    package var device: UInt64
    package var inode: UInt64
    package var size: Int64
    package var modificationNanoseconds: Int64
    package var changeNanoseconds: Int64
    package var mode: UInt32

    package var isRegularFile: Bool { mode & UInt32(S_IFMT) == UInt32(S_IFREG) }
    package var isDirectory: Bool { mode & UInt32(S_IFMT) == UInt32(S_IFDIR) }
    package var permissions: UInt32 { mode & 0o7777 }

    package init(_ info: stat) {
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
    package static func of(_ path: String) -> FileFingerprint? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return FileFingerprint(info)
    }
}

/// File primitives with the guarantees key files and the keystore need: atomic replacement, files
/// created with their final mode (no moment where a key is world-readable), bounded reads of
/// regular files. DeviceIdentity reaches them through its own `SecureFile`, which reports
/// `IdentityError`.
package enum SecureFile {
    /// Nothing read this way (PEM keys, certificates, CRLs, the CA index) is anywhere near this.
    package static let maximumReadSize = 16 << 20

    package static func exists(_ path: String) -> Bool { FileFingerprint.of(path) != nil }

    package static func errnoDescription(_ code: Int32 = errno) -> String { String(cString: strerror(code)) }

    /// Writes `bytes` to a temporary file created with `mode` (O_EXCL, so never an existing file),
    /// fsyncs it, renames it over `path` and fsyncs the directory. Readers see the old or the new content, never a mix.
    package static func writeAtomically(_ bytes: [UInt8], to path: String, mode: UInt32) throws(KeyFileError) {
        let temporary = "\(path).tmp-\(Hex.encode((0..<6).map { _ in UInt8.random(in: 0...255) }))"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode_t(mode))
        guard fd >= 0 else { throw .fileSystem(path: temporary, operation: "create", reason: errnoDescription()) }
        var closed = false
        defer {
            if !closed { close(fd) }
        }
        do throws(KeyFileError) {
            try writeAll(bytes, to: fd, path: temporary)
            guard fsync(fd) == 0 else { throw .fileSystem(path: temporary, operation: "sync", reason: errnoDescription()) }
            closed = true
            guard close(fd) == 0 else { throw .fileSystem(path: temporary, operation: "close", reason: errnoDescription()) }
            guard rename(temporary, path) == 0 else {
                throw .fileSystem(path: path, operation: "replace", reason: errnoDescription())
            }
            // The rename itself is durable only once the directory is synced.
            let parent = parentDirectory(of: path)
            let directory = open(parent.isEmpty ? "." : parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
            if directory >= 0 {
                defer { close(directory) }
                guard fsync(directory) == 0 else { throw .fileSystem(path: path, operation: "sync the directory of", reason: errnoDescription()) }
            }
        } catch {
            unlink(temporary)
            throw error
        }
    }

    /// Creates `path` exclusively (fails if it exists) with `mode`.
    package static func createExclusively(_ bytes: [UInt8], at path: String, mode: UInt32) throws(KeyFileError) {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode_t(mode))
        guard fd >= 0 else {
            if errno == EEXIST { throw .alreadyExists(path: path) }
            throw .fileSystem(path: path, operation: "create", reason: errnoDescription())
        }
        defer { close(fd) }
        do throws(KeyFileError) {
            try writeAll(bytes, to: fd, path: path)
            guard fsync(fd) == 0 else { throw .fileSystem(path: path, operation: "sync", reason: errnoDescription()) }
        } catch {
            unlink(path)
            throw error
        }
    }

    private static func writeAll(_ bytes: [UInt8], to fd: Int32, path: String) throws(KeyFileError) {
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
    package static func read(
        _ path: String,
        inspect: (FileFingerprint) throws(KeyFileError) -> Void = { _ throws(KeyFileError) in }
    ) throws(KeyFileError) -> [UInt8] {
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

    package static func readText(_ path: String) throws(KeyFileError) -> String {
        let bytes = try read(path)
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw .malformedFile(path: path, reason: "not UTF-8 text")
        }
        return text
    }

    /// Creates a directory (and missing parents) with mode 0700 for new levels.
    package static func makeDirectory(_ path: String, mode: UInt32 = 0o700) throws(KeyFileError) {
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

    package static func remove(_ path: String) { unlink(path) }

    /// Names in a directory (no `.`/`..`), or [] when it does not exist.
    package static func directoryEntries(_ path: String) -> [String] {
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

    package static func parentDirectory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "" }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    package static func join(_ base: String, _ parts: String...) -> String {
        var out = base
        for part in parts {
            if !out.hasSuffix("/") { out += "/" }
            out += part
        }
        return out
    }
}
