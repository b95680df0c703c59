import Foundation
import GRDB

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A journal write that failed for want of space or I/O (not damage: that is `.corrupt`), with
/// what the operator needs: whether the disk is full, where, and how much is free.
public struct StorageFailure: Sendable, Hashable, CustomStringConvertible {
    /// SQLite said the disk is full (SQLITE_FULL: ENOSPC, or a file size limit).
    public let diskFull: Bool
    /// The journal's directory, whose file system is full.
    public let directory: String
    public let detail: String

    init(_ error: any Error, directory: String) {
        let code = (error as? DatabaseError)?.resultCode
        diskFull = code == .SQLITE_FULL
        self.directory = directory
        detail = "\(error)"
    }

    /// Bytes available to the service user on the journal's file system now (nil if unknown).
    public var freeBytes: Int64? { StorageFailure.freeBytes(at: directory) }

    public static func freeBytes(at directory: String) -> Int64? {
        var info = statvfs()
        guard statvfs(directory, &info) == 0 else { return nil }
        return Int64(info.f_bavail) * Int64(info.f_frsize)
    }

    public var description: String {
        guard diskFull else { return "journal writes fail: \(detail)" }
        let free = freeBytes.map { "\($0) bytes free" } ?? "free space unknown"
        return "disk full: \(directory) has \(free); the journal cannot store messages, so none is acknowledged (the broker keeps them). "
            + "Free space on that file system or move the state directory to a larger one"
    }
}
