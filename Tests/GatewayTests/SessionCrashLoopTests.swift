import Foundation
import IEEE11073
import Journal
import Observations
import Simulation
import Synchronization
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// IEEE 11073 agents keep sending confirmed scan reports while the real daemon is SIGKILLed 20
/// times (issue #17, item 2). Each restart must meet every agent in the state it left it in.
@Suite("11073 manager sessions survive a SIGKILL crash loop", .serialized)
struct SessionCrashLoopTests {
    static let kills = 20

    @Test("20 SIGKILLs while three agents report: every report confirmed, its Observations once, no dead letter, every agent operating")
    func crashLoop() async throws {
        #expect(FileManager.default.isExecutableFile(atPath: TestSupport.wardgateBinary), "build the wardgate executable first")
        let directory = TestSupport.temporaryDirectory("phd-crash-loop")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let broker = try PrivateBroker.start(directory: directory + "/broker", maxQueuedMessages: 100_000)
        defer { broker.stop() }
        let configPath = try TestSupport.writeConfigFile(directory: directory, brokerPort: broker.port, clientId: "wardgate-phd-crash-loop")
        let logPath = directory + "/gateway.log"
        var gateway = try GatewayProcess(configPath: configPath, logPath: logPath)
        #expect(await gateway.waitUntilSubscribed())

        // A standard configuration, a second one, and an extended one the manager learns.
        let specializations: [AgentSpecialization] = [.pulseOximeter, .bloodPressure, .weighingScaleExtended]
        let agents = try specializations.enumerated().map { i, specialization in
            try MQTTPersonalHealthAgent(
                specialization: specialization, systemId: SystemId(0x00C0_0000_0000_0001 + UInt64(i)), brokerPort: broker.port, logger: TestSupport.quietLogger)
        }
        defer { for agent in agents { agent.stop() } }
        for agent in agents { #expect(try await agent.associate()) }

        // The agents report every 40 ms, whether the daemon is up or not (the broker queues for it).
        let reporting = Task { () throws -> [String: [Reading]] in
            var expected: [String: [Reading]] = [:]
            let start = Date().addingTimeInterval(-3600)
            var round = 0
            while !Task.isCancelled {
                // An agent the manager aborted stops reporting (and fails the checks below).
                for agent in agents where agent.state == .operating {
                    expected[agent.deviceId, default: []] += try agent.sendMeasurement(at: start.addingTimeInterval(Double(round)))
                }
                round += 1
                try? await Task.sleep(for: .milliseconds(40))
            }
            return expected
        }

        // Kill at a different point of each run: 50 to 450 ms after it connected.
        var random = SeededGenerator(seed: 17)
        for kill in 1...Self.kills {
            try await Task.sleep(for: .milliseconds(Int.random(in: 50...450, using: &random)))
            gateway.kill()
            gateway = try GatewayProcess(configPath: configPath, logPath: logPath)
            #expect(await gateway.waitUntilSubscribed(connectNumber: kill + 1), "restart \(kill) did not connect")
        }
        try await Task.sleep(for: .milliseconds(300))
        reporting.cancel()
        let expected = try await reporting.value

        let journal = try TestSupport.openJournal(directory + "/state")
        let settled = try await TestSupport.eventually(timeout: .seconds(60)) {
            let confirmed = agents.allSatisfy { $0.confirmedReports == $0.sentReports }
            return try confirmed && journal.statistics().pendingRecords == 0
        }
        #expect(settled, "confirmed \(agents.map(\.confirmedReports)) of \(agents.map(\.sentReports)) reports")
        let log = gateway.log
        #expect(gateway.terminate() == 0)

        #expect(log.components(separatedBy: "11073 sessions restored").count - 1 == Self.kills, "each restart restores the sessions")
        #expect(!log.contains("snapshot refused"))
        let repeated = agents.map { $0.receivedEvents.filter { if case .unexpected = $0 { true } else { false } }.count }
        print("crash loop: \(Self.kills) SIGKILLs; reports \(agents.map(\.sentReports)); confirmations received twice \(repeated)")
        for agent in agents {
            #expect(agent.state == .operating, "\(agent.deviceId) ends \(agent.state)")
            #expect(agent.sentReports > Self.kills, "\(agent.deviceId) reported across the crashes")
            // A confirmation sent again after a crash reaches an agent that had it: it ignores it (agent 8.26).
            let problems = agent.receivedEvents.filter { event in
                switch event {
                case .aborted, .reportRefused, .timedOut, .associationRejected, .configurationRefused: true
                case .unexpected(let what): !what.hasPrefix("confirmation for unknown invoke-id")
                default: false
                }
            }
            #expect(problems.isEmpty, "\(agent.deviceId): \(problems)")
            let readings = expected[agent.deviceId] ?? []
            let expectedIds = Set(readings.map { Normalizer.readingId(deviceId: $0.deviceId, metricCode: $0.metric.code, deviceTime: $0.deviceTime?.instant, fallbackKey: "") })
            #expect(!readings.isEmpty && expectedIds.count == readings.count)
            let stored = try journal.observations(deviceId: agent.deviceId)
            #expect(stored.count == readings.count, "\(agent.deviceId): \(stored.count) Observations for \(readings.count) readings")
            #expect(Set(stored.map(\.id)) == expectedIds)
        }
        let letters = try journal.deadLetters()
        #expect(letters.isEmpty, "dead letters: \(letters.prefix(5).map { "\($0.letter.kind): \($0.letter.reason)" })")
    }
}
