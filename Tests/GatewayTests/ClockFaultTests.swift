import Foundation
@testable import Gateway
import Journal
import Ledger
import Simulation
import Testing
import WardgateTestSupport

#if canImport(Glibc)
import Glibc
import WardgateTools
#endif

/// A wrong wall clock (issue #18, item 3): retention never prunes by the wall clock alone, and a
/// clock far ahead of the journal's own times pauses pruning with an alarm.
@Suite("Clock faults: a forward jump never deletes readings", .serialized)
struct ClockFaultTests {
    @Test("the daemon under `faketime +400d`: retention prunes none of the anchored readings and logs the alarm; what it quarantined is signed by `quarantine retry` and anchored")
    func forwardJumpUnderFaketime() async throws {
        let ward = try LedgerWard("clock-jump", devices: 4)
        defer { ward.remove() }
        let broker = try PrivateBroker.start(directory: ward.directory + "/broker")
        defer { broker.stop() }
        let configPath = try ward.writeConfigFile(brokerPort: broker.port, clientId: "wardgate-clock-jump")
        let logPath = ward.directory + "/gateway.log"

        try await ward.runAnchoredAndStop(configPath: configPath, logPath: logPath, brokerPort: broker.port)

        // The same daemon with the clock 400 days ahead: the default 30-day retention would take
        // every anchored reading by the wall clock.
        let jumped = Process()
        jumped.executableURL = URL(fileURLWithPath: "/usr/bin/faketime")
        jumped.arguments = ["-f", "+400d", TestSupport.wardgateBinary, "run", "--config", configPath]
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        log.seekToEndOfFile()
        jumped.standardError = log
        jumped.standardOutput = log
        try jumped.run()
        let alarmed = await TestSupport.eventually(timeout: .seconds(30)) {
            ((try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "").contains("ALARM: the clock looks wrong; retention pruning paused")
        }
        // Readings received meanwhile: 400 days on, every device certificate looks expired.
        try await PublishRecorder().publish(port: broker.port, devices: 4, rounds: 2, seed: ward.seed + 1)
        let quarantined = try await TestSupport.eventually(timeout: .seconds(60)) {
            let journal = try Journal(readingAt: ward.directory + "/state", tables: Gateway.journalTables)
            defer { try? journal.close() }
            return try journal.statistics().quarantined == 40
        }
        #expect(quarantined, "the readings of the wrong clock are quarantined")
        // faketime forks the daemon and waits for it: SIGTERM goes to the daemon itself.
        let children = (try? String(contentsOfFile: "/proc/\(jumped.processIdentifier)/task/\(jumped.processIdentifier)/children", encoding: .utf8)) ?? ""
        let daemon = try #require(children.split(separator: " ").first.flatMap { Int32($0) }, "the daemon under faketime")
        kill(daemon, SIGTERM)
        jumped.waitUntilExit()
        let output = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
        #expect(alarmed, "\(output.suffix(3000))")
        #expect(jumped.terminationStatus == 0, "\(output.suffix(3000))")
        #expect(!output.contains("pruned anchored readings past retention"), "\(output.suffix(3000))")

        let journal = try Journal(readingAt: ward.directory + "/state", tables: Gateway.journalTables)
        #expect(try journal.statistics().observations == 240, "every anchored reading is still there")
        try journal.close()

        // The clock is right again: the quarantined readings are signed and logged, then anchored.
        let retry = try ProcessRunner.run(TestSupport.wardgateBinary, ["quarantine", "retry", "--config", configPath])
        #expect(retry.status == 0, "\(retry.output)")
        #expect(retry.stdout.contains("signed and logged 40 reading(s); 0 still quarantined"), "\(retry.output)")
        let list = try ProcessRunner.run(TestSupport.wardgateBinary, ["quarantine", "list", "--config", configPath])
        #expect(list.stdout.contains("0 quarantined reading(s)"), "\(list.output)")
        let again = try GatewayProcess(configPath: configPath, logPath: logPath)
        #expect(await ward.waitUntilLedgerHolds(size: 240), "the re-signed readings are anchored after the next start")
        #expect(again.terminate() == 0)
    }

    @Test("in process: the jump pauses pruning and sets wardgate_clock_suspect; the wall clock alone prunes nothing; both clocks past retention prune")
    func retentionNeedsBothClocks() async throws {
        let ward = try LedgerWard("clock-rule", devices: 3)
        defer { ward.remove() }
        let broker = try PrivateBroker.start(directory: ward.directory + "/broker")
        defer { broker.stop() }
        var config = ward.config(brokerPort: broker.port)
        config.retention = .seconds(3600)
        config.maxClockSkew = .seconds(86_400)
        let gateway = try Gateway(config: config, logger: TestSupport.quietLogger)
        gateway.start()
        #expect(await gateway.waitUntilReady(timeout: .seconds(60)))
        try await PublishRecorder().publish(port: broker.port, devices: 3, rounds: 10, seed: ward.seed)
        #expect(await TestSupport.eventually(timeout: .seconds(60)) { (try? gateway.outboxStatus().anchoredSize) == 150 })

        let jump = try gateway.pruneExpired(now: Date().addingTimeInterval(400 * 86_400))
        guard case .paused(let reason) = jump else {
            Issue.record("a 400-day jump must pause pruning, got \(jump)")
            return
        }
        #expect(reason.contains("journal.maxClockSkew"))
        #expect(gateway.metrics.snapshot()["wardgate_clock_suspect"] == 1)
        #expect(try gateway.journal.statistics().observations == 150)

        // Within the skew, but two hours by the wall clock only: nothing goes, the alarm clears.
        #expect(try gateway.pruneExpired(now: Date().addingTimeInterval(7200)) == .pruned(.init(observations: 0, inboxRecords: 0)))
        #expect(gateway.metrics.snapshot()["wardgate_clock_suspect"] == 0)
        let both = try gateway.pruneExpired(now: Date().addingTimeInterval(7200), uptime: gateway.clock.uptime + .seconds(7200))
        #expect(both == .pruned(.init(observations: 150, inboxRecords: 30)), "\(both)")
        await gateway.stop()
    }
}
