import EmbeddedLedger
import Foundation
@testable import Gateway
import Journal
import Ledger
import Simulation
import Testing
import Transparency
import WardgateTestSupport

#if canImport(Glibc)
import Glibc
import WardgateTools
#endif

/// Hostile disks (issue #18, items 1, 2 and 4): a missing or older ledger file, a WAL rolled back
/// by a damaged page, a truncated or overwritten journal, and commands that must only look.
@Suite("Storage faults: missing and older ledgers, a damaged WAL, a corrupt journal, read-only commands", .serialized)
struct StorageFaultTests {
    @Test("read-only commands on a state directory that does not exist: each fails, and no file or directory is created")
    func readOnlyCommandsCreateNothing() throws {
        let directory = TestSupport.temporaryDirectory("read-only")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let configPath = try TestSupport.writeConfigFile(directory: directory, brokerPort: 1, clientId: "unused")
        let before = try FileManager.default.subpathsOfDirectory(atPath: directory).sorted()
        let commands: [[String]] = [
            ["ledger", "verify", "--config", configPath],
            ["ledger", "key", "--config", configPath],
            ["ledger", "status", "--config", configPath],
            ["export", "--config", configPath],
            ["quarantine", "list", "--config", configPath],
            ["journal", "check", "--config", configPath],
            ["device", "list", "--keystore", directory + "/keys"],
            ["verify", directory + "/bundle.json", "--ca", directory + "/ca.pem", "--gateway-cert", directory + "/gw.pem"],
            ["log", "root", "--leaves", directory + "/leaves.txt"],
        ]
        for command in commands {
            let result = try ProcessRunner.run(TestSupport.wardgateBinary, command)
            #expect(result.status != 0, "wardgate \(command.joined(separator: " ")) must fail: \(result.output)")
            #expect(!result.output.contains("intact: 0 blocks"), "\(command): \(result.output)")
        }
        let ledgerVerify = try ProcessRunner.run(TestSupport.wardgateBinary, ["ledger", "verify", "--config", configPath])
        #expect(ledgerVerify.stderr.contains("there is no ledger file at \(directory)/state/ledger.sqlite"), "\(ledgerVerify.output)")
        let export = try ProcessRunner.run(TestSupport.wardgateBinary, ["export", "--config", configPath])
        #expect(export.stderr.contains("there is no journal at \(directory)/state/journal.sqlite"), "\(export.output)")
        let after = try FileManager.default.subpathsOfDirectory(atPath: directory).sorted()
        #expect(after == before, "created: \(Set(after).subtracting(before).sorted())")
    }

    @Test("a deleted or older ledger file: the gateway refuses to start naming both states; `ledger reanchor` restores every receipt")
    func missingAndOlderLedger() async throws {
        let ward = try LedgerWard("ledger-missing", devices: 4)
        defer { ward.remove() }
        let broker = try PrivateBroker.start(directory: ward.directory + "/broker")
        defer { broker.stop() }
        let config = ward.config(brokerPort: broker.port)
        let older = ward.directory + "/ledger-older.sqlite"

        for (phase, rounds) in [(0, 10), (1, 10)] {
            let gateway = try Gateway(config: config, logger: TestSupport.quietLogger)
            gateway.start()
            #expect(await gateway.waitUntilReady(timeout: .seconds(60)))
            try await PublishRecorder().publish(port: broker.port, devices: 4, rounds: rounds, seed: ward.seed + UInt64(phase))
            let expected = UInt64((phase + 1) * 4 * 10 * 5)
            #expect(await TestSupport.eventually(timeout: .seconds(60)) { (try? gateway.outboxStatus().anchoredSize) == expected })
            await gateway.stop()
            if phase == 0 { try FileManager.default.copyItem(atPath: ward.ledgerPath, toPath: older) }
        }

        try FileManager.default.removeItem(atPath: ward.ledgerPath)
        let missing = startError(config)
        #expect(missing.contains("the ledger file \(ward.ledgerPath) is missing"), "\(missing)")
        #expect(missing.contains("receipts up to size 400"), "\(missing)")
        #expect(!FileManager.default.fileExists(atPath: ward.ledgerPath), "refusing to start must not create an empty ledger")
        let configPath = try ward.writeConfigFile(brokerPort: broker.port, clientId: "wardgate-ledger-test")
        let daemon = try ProcessRunner.runTool(["timeout", "60", TestSupport.wardgateBinary, "run", "--config", configPath])
        #expect(daemon.status == 1, "the daemon refuses too (124: it ran on): \(daemon.output.suffix(2000))")
        #expect(daemon.stderr.contains("is missing"), "\(daemon.stderr.suffix(2000))")
        #expect(!FileManager.default.fileExists(atPath: ward.ledgerPath))

        try FileManager.default.copyItem(atPath: older, toPath: ward.ledgerPath)
        let behind = startError(config)
        #expect(behind.contains("holds checkpoints up to size 200"), "\(behind)")
        #expect(behind.contains("receipts up to size 400"), "\(behind)")
        #expect(behind.contains("wardgate ledger reanchor"), "\(behind)")

        // Recovery: re-anchor the outbox's checkpoints in a fresh ledger (the older copy is gone).
        try FileManager.default.removeItem(atPath: ward.ledgerPath)
        let reanchor = try ProcessRunner.run(TestSupport.wardgateBinary, ["ledger", "reanchor", "--config", configPath])
        #expect(reanchor.status == 0, "\(reanchor.output)")
        let contents = try LedgerContents(path: ward.ledgerPath)
        #expect(contents.anchoredSizes.last == 400)
        #expect(try ward.embeddedLedger().verifyChain().isIntact)
        let verify = try ProcessRunner.run(TestSupport.wardgateBinary, ["ledger", "verify", "--config", configPath])
        #expect(verify.status == 0, "\(verify.output)")

        // It starts again, and every anchored batch's receipt is one the new ledger issued.
        let gateway = try Gateway(config: config, logger: TestSupport.quietLogger)
        #expect(gateway.anchoringProblem() == nil)
        let ledger = try #require(gateway.ledger)
        for batch in try gateway.outbox.batches() where batch.state == .anchored {
            let receipt = try #require(try await ledger.receipt(for: BatchKey(origin: batch.origin, treeSize: batch.treeSize)))
            #expect(batch.receipt == receipt.document.serializedBytes)
        }
        try gateway.journal.close()
    }

    @Test("kill -9, then a 4 KiB page of noise over journal.sqlite-wal: the daemon exits 1 naming both tree sizes and roots, and signs nothing")
    func damagedWALRollsBackTheJournal() async throws {
        let ward = try LedgerWard("wal-damage", devices: 4)
        defer { ward.remove() }
        let broker = try PrivateBroker.start(directory: ward.directory + "/broker", maxQueuedMessages: 10_000)
        defer { broker.stop() }
        let configPath = try ward.writeConfigFile(brokerPort: broker.port, clientId: "wardgate-wal-damage")
        let logPath = ward.directory + "/gateway.log"

        // Phase 1 ends with a clean stop: everything is in journal.sqlite, the WAL is empty.
        try await ward.runAnchoredAndStop(configPath: configPath, logPath: logPath, brokerPort: broker.port)

        // Phase 2 lives only in the WAL when the daemon is killed; the ledger anchored it.
        let second = try GatewayProcess(configPath: configPath, logPath: logPath)
        #expect(await second.waitUntilSubscribed(connectNumber: 2))
        try await PublishRecorder().publish(port: broker.port, devices: 4, rounds: 5, seed: ward.seed + 1)
        #expect(await ward.waitUntilLedgerHolds(size: 300))
        second.kill()
        let anchoredBefore = try LedgerContents(path: ward.ledgerPath).anchoredSizes
        let wal = ward.directory + "/state/journal.sqlite-wal"
        try overwrite(wal, at: 0, with: (0..<4096).map { _ in UInt8.random(in: 0...255) })

        let restart = try ProcessRunner.runTool(["timeout", "60", TestSupport.wardgateBinary, "run", "--config", configPath])
        #expect(restart.status == 1, "the daemon must refuse to run (124: it ran on): \(restart.output.suffix(2000))")
        #expect(restart.stderr.contains("the journal's Merkle log has size 200"), "\(restart.stderr.suffix(2000))")
        #expect(restart.stderr.contains("has size 300"), "\(restart.stderr.suffix(2000))")
        #expect(restart.stderr.contains("root "), "\(restart.stderr.suffix(2000))")
        #expect(try LedgerContents(path: ward.ledgerPath).anchoredSizes == anchoredBefore, "no checkpoint reached the ledger after the rollback")
        let kept = try #require(FileManager.default.contents(atPath: ward.directory + "/state/" + LastCheckpointFile.fileName))
        #expect(String(decoding: kept, as: UTF8.self).contains("\n300\n"), "the last signed checkpoint survives outside the journal")
    }

    @Test("a truncated journal, and one with a page of noise: refused at start as corrupt, and `wardgate journal check` says so")
    func corruptJournalIsRefused() async throws {
        let ward = try LedgerWard("journal-corrupt", devices: 4)
        defer { ward.remove() }
        let broker = try PrivateBroker.start(directory: ward.directory + "/broker")
        defer { broker.stop() }
        let config = ward.config(brokerPort: broker.port)
        let gateway = try Gateway(config: config, logger: TestSupport.quietLogger)
        gateway.start()
        #expect(await gateway.waitUntilReady(timeout: .seconds(60)))
        try await PublishRecorder().publish(port: broker.port, devices: 4, rounds: 20, seed: ward.seed)
        #expect(await TestSupport.eventually(timeout: .seconds(60)) { (try? gateway.outboxStatus().anchoredSize) == 400 })
        await gateway.stop()
        let configPath = try ward.writeConfigFile(brokerPort: broker.port, clientId: "wardgate-ledger-test")
        let journalPath = config.stateDirectory + "/journal.sqlite"
        let sound = try Data(contentsOf: URL(fileURLWithPath: journalPath))
        let check = try ProcessRunner.run(TestSupport.wardgateBinary, ["journal", "check", "--config", configPath])
        #expect(check.status == 0 && check.stdout.hasPrefix("ok"), "\(check.output)")

        let damages: [(String, (inout Data) -> Void)] = [
            ("truncated to half", { $0 = $0.prefix(($0.count / 2 / 4096) * 4096) }),
            ("page 3 overwritten", { data in
                for offset in 2 * 4096..<3 * 4096 { data[offset] = UInt8.random(in: 0...255) }
            }),
        ]
        for (name, damage) in damages {
            var damaged = sound
            damage(&damaged)
            try damaged.write(to: URL(fileURLWithPath: journalPath))
            let refused = startError(config)
            #expect(refused.contains("the journal \(journalPath) is corrupt"), "\(name): \(refused)")
            #expect(refused.contains("Faults and recovery"), "\(name): \(refused)")
            let daemon = try ProcessRunner.runTool(["timeout", "60", TestSupport.wardgateBinary, "run", "--config", configPath])
            #expect(daemon.status == 1, "\(name): the daemon refuses too (124: it ran on): \(daemon.output.suffix(2000))")
            #expect(daemon.stderr.contains("is corrupt"), "\(name): \(daemon.stderr.suffix(2000))")
            let checked = try ProcessRunner.run(TestSupport.wardgateBinary, ["journal", "check", "--config", configPath])
            #expect(checked.status == 1, "\(name): \(checked.output)")
            #expect(checked.stderr.contains("is corrupt"), "\(name): \(checked.output)")
        }
    }

    // MARK: Helpers

    /// The error `Gateway(config:)` refuses to start with ("" when it started).
    private func startError(_ config: GatewayConfig) -> String {
        do {
            let gateway = try Gateway(config: config, logger: TestSupport.quietLogger)
            try? gateway.journal.close()
            return ""
        } catch {
            return error.description
        }
    }

    private func overwrite(_ path: String, at offset: off_t, with bytes: [UInt8]) throws {
        let fd = open(path, O_WRONLY)
        #expect(fd >= 0, "\(path) must exist")
        defer { close(fd) }
        #expect(bytes.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, offset) } == bytes.count)
        #expect(fsync(fd) == 0)
    }
}
