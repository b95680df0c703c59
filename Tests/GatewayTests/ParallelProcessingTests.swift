import DeviceIdentity
import Foundation
import Gateway
import IEEE11073
import JSONDocument
import Journal
import Simulation
import Testing

/// The processor spreads a batch's JSON payloads over the cores; these tests pin down that
/// the result is the one a serial pass gives: inbox order, every reading or a dead letter.
@Suite("Processing in parallel keeps inbox order and isolates bad payloads", .serialized)
struct ParallelProcessingTests {
    @Test("240 mixed records in one batch: leaves in inbox order, every bad record dead-lettered once, every good one signed")
    func mixedBatchKeepsOrder() throws {
        let ward = try SigningTests.makeWard()
        defer { try? FileManager.default.removeItem(atPath: ward.directory) }
        var config = TestSupport.config(directory: ward.directory, brokerPort: 1)
        config.identity = .init(keystore: ward.keystore.directory)
        let gateway = try Gateway(config: config, logger: TestSupport.quietLogger)

        // Interleaved: malformed JSON, an unknown topic, and readings of the enrolled device.
        var badSeqs: [Int64] = []
        var goodTimes: [Int64] = []
        let base: Int64 = 1_763_719_200_000
        for i in 0..<240 {
            let ts = base + Int64(i) * 1000
            switch i % 6 {
            case 0:
                badSeqs.append(try gateway.journal.appendInbox(topic: "wards/w/devices/good/vitals", payload: Array("{\"ts\": \(ts), \"hr\": ".utf8), qos: 1, receivedAt: Date()))
            case 3:
                badSeqs.append(try gateway.journal.appendInbox(topic: "elsewhere/good/data", payload: Array("{}".utf8), qos: 1, receivedAt: Date()))
            default:
                try gateway.journal.appendInbox(topic: "wards/w/devices/good/vitals", payload: Array("{\"ts\": \(ts), \"hr\": \(60 + i % 40), \"spo2\": 97}".utf8), qos: 1, receivedAt: Date())
                goodTimes.append(ts)
            }
        }
        try gateway.processor.drain()

        let stats = try gateway.journal.statistics()
        #expect(stats.pendingRecords == 0)
        #expect(stats.observations == goodTimes.count * 2)
        #expect(stats.signed == goodTimes.count * 2)

        // Dead letters: exactly the bad records, stored in inbox order.
        let letters = try gateway.journal.deadLetters()
        #expect(letters.map(\.letter.inboxSeq) == badSeqs)
        #expect(letters.filter { $0.letter.kind == "invalid_json" }.count == 40)
        #expect(letters.filter { $0.letter.kind == "unknown_topic" }.count == 40)
        let metrics = gateway.metrics.snapshot()
        #expect(metrics["wardgate_dead_letters_total{kind=\"invalid_json\"}"] == 40)
        #expect(metrics["wardgate_dead_letters_total{kind=\"unknown_topic\"}"] == 40)

        // Leaves follow the inbox: leaf 2k and 2k+1 are the two readings of the k-th good payload.
        let certificate = try ward.keystore.certificate(kind: .device, id: "good")
        var effectiveTimes: [Int64] = []
        for leaf in 0..<UInt64(goodTimes.count * 2) {
            let observation = try #require(try gateway.log.leafIndex.observation(leafIndex: leaf), "no Observation at leaf \(leaf)")
            let resource = try JSONParser.parse(observation.resource)
            let text = try #require(resource["effectiveDateTime"]?.stringValue)
            effectiveTimes.append(try #require(FHIRInstant.milliseconds(text), "unreadable effectiveDateTime \(text)"))
            let signature = try #require(observation.signature)
            try JWSVerifier.verify(signature.jws, detachedPayload: try JCS.canonicalize(resource), certificate: certificate)
        }
        let expected = goodTimes.flatMap { [$0, $0] }
        #expect(effectiveTimes.count == expected.count)
        #expect(effectiveTimes == expected, "leaf order differs from inbox order")
    }

    @Test("11073 APDUs of two agents interleaved with JSON payloads in one batch: sessions see their APDUs in order, leaves follow the inbox")
    func personalHealthAPDUsInOneBatch() throws {
        let ward = try SigningTests.makeWard()
        defer { try? FileManager.default.removeItem(atPath: ward.directory) }
        var config = TestSupport.config(directory: ward.directory, brokerPort: 1)
        config.identity = .init(keystore: ward.keystore.directory)
        // No broker here, so every manager reply fails to send and is logged as an error.
        var logger = TestSupport.quietLogger
        logger.logLevel = .critical
        let gateway = try Gateway(config: config, logger: logger)

        // Two agents, associated beforehand with an offline manager so they can encode reports;
        // the gateway's own sessions start from the AARQs in the inbox.
        var agents = [
            try SimulatedAgent(specialization: .pulseOximeter, systemId: SystemId(0x0011_2233_4455_0001), seed: 3),
            try SimulatedAgent(specialization: .bloodPressure, systemId: SystemId(0x0011_2233_4455_0002), seed: 4),
        ]
        var aarqs: [[UInt8]] = []
        for i in agents.indices {
            _ = try Enrollment.enroll(kind: .device, id: agents[i].deviceId, ca: ward.ca, keystore: ward.keystore, validityDays: 30)
            let aarq = try agents[i].associationRequest(now: .zero)
            let answers = OfflineDecoder.decode(apdus: [aarq], configId: nil, offsetRule: .fixed(seconds: 0))
            for response in answers.flatMap(\.responses) { _ = agents[i].receive(response, now: .zero) }
            #expect(agents[i].state == .operating)
            aarqs.append(aarq)
        }
        func topic(_ agent: SimulatedAgent) -> String { "phd/\(agent.systemId.hex)/agent" }

        /// (device, effective ms) of each Observation, in the order the inbox implies.
        var expected: [String] = []
        let base: Int64 = 1_763_719_200_000
        try gateway.journal.appendInbox(topic: "wards/w/devices/good/vitals", payload: Array("{\"ts\": \(base), \"hr\": 70, \"spo2\": 97}".utf8), qos: 1, receivedAt: Date())
        expected += ["good@\(base)", "good@\(base)"]
        for (agent, aarq) in zip(agents, aarqs) { try gateway.journal.appendInbox(topic: topic(agent), payload: aarq, qos: 1, receivedAt: Date()) }
        for i in 1...60 {
            let ts = base + Int64(i) * 1000
            try gateway.journal.appendInbox(topic: "wards/w/devices/good/vitals", payload: Array("{\"ts\": \(ts), \"hr\": \(60 + i % 40), \"spo2\": 97}".utf8), qos: 1, receivedAt: Date())
            expected += ["good@\(ts)", "good@\(ts)"]
            for a in agents.indices {
                let report = try agents[a].measurement(wallClock: Date(timeIntervalSince1970: Double(ts + Int64(a) * 10) / 1000), now: .seconds(i))
                try gateway.journal.appendInbox(topic: topic(agents[a]), payload: report.apdu, qos: 1, receivedAt: Date())
                #expect(report.expectedReadings.count == 2)
                expected += report.expectedReadings.map { "\($0.deviceId)@\(Int64((($0.deviceTime?.instant.timeIntervalSince1970 ?? 0) * 1000).rounded()))" }
            }
        }
        try gateway.processor.drain()

        let stats = try gateway.journal.statistics()
        #expect(stats.pendingRecords == 0)
        #expect(try gateway.journal.deadLetters().isEmpty, "an APDU was refused: its session saw it out of order")
        #expect(stats.observations == expected.count)
        #expect(stats.signed == expected.count)
        var leaves: [String] = []
        for leaf in 0..<UInt64(expected.count) {
            let observation = try #require(try gateway.log.leafIndex.observation(leafIndex: leaf), "no Observation at leaf \(leaf)")
            let resource = try JSONParser.parse(observation.resource)
            let text = try #require(resource["effectiveDateTime"]?.stringValue)
            leaves.append("\(observation.deviceId)@\(try #require(FHIRInstant.milliseconds(text), "unreadable effectiveDateTime \(text)"))")
        }
        #expect(leaves == expected, "leaf order differs from inbox order")
        // No broker here: each AARE failed to send and was counted (no agent waits for a late
        // one); each confirmation is held for as long as its agent may wait for it.
        let metrics = gateway.metrics.snapshot()
        #expect(metrics["wardgate_manager_replies_total{result=\"failed\"}"] == Double(agents.count))
        #expect(metrics["wardgate_manager_replies_total{result=\"sent\"}"] == 0)
    }
}

/// A FHIR dateTime as milliseconds since 1970, read with Foundation so the test does not reuse
/// the code it checks.
enum FHIRInstant {
    static func milliseconds(_ text: String) -> Int64? {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let date = formatter.date(from: text) { return Int64((date.timeIntervalSince1970 * 1000).rounded()) }
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.date(from: text).map { Int64(($0.timeIntervalSince1970 * 1000).rounded()) }
    }
}
