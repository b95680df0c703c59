import Foundation
import Journal
import Testing

/// Journal files hold every reading of a ward: they are the service user's alone whatever the
/// umask of whoever starts the gateway.
@Suite("Journal: file modes", .serialized)
struct JournalFileModeTests {
    static func mode(_ path: String) -> Int {
        var info = stat()
        guard stat(path, &info) == 0 else { return -1 }
        return Int(info.st_mode & 0o7777)
    }

    static func octal(_ mode: Int) -> String { String(mode, radix: 8) }

    /// Runs `body` with the process umask set to `mask`, restoring it however `body` ends. The
    /// suite is serialized; the window is kept to the opening of one journal.
    static func withUmask<T>(_ mask: mode_t, _ body: () throws -> T) rethrows -> T {
        let previous = umask(mask)
        defer { umask(previous) }
        return try body()
    }

    @Test("under umask 000 the state directory (and the parents it creates) is 0700 and journal.sqlite, -wal and -shm are 0600",
          arguments: [mode_t(0o000), 0o002, 0o022])
    func modesWhateverTheUmask(mask: mode_t) throws {
        let base = NSTemporaryDirectory() + "wardgate-modes-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: base) }
        let state = base + "/var/lib/state"
        let journal = try Self.withUmask(mask) {
            let journal = try Journal(directory: state)
            try journal.appendInbox(topic: "wards/7b/devices/d/vitals", payload: Array("{}".utf8), qos: 1, receivedAt: Date())
            return journal
        }
        #expect(try journal.statistics().inboxRecords == 1)
        for directory in [base, base + "/var", base + "/var/lib", state] {
            #expect(Self.mode(directory) == 0o700, "\(directory) is \(Self.octal(Self.mode(directory))) under umask \(Self.octal(Int(mask)))")
        }
        for suffix in ["", "-wal", "-shm"] {
            let file = journal.path + suffix
            #expect(FileManager.default.fileExists(atPath: file), "\(file) missing")
            #expect(Self.mode(file) == 0o600, "\(file) is \(Self.octal(Self.mode(file))) under umask \(Self.octal(Int(mask)))")
        }
    }

    @Test("a journal an older version left 0644 is tightened to 0600 when it is opened")
    func olderJournalTightened() throws {
        let state = NSTemporaryDirectory() + "wardgate-modes-old-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: state) }
        do {
            let journal = try Journal(directory: state)
            try journal.appendInbox(topic: "t/d/v", payload: [1], qos: 1, receivedAt: Date())
            for suffix in ["", "-wal", "-shm"] { chmod(journal.path + suffix, 0o644) }
        }
        let reopened = try Journal(directory: state)
        #expect(try reopened.statistics().inboxRecords == 1)
        for suffix in ["", "-wal", "-shm"] where FileManager.default.fileExists(atPath: reopened.path + suffix) {
            #expect(Self.mode(reopened.path + suffix) == 0o600, "\(suffix)")
        }
        #expect(Self.mode(reopened.path) == 0o600)
    }
}
