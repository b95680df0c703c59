import EmbeddedLedger
import Foundation
import Logging
import Testing

/// The embedded ledger holds every anchored checkpoint of the ward: like the journal, its file is
/// the service user's alone whatever the umask (issue #18, permissions).
@Suite("Embedded ledger: file modes", .serialized)
struct LedgerFileModeTests {
    static func mode(_ path: String) -> Int {
        var info = stat()
        guard stat(path, &info) == 0 else { return -1 }
        return Int(info.st_mode & 0o7777)
    }

    @Test("ledger.sqlite is created 0600 under umask 022 and 000, and one left 0644 is tightened when opened", arguments: [mode_t(0o022), 0o000])
    func ledgerFileIsPrivate(mask: mode_t) throws {
        let directory = NSTemporaryDirectory() + "wardgate-ledger-modes-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/state/ledger.sqlite"
        var logger = Logger(label: "test.ledger.modes")
        logger.logLevel = .error
        let previous = umask(mask)
        let created = Result { try EmbeddedLedger(path: path, trustedGateways: [:], logger: logger) }
        umask(previous)
        _ = try created.get()
        #expect(Self.mode(path) == 0o600, "ledger.sqlite is \(String(Self.mode(path), radix: 8)) under umask \(String(mask, radix: 8))")

        chmod(path, 0o644)
        _ = try EmbeddedLedger(path: path, trustedGateways: [:], logger: logger)
        #expect(Self.mode(path) == 0o600)
    }
}
