import CoreMetrics
import DeviceProfiles
import Foundation
import IEEE11073
import Journal
import Logging
import Processing
import Simulation
import Synchronization
import Testing
import WardgateTestSupport

/// The 20601 timers' aborts go to the manager topic of the profile that owns the device's
/// session, whichever 11073 profile that is.
@Suite("11073 manager timers: each abort on its own profile's manager topic")
struct ManagerTimerTests {
    /// Two IEEE 11073 profiles whose topics and manager topics differ.
    static let profiles = [
        ("a-phd.yml", "id: phd-a\ndescription: 11073 agents of ward A\ntopic: phd/{device}/agent\nmanagerTopic: phd/{device}/manager\nformat: ieee11073-20601\n"),
        ("b-phd.yml", "id: phd-b\ndescription: 11073 agents of ward B\ntopic: wards/b/phd/{device}/apdu\nmanagerTopic: wards/b/phd/{device}/to-agent\nformat: ieee11073-20601\n"),
    ]

    @Test("two agents, one per profile, associate with an unknown configuration and go silent: each gets its ABRT on its own profile's topic")
    func abortsFollowTheSessionsProfile() async throws {
        let directory = NSTemporaryDirectory() + "wardgate-timers-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try FileManager.default.createDirectory(atPath: directory + "/profiles", withIntermediateDirectories: true)
        for (name, text) in Self.profiles { try text.write(toFile: directory + "/profiles/" + name, atomically: true, encoding: .utf8) }
        let journal = try Journal(directory: directory + "/state", tables: [ManagerSessionStore.tables])
        let logger = Logger(label: "test.timers")
        let sent = Mutex<[(topic: String, payload: [UInt8])]>([])
        let replies = ReplyChannel { topic, payload in sent.withLock { $0.append((topic, payload)) } }
        // TO_config shortened from 10 s: the abort comes a moment after the association.
        let managers = ManagerSessions(
            store: JournalConfigurationStore(journal: journal, logger: logger), managerSystemId: SystemId(0x0200_0000_0000_0001),
            offsetRule: .utc, timeouts: ManagerTimeouts(configuration: .milliseconds(200)))
        let processor = try ObservationProcessor(
            journal: journal,
            runtime: RuntimeState(profiles: try ProfileSet.load(directory: directory + "/profiles"), assignments: try AssignmentBook(path: nil), identity: nil),
            metrics: ProcessingMetrics(factory: NOOPMetricsHandler.instance), logger: logger, wake: WakeSignal(), managers: managers,
            replies: replies, log: nil)

        // Extended-configuration scales: the manager accepts the association with the
        // configuration unknown and waits for it (TO_config), which never comes.
        var first = try SimulatedAgent(specialization: .weighingScaleExtended, systemId: SystemId(0x00A0_0000_0000_0001))
        var second = try SimulatedAgent(specialization: .weighingScaleExtended, systemId: SystemId(0x00B0_0000_0000_0002))
        let firstTopic = "phd/\(first.deviceId)/agent", secondTopic = "wards/b/phd/\(second.deviceId)/apdu"
        try journal.appendInbox(topic: firstTopic, payload: try first.associationRequest(now: .zero), qos: 1, receivedAt: Date())
        try journal.appendInbox(topic: secondTopic, payload: try second.associationRequest(now: .zero), qos: 1, receivedAt: Date())

        let running = Task { await processor.run() }
        defer { running.cancel() }
        let deadline = ContinuousClock.now + .seconds(20)
        func aborts() -> [(topic: String, payload: [UInt8])] { sent.withLock { $0 }.filter { $0.payload.starts(with: [0xE6, 0x00]) } }
        while aborts().count < 2, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }

        let all = sent.withLock { $0 }
        // Each association was answered on its own profile's manager topic (AARE, 0xE300)...
        #expect(all.filter { $0.payload.starts(with: [0xE3, 0x00]) }.map(\.topic).sorted()
            == ["phd/\(first.deviceId)/manager", "wards/b/phd/\(second.deviceId)/to-agent"])
        // ... and so was each timeout's abort.
        #expect(aborts().map(\.topic).sorted() == ["phd/\(first.deviceId)/manager", "wards/b/phd/\(second.deviceId)/to-agent"])
    }
}
