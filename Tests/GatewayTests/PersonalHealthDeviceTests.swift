import Foundation
import Gateway
import IEEE11073
import Journal
import Observations
import Simulation
import Testing
import WardgateTools

@Suite("IEEE 11073-20601 agents over a real mosquitto", .serialized)
struct PersonalHealthDeviceTests {
    @Test("an extended-configuration scale and a standard pulse oximeter: associate, 100 scan reports, release; every Observation once",
          arguments: [AgentSpecialization.weighingScaleExtended, .pulseOximeter])
    func agentDialogue(specialization: AgentSpecialization) async throws {
        let ward = try await TestWard("phd")
        let gateway = ward.gateway

        let systemId = SystemId(0x0011_2233_4455_6677)
        let agent = try MQTTPersonalHealthAgent(specialization: specialization, systemId: systemId, brokerPort: ward.broker.port, logger: TestSupport.quietLogger)
        defer { agent.stop() }
        #expect(try await agent.associate())

        var expected: [Reading] = []
        let start = Date().addingTimeInterval(-200)
        for i in 0..<100 {
            expected += try agent.sendMeasurement(at: start.addingTimeInterval(Double(i)))
        }
        #expect(await agent.waitForConfirmations(100, timeout: .seconds(60)))
        // The AARE (and, for the scale, the configuration verdict) and 100 confirmations.
        #expect(gateway.metrics.snapshot()["wardgate_manager_replies_total{result=\"sent\"}"] >= 101)
        #expect(gateway.metrics.snapshot()["wardgate_manager_replies_total{result=\"failed\"}"] == 0)
        #expect(try await agent.release())
        try gateway.processor.drain()

        let stored = try gateway.journal.observations(deviceId: agent.deviceId)
        #expect(!expected.isEmpty)
        #expect(stored.count == expected.count)
        // Each expected reading is there exactly once, under the id the normalizer derives.
        let expectedIds = Set(expected.map { Normalizer.readingId(deviceId: $0.deviceId, metricCode: $0.metric.code, deviceTime: $0.deviceTime?.instant, fallbackKey: "") })
        #expect(Set(stored.map(\.id)) == expectedIds)
        #expect(try gateway.journal.deadLetters().isEmpty)
        // The raw APDUs stay in the journal: association, (config,) 100 reports, release.
        #expect(try gateway.journal.statistics().inboxRecords >= 102)

        if specialization == .weighingScaleExtended {
            // The learned configuration was persisted: a re-association is accepted at once.
            // The same device connects again, so the first connection goes first: two clients
            // with one client id take the broker connection from each other in turn.
            agent.stop()
            let again = try MQTTPersonalHealthAgent(specialization: specialization, systemId: systemId, brokerPort: ward.broker.port, logger: TestSupport.quietLogger)
            defer { again.stop() }
            #expect(try await again.associate())
            #expect(again.receivedEvents.contains(.associated(configurationKnown: true)))
        }
        await ward.finish()
    }

    @Test("malformed APDUs get the standard's answer, a dead letter, and do not disturb another device's session")
    func malformedInput() async throws {
        let ward = try await TestWard("phd-bad")
        let gateway = ward.gateway

        let good = try MQTTPersonalHealthAgent(specialization: .bloodPressure, systemId: SystemId(0x00AA_0000_0000_0001), brokerPort: ward.broker.port, logger: TestSupport.quietLogger)
        defer { good.stop() }
        let bad = try MQTTPersonalHealthAgent(specialization: .pulseOximeter, systemId: SystemId(0x00BB_0000_0000_0002), brokerPort: ward.broker.port, logger: TestSupport.quietLogger)
        defer { bad.stop() }
        #expect(try await good.associate())
        #expect(try await bad.associate())

        // Truncated, wrong length, garbage, and a data APDU out of any sense.
        let aarq = Array(try #require(MDERHex.bytes("e2000032800000000001002a5079002680000000a0008000000000000000008000000008887766554433221140000081010100000000")))
        try bad.publishRaw(Array(aarq.prefix(10)))
        try bad.publishRaw([0xE7, 0x00, 0x00, 0xFF, 0x00])
        try bad.publishRaw([0xDE, 0xAD, 0xBE, 0xEF])
        var expected: [Reading] = []
        for i in 0..<10 { expected += try good.sendMeasurement(at: Date().addingTimeInterval(Double(-100 + i))) }
        #expect(await good.waitForConfirmations(10, timeout: .seconds(30)))

        let lettered = try await TestSupport.eventually(timeout: .seconds(60)) {
            try gateway.journal.deadLetters().filter { $0.letter.deviceId == bad.systemId.hex }.count >= 3
        }
        #expect(lettered)
        let letters = try gateway.journal.deadLetters().filter { $0.letter.deviceId == bad.systemId.hex }
        #expect(letters.allSatisfy { $0.letter.kind == "protocol_error" && !$0.letter.reason.isEmpty })
        #expect(try gateway.journal.observations(deviceId: good.deviceId).count == expected.count)
        #expect(try gateway.journal.observations(deviceId: bad.deviceId).isEmpty)
        // The manager answered the protocol violations (an abort makes the agent unassociated).
        let aborted = await TestSupport.eventually(timeout: .seconds(60)) {
            bad.receivedEvents.contains { if case .aborted = $0 { true } else { false } }
        }
        #expect(aborted)
        await ward.finish()
    }
}
