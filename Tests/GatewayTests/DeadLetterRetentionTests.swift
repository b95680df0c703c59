import Foundation
@testable import Gateway
import Journal
import Logging
import Simulation
import Testing
import WardgateTestSupport

/// Dead letters are not kept for ever (issue #18, item 5): `journal.deadLetterRetention` prunes
/// them by retention's two clocks, `wardgate deadletters list|purge` shows and removes them, and
/// the state directory's lock keeps every writer away from a running gateway (item 4).
@Suite("Dead letters: retention, list and purge; the state directory lock", .serialized)
struct DeadLetterRetentionTests {
    static let bad: [(topic: String, payload: [UInt8])] = [
        ("wards/w/devices/bad-1/vitals", Array("{\"ts\": 1763719200000, \"hr\": ".utf8)),
        ("wards/w/devices/bad-1/vitals", Array("{\"hr\": 72}".utf8)),
        ("wards/w/devices/bad-2/vitals", Array("[1, 2, 3]".utf8)),
    ]
    static let good = Array("{\"ts\": 1763719200000, \"hr\": 71, \"spo2\": 98}".utf8)

    /// Publishes the bad messages and one good one from `good-1` on `port`.
    static func publishFaults(port: Int) async throws {
        let sender = try SimulatedWard(devices: [], brokerPort: port, logger: TestSupport.quietLogger)
        defer { sender.stop() }
        #expect(await sender.waitUntilConnected(timeout: .seconds(60)))
        for message in bad { try sender.publish(topic: message.topic, payload: message.payload) }
        try sender.publish(topic: "wards/w/devices/good-1/vitals", payload: good)
        #expect(await sender.waitForPublishes(timeout: .seconds(60)))
    }

    @Test("journal.deadLetterRetention prunes dead letters and their payloads once both clocks are past it, never by the wall clock alone; readings stay")
    func retentionPrunesDeadLetters() async throws {
        let ward = try await TestWard("deadletter-retention") { config in
            config.retention = nil
            config.deadLetterRetention = .seconds(90 * 86_400)
            config.maxClockSkew = .seconds(200 * 86_400)
        }
        let gateway = ward.gateway
        try await Self.publishFaults(port: ward.broker.port)
        #expect(try await TestSupport.eventually(timeout: .seconds(60)) { try gateway.journal.statistics().deadLetters == 3 })
        try gateway.processor.drain()
        let listed = try gateway.journal.deadLetterSummaries(DeadLetterFilter(deviceId: "bad-1"))
        #expect(listed.map(\.payloadBytesKept) == Self.bad.prefix(2).map(\.payload.count))

        // 91 days by the wall clock alone: the journal's own times say minutes, so nothing goes.
        let later = Date().addingTimeInterval(91 * 86_400)
        #expect(try gateway.pruneExpired(now: later) == .pruned(.init(observations: 0, inboxRecords: 0)))
        #expect(try gateway.journal.statistics().deadLetters == 3)
        // Both clocks past 90 days: the dead letters and the inbox records kept only for them go.
        _ = try gateway.pruneExpired(now: later, uptime: gateway.clock.uptime + .seconds(91 * 86_400))
        let stats = try gateway.journal.statistics()
        #expect(stats.deadLetters == 0)
        #expect(stats.inboxRecords == 1, "only the good message's record stays")
        #expect(stats.observations == 2)
        #expect(gateway.metrics.snapshot()["wardgate_dead_letters_pruned_total"] == 3)
        await ward.finish()
    }

    @Test("`wardgate deadletters list` while the gateway runs; purge, quarantine retry, ledger reanchor and a second run refuse until it stops; then purge removes them")
    func listPurgeAndLock() async throws {
        let ward = try LedgerWard("deadletter-cli", devices: 1)
        defer { ward.remove() }
        let broker = try PrivateBroker.start(directory: ward.directory + "/broker")
        defer { broker.stop() }
        let configPath = try ward.writeConfigFile(brokerPort: broker.port, clientId: "wardgate-deadletters")
        let logPath = ward.directory + "/gateway.log"
        let daemon = try GatewayProcess(configPath: configPath, logPath: logPath)
        #expect(await daemon.waitUntilSubscribed())
        try await Self.publishFaults(port: broker.port)
        let wardgate = TestSupport.wardgateBinary
        #expect(await TestSupport.eventually(timeout: .seconds(60)) {
            ((try? ProcessRunner.run(wardgate, ["deadletters", "list", "--config", configPath]))?.stdout ?? "").contains("3 dead letter(s) from 2 device(s)")
        })
        let json = try ProcessRunner.run(wardgate, ["deadletters", "list", "--config", configPath, "--device", "bad-2", "--json"])
        #expect(json.status == 0, "\(json.output)")
        let object = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any]
        #expect(object?["count"] as? Int == 1, "\(json.stdout)")
        #expect(object?["payloadBytesKept"] as? Int == Self.bad[2].payload.count, "\(json.stdout)")

        for writer in [["deadletters", "purge", "--all", "--yes"], ["quarantine", "retry"], ["ledger", "reanchor"], ["run"]] {
            let refused = try ProcessRunner.run(wardgate, writer + ["--config", configPath])
            #expect(refused.status == 1, "\(writer): \(refused.output)")
            #expect(refused.stderr.contains("the state directory is in use: pid \(daemon.process.processIdentifier): wardgate run holds"), "\(writer): \(refused.output)")
        }
        #expect(daemon.terminate() == 0, "\(daemon.log.suffix(2000))")

        let future = try ProcessRunner.run(wardgate, ["deadletters", "purge", "--config", configPath, "--before", "2000-01-01T00:00:00Z"])
        #expect(future.stdout.contains("removed 0 dead letter(s)"), "\(future.output)")
        let purge = try ProcessRunner.run(wardgate, ["deadletters", "purge", "--config", configPath, "--before", "0s", "--device", "bad-1"])
        #expect(purge.status == 0, "\(purge.output)")
        #expect(purge.stdout.contains("removed 2 dead letter(s) and 2 inbox record(s) kept only for them"), "\(purge.output)")
        let after = try ProcessRunner.run(wardgate, ["deadletters", "list", "--config", configPath])
        #expect(after.stdout.contains("1 dead letter(s) from 1 device(s)"), "\(after.output)")
        let journal = try Journal(readingAt: ward.directory + "/state", tables: Gateway.journalTables)
        #expect(try journal.statistics().observations == 2, "the good reading stays")
        try journal.close()
    }
}
