import Foundation
import IEEE11073
import Observations
import Simulation
import Testing

/// A simulated agent and the manager talk in memory: every byte one sends, the other receives.
@Suite("Simulated agent and manager")
struct AgentDialogueTests {
    struct Transcript {
        var readings: [Reading] = []
        var expected: [Reading] = []
        var managerEvents: [SessionEvent] = []
    }

    /// Delivers agent output to the manager and manager output back, until both are quiet.
    static func exchange(_ first: [[UInt8]], agent: inout SimulatedAgent, manager: inout ManagerSession,
                         now: Duration, transcript: inout Transcript) {
        var toManager = first
        var rounds = 0
        while !toManager.isEmpty, rounds < 16 {
            rounds += 1
            var toAgent: [[UInt8]] = []
            for apdu in toManager {
                let result = manager.receive(apdu, now: now)
                #expect(result.rejection == nil, "\(result.rejection?.description ?? "")")
                transcript.readings += result.readings
                transcript.managerEvents += result.events
                toAgent += result.outgoing
            }
            toManager = []
            for apdu in toAgent { toManager += agent.receive(apdu, now: now).outgoing }
        }
    }

    @Test(arguments: AgentSpecialization.allCases)
    func fullDialogue(_ specialization: AgentSpecialization) throws {
        let store = InMemoryConfigurationStore()
        var agent = try SimulatedAgent(specialization: specialization, systemId: SystemId(0x00A0_B0C0_D0E0_F001), utcOffsetSeconds: 7200, seed: 42)
        let settings = ManagerSettings(managerSystemId: managerId, offsetRule: .fixed(seconds: 7200))
        var manager = ManagerSession(settings: settings, store: store)
        var transcript = Transcript()
        var now = Duration.zero

        Self.exchange([try agent.associationRequest(now: now)], agent: &agent, manager: &manager, now: now, transcript: &transcript)
        #expect(agent.state == .operating)
        #expect(manager.state == .operating)
        #expect(manager.configuration?.id == specialization.configId)
        let configured = transcript.managerEvents.contains { if case .configured = $0 { true } else { false } }
        #expect(configured == (specialization == .weighingScaleExtended))

        let start = Date(timeIntervalSince1970: 1_767_225_600)  // 2026-01-01T00:00:00Z
        for index in 0..<100 {
            now += .seconds(30)
            let measurement = try agent.measurement(wallClock: start.addingTimeInterval(Double(index) * 30 + 0.37), now: now)
            transcript.expected += measurement.expectedReadings
            Self.exchange([measurement.apdu], agent: &agent, manager: &manager, now: now, transcript: &transcript)
            #expect(manager.tick(now: now).outgoing.isEmpty)
        }
        #expect(agent.confirmedReports == 100)
        #expect(agent.pendingReports == 0)
        #expect(transcript.expected.count == 200)
        // Every Reading exactly once, in order, equal in value, unit, time and device id.
        #expect(transcript.readings == transcript.expected)
        #expect(Set(transcript.readings.map(\.deviceId)) == ["00-A0-B0-C0-D0-E0-F0-01"])
        #expect(transcript.readings.allSatisfy { $0.deviceTime?.offsetAssumed == true && $0.deviceTime?.utcOffsetSeconds == 7200 })
        let firstTime = try #require(transcript.readings.first?.deviceTime?.instant)
        #expect(abs(firstTime.timeIntervalSince(start.addingTimeInterval(0.37))) < 0.000_001, "\(firstTime.timeIntervalSince1970)")

        now += .seconds(1)
        Self.exchange([try agent.releaseRequest(now: now)], agent: &agent, manager: &manager, now: now, transcript: &transcript)
        #expect(agent.state == .unassociated)
        #expect(manager.state == .unassociated)
        #expect(transcript.managerEvents.last == .released(byAgent: true))
    }

    @Test func extendedScaleReassociatesWithoutConfiguration() throws {
        let store = InMemoryConfigurationStore()
        let settings = ManagerSettings(managerSystemId: managerId, offsetRule: .utc)
        var agent = try SimulatedAgent(specialization: .weighingScaleExtended, systemId: SystemId(0xFEED), seed: 1)
        var transcript = Transcript()
        for round in 0..<2 {
            var manager = ManagerSession(settings: settings, store: store)
            let now = Duration.seconds(round * 100)
            Self.exchange([try agent.associationRequest(now: now)], agent: &agent, manager: &manager, now: now, transcript: &transcript)
            #expect(manager.state == .operating)
            Self.exchange([try agent.releaseRequest(now: now)], agent: &agent, manager: &manager, now: now, transcript: &transcript)
        }
        let associations = transcript.managerEvents.compactMap { event -> Bool? in
            if case .associated(_, _, let known) = event { return known } else { return nil }
        }
        #expect(associations == [false, true])
        #expect(store.count == 1)
    }

    @Test func managerAsksTheAgentForItsMDSAttributes() throws {
        var agent = try SimulatedAgent(specialization: .bloodPressure, systemId: SystemId(0xABCD), seed: 3)
        var manager = ManagerSession(settings: testSettings, store: InMemoryConfigurationStore())
        var transcript = Transcript()
        Self.exchange([try agent.associationRequest(now: .zero)], agent: &agent, manager: &manager, now: .zero, transcript: &transcript)
        let request = manager.requestMDSAttributes(now: .seconds(1))
        var answers: [[UInt8]] = []
        for apdu in request.outgoing { answers += agent.receive(apdu, now: .seconds(1)).outgoing }
        Self.exchange(answers, agent: &agent, manager: &manager, now: .seconds(1), transcript: &transcript)
        #expect(manager.mdsAttributes?.model == "SimCuff 700")
        #expect(manager.mdsAttributes?.systemId == SystemId(0xABCD))
        #expect(manager.mdsAttributes?.specializations == [MDSAttributes.Specialization(type: 4103, version: 1)])
    }

    @Test func agentTimersAbort() throws {
        var agent = try SimulatedAgent(specialization: .pulseOximeter, systemId: SystemId(1))
        _ = try agent.associationRequest(now: .zero)
        #expect(agent.tick(now: .milliseconds(9_999)).outgoing.isEmpty)
        let timeout = agent.tick(now: .seconds(10))
        #expect(timeout.outgoing == [try APDU.abrt(reason: 0).encode()])
        #expect(agent.state == .unassociated)
    }
}
