import Foundation
import Gateway
import Journal
import Logging
import MQTTIngest
import Simulation
import Synchronization
import Testing
import WardgateTools

@Suite("Gateway end to end over a real mosquitto", .serialized)
struct EndToEndTests {
    @Test("10,000 QoS 1 messages from 10 devices: every reading in the journal exactly once")
    func tenThousandMessages() async throws {
        let ward = try await TestWard("e2e")
        let gateway = ward.gateway

        let devices = 10, rounds = 1000
        let recorder = PublishRecorder()
        try await recorder.publish(port: ward.broker.port, devices: devices, rounds: rounds)
        let expectedMessages = devices * rounds
        #expect(recorder.published.count == expectedMessages)

        let expectedObservations = expectedMessages * 5
        let arrived = try await TestSupport.eventually(timeout: .seconds(120)) {
            try gateway.journal.statistics().observations >= expectedObservations
        }
        #expect(arrived)
        try gateway.processor.drain()
        let stats = try gateway.journal.statistics()
        #expect(stats.inboxRecords == expectedMessages)
        #expect(stats.observations == expectedObservations)
        #expect(stats.deadLetters == 0)
        // Each published payload became exactly its five Observations (four vitals and the BP panel).
        let counts = try gateway.journal.observationCountsByDeviceAndTime()
        #expect(Set(counts.keys) == recorder.published)
        #expect(counts.values.allSatisfy { $0 == 5 })
        let snapshot = gateway.metrics.snapshot()
        #expect(snapshot["wardgate_messages_received_total"] == Double(expectedMessages))
        #expect(snapshot["wardgate_observations_stored_total"] == Double(expectedObservations))
        await ward.finish()
    }

    @Test("bad input is dead-lettered with a reason and a counter while other devices keep flowing")
    func badInputOverTheBroker() async throws {
        let ward = try await TestWard("bad")
        let gateway = ward.gateway

        let sender = try await ward.sender("bad-sender")
        defer { sender.stop() }
        let bad: [(topic: String, payload: [UInt8], kind: String)] = [
            ("wards/w/devices/bad-1/vitals", Array("{\"ts\": 1763719200000, \"hr\": ".utf8), "invalid_json"),
            ("wards/w/devices/bad-2/vitals", Array("{\"ts\": 1763719200000, \"hr\": \"seventy\"}".utf8), "wrong_type"),
            ("wards/w/devices/bad-3/vitals", Array("{\"hr\": 72}".utf8), "missing_field"),
            ("wards/w/devices/bad-4/vitals", Array("{\"ts\": 1763719200000, \"hr\": 72, \"note\": \"".utf8) + [0xC3, 0x28] + Array("\"}".utf8), "invalid_utf8"),
            ("wards/w/devices/bad-5/vitals", Array("{\"ts\": 1763719200000, \"pad\": \"\(String(repeating: "x", count: 70_000))\"}".utf8), "oversized"),
            ("wards/w/devices/bad-6/senml", Array("[{\"bn\": \"x:\", \"bt\": 1763719200, \"n\": \"heartRate\", \"u\": \"Hz\", \"v\": 1.2}]".utf8), "unit_mismatch"),
            ("wards/w/devices/bad-7/vitals", Array("[1, 2, 3]".utf8), "wrong_type"),
            ("wards/w/devices/bad-8/vitals", Array("{\"ts\": 1763719200000, \"bp\": {\"sys\": 120}}".utf8), "missing_field"),
        ]
        let good = Array("{\"ts\": 1763719200000, \"hr\": 71, \"spo2\": 98}".utf8)
        for (i, item) in bad.enumerated() {
            try sender.publish(topic: item.topic, payload: item.payload)
            try sender.publish(topic: "wards/w/devices/good-\(i)/vitals", payload: good)
        }
        #expect(await sender.waitForPublishes(timeout: .seconds(60)))
        let processed = try await TestSupport.eventually(timeout: .seconds(60)) {
            let stats = try gateway.journal.statistics()
            return stats.deadLetters == bad.count && stats.observations == bad.count * 2
        }
        #expect(processed)
        let letters = try gateway.journal.deadLetters()
        #expect(letters.map(\.letter.kind).sorted() == bad.map(\.kind).sorted())
        for letter in letters {
            let expected = bad.first { $0.topic == letter.letter.topic }
            #expect(letter.letter.kind == expected?.kind, "\(letter.letter.topic): \(letter.letter.reason)")
            #expect(!letter.letter.reason.isEmpty)
            #expect(letter.letter.deviceId?.hasPrefix("bad-") == true)
            // The raw bytes stay in the journal for audit; of an oversized payload, a bounded prefix.
            let kept = try gateway.journal.inboxRecord(seq: letter.letter.inboxSeq)?.payload
            if letter.letter.kind == "oversized" {
                #expect(kept.map { Array(expected?.payload.prefix($0.count) ?? []) == $0 && $0.count == 1024 } == true)
            } else {
                #expect(kept == expected?.payload)
            }
        }
        let snapshot = gateway.metrics.snapshot()
        #expect(snapshot.total("wardgate_dead_letters_total") == Double(bad.count))
        #expect(snapshot["wardgate_dead_letters_total{kind=\"wrong_type\"}"] == 2)
        #expect(snapshot["wardgate_dead_letters_total{kind=\"oversized\"}"] == 1)
        await ward.finish()
    }

    @Test("an inbox record no profile claims any more (after a reload) is dead-lettered as unknown_topic")
    func unknownTopicIsDeadLettered() async throws {
        let directory = TestSupport.temporaryDirectory("unknown")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let gateway = try Gateway(config: TestSupport.config(directory: directory, brokerPort: 1), logger: TestSupport.quietLogger)
        try gateway.journal.appendInbox(topic: "elsewhere/device-1/data", payload: Array("{}".utf8), qos: 1, receivedAt: Date())
        try gateway.processor.drain()
        let letters = try gateway.journal.deadLetters()
        #expect(letters.count == 1)
        #expect(letters.first?.letter.kind == "unknown_topic")
        #expect(gateway.metrics.snapshot()["wardgate_dead_letters_total{kind=\"unknown_topic\"}"] == 1)
    }

    @Test("at the journal quota, messages are not acknowledged; the broker keeps them until there is room")
    func quotaStopsAcknowledgements() async throws {
        let directory = TestSupport.temporaryDirectory("quota")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let broker = try PrivateBroker.start(directory: directory + "/broker")
        defer { broker.stop() }
        // A quota smaller than the empty journal: every message is refused.
        let tight = try Gateway(config: TestSupport.config(directory: directory, brokerPort: broker.port, maxBytes: 1024), logger: TestSupport.quietLogger)
        tight.start()
        #expect(await tight.waitUntilReady(timeout: .seconds(60)))
        let recorder = PublishRecorder()
        try await recorder.publish(port: broker.port, devices: 4, rounds: 25)
        let refused = await TestSupport.eventually(timeout: .seconds(60)) {
            tight.metrics.snapshot()["wardgate_messages_refused_total{reason=\"quota\"}"] >= 1
        }
        #expect(refused)
        #expect(try tight.journal.statistics().inboxRecords == 0)
        await tight.stop()

        // Room again (a larger quota): the broker still holds everything and delivers it.
        let roomy = try Gateway(config: TestSupport.config(directory: directory, brokerPort: broker.port), logger: TestSupport.quietLogger)
        roomy.start()
        let delivered = try await TestSupport.eventually(timeout: .seconds(30)) {
            try roomy.journal.statistics().observations >= 100 * 5
        }
        #expect(delivered)
        try roomy.processor.drain()
        let counts = try roomy.journal.observationCountsByDeviceAndTime()
        #expect(Set(counts.keys) == recorder.published)
        #expect(counts.values.allSatisfy { $0 == 5 })
        await roomy.stop()
    }
}

/// Publishes a simulated ward and remembers (device, device time) of every payload.
final class PublishRecorder: Sendable {
    private let state = Mutex<Set<PublishedReading>>([])
    var published: Set<PublishedReading> { state.withLock { $0 } }

    private func record(_ deviceIds: [String], _ time: Int64) {
        state.withLock { set in
            for id in deviceIds { set.insert(PublishedReading(deviceId: id, deviceTimeMs: time)) }
        }
    }

    func publish(port: Int, devices: Int, rounds: Int, roundsPerSecond: Double = 5000, seed: UInt64 = 99,
                 onRound: @escaping @Sendable (Int) -> Void = { _ in }) async throws {
        let ward = try SimulatedWard(devices: SimulatedWard.devices(count: devices, seed: seed), brokerPort: port, logger: TestSupport.quietLogger)
        defer { ward.stop() }
        guard await ward.waitUntilConnected(timeout: .seconds(60)) else { throw SimulationError.publish("simulated ward could not connect") }
        let ids = ward.devices.map(\.id)
        _ = try await ward.run(rounds: rounds, roundsPerSecond: roundsPerSecond) { round, time, _ in
            self.record(ids, time)
            onRound(round)
        }
        guard await ward.waitForPublishes(timeout: .seconds(120)) else { throw SimulationError.publish("broker did not acknowledge every publish") }
    }
}
