import Foundation
import GRDB
import Journal
import Simulation
import Synchronization
import Testing

#if canImport(Glibc)
import Glibc
#endif

@Suite("SIGHUP reload of the real daemon while messages flow", .serialized)
struct ReloadTests {
    @Test("a changed profile is reloaded on SIGHUP mid-stream; no message is lost and the new profile applies")
    func reloadWhileFlowing() async throws {
        let directory = TestSupport.temporaryDirectory("reload")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let profiles = directory + "/profiles"
        try FileManager.default.createDirectory(atPath: profiles, withIntermediateDirectories: true)
        for name in ["generic-wearable-json.yml", "senml-vitals.yml"] {
            try FileManager.default.copyItem(atPath: TestSupport.shippedProfiles + "/" + name, toPath: profiles + "/" + name)
        }
        let broker = try PrivateBroker.start(directory: directory + "/broker")
        defer { broker.stop() }
        let configPath = directory + "/wardgate.yml"
        try """
            gateway: {id: reload-ward, stateDirectory: \(directory)/state}
            mqtt: {port: \(broker.port), clientId: wardgate-reload, reconnect: {initial: 50ms, maximum: 500ms}}
            profiles: {directory: \(profiles)}
            """.write(toFile: configPath, atomically: true, encoding: .utf8)
        let daemon = try GatewayProcess(configPath: configPath, logPath: directory + "/gateway.log")
        #expect(await daemon.waitUntilSubscribed())

        let devices = 6, rounds = 300
        let recorder = PublishRecorder()
        let reloaded = Atomic<Bool>(false)
        let pid = daemon.process.processIdentifier
        let wearable = profiles + "/generic-wearable-json.yml"
        let publishing = Task {
            try await recorder.publish(port: broker.port, devices: devices, rounds: rounds, roundsPerSecond: 150) { round in
                // Halfway: tighten the heart-rate range so every later reading is flagged, then SIGHUP.
                guard round == rounds / 2, !reloaded.exchange(true, ordering: .relaxed) else { return }
                if let text = try? String(contentsOfFile: wearable, encoding: .utf8) {
                    try? text.replacingOccurrences(of: "unit: /min, range: [20, 300]", with: "unit: /min, range: [20, 21]")
                        .write(toFile: wearable, atomically: true, encoding: .utf8)
                }
                Glibc.kill(pid, SIGHUP)
            }
        }
        try await publishing.value
        let didReload = reloaded.load(ordering: .relaxed)
        #expect(didReload)

        let journal = try TestSupport.openJournal(directory + "/state")
        let complete = try await TestSupport.eventually(timeout: .seconds(60)) {
            let stats = try journal.statistics()
            return stats.observations >= devices * rounds * 5 && stats.pendingRecords == 0
        }
        #expect(complete)
        #expect(daemon.terminate() == 0)
        #expect(daemon.log.contains("reloaded profiles and assignments"))
        // Nothing lost, nothing duplicated across the reload.
        let counts = try journal.observationCountsByDeviceAndTime()
        #expect(Set(counts.keys) == recorder.published)
        #expect(counts.values.allSatisfy { $0 == 5 })
        // The new profile took effect without a restart: later heart rates are flagged implausible.
        let implausible = try journal.read { transaction in
            try Int.fetchOne(transaction.database, sql: "SELECT COUNT(*) FROM observation WHERE implausible = 1") ?? 0
        }
        #expect(implausible > 0)
    }
}
