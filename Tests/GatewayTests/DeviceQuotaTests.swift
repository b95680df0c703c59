import Foundation
@testable import Gateway
import Journal
import Simulation
import Testing

/// Per-device fairness in the journal quota (issue #18, item 5): one device flooding is refused
/// once it holds more than its share, while the other devices' readings are still journaled.
@Suite("Device quota: one device flooding never stops the others", .serialized)
struct DeviceQuotaTests {
    static func reading(_ ts: Int64) -> [UInt8] { Array("{\"ts\": \(ts), \"hr\": 71, \"spo2\": 98}".utf8) }

    @Test("a device flooding 60 KB messages past its share is refused (device_quota) while another device's readings are still accepted")
    func flooderIsRefusedAlone() async throws {
        let ward = try await TestWard("device-quota") { config in
            config.maxJournalBytes = 32 << 20
            config.retention = nil
        }
        let gateway = ward.gateway
        let sender = try await ward.sender("device-quota-sender")
        defer { sender.stop() }
        let start: Int64 = 1_763_719_200_000
        for i in 0..<5 { try sender.publish(topic: "wards/w/devices/steady-1/vitals", payload: Self.reading(start + Int64(i))) }
        #expect(await sender.waitForPublishes(timeout: .seconds(60)))
        #expect(try await TestSupport.eventually(timeout: .seconds(60)) { try gateway.journal.statistics().observations == 10 })

        // 36 MB from one device against a 32 MiB quota (large beside the WAL the quota also counts).
        let note = String(repeating: "x", count: 60_000)
        for i in 0..<600 {
            try sender.publish(topic: "wards/w/devices/flood-1/vitals", payload: Array("{\"ts\": \(start + Int64(i)), \"hr\": 72, \"note\": \"\(note)\"}".utf8))
        }
        #expect(await sender.waitForPublishes(timeout: .seconds(60)))
        let snapshot = { gateway.metrics.snapshot() }
        #expect(await TestSupport.eventually(timeout: .seconds(30)) { snapshot()["wardgate_messages_refused_total{reason=\"device_quota\"}"] >= 1 },
                "\(snapshot().values.filter { $0.key.contains("refused") })")

        // The steady device goes on.
        for i in 5..<25 { try sender.publish(topic: "wards/w/devices/steady-1/vitals", payload: Self.reading(start + Int64(i))) }
        #expect(await sender.waitForPublishes(timeout: .seconds(30)))
        let steady = try await TestSupport.eventually(timeout: .seconds(30)) {
            try gateway.journal.observations(deviceId: "steady-1").count == 50
        }
        let held = try gateway.journal.observations(deviceId: "steady-1").count
        #expect(steady, "the steady device's readings after the flood: \(held) of 50 Observations")
        #expect(snapshot()["wardgate_messages_refused_total{reason=\"quota\"}"] == 0, "the quota itself was never reached")
        let files = ["", "-wal"].map { (try? FileManager.default.attributesOfItem(atPath: gateway.journal.path + $0)[.size] as? Int) ?? -1 }
        #expect(gateway.journal.usedBytes() < 32 << 20, "journal and WAL bytes: \(files)")
        try gateway.processor.drain()
        #expect(try gateway.journal.deadLetters(limit: 1000).contains { $0.letter.kind == "device_quota" && $0.letter.deviceId == "flood-1" })
        await ward.finish()
    }
}
