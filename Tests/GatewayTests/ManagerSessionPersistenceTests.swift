import DeviceProfiles
import Foundation
import Gateway
import IEEE11073
import Journal
import Processing
import Simulation
import Synchronization
import Testing
import WardgateTestSupport

/// The processor commits 11073 sessions with the cursor and rolls them back when that commit
/// fails; a new processor on the same journal restores them (issue #17, item 2).
@Suite("11073 manager sessions: committed with the cursor, rolled back with it, restored")
struct ManagerSessionPersistenceTests {
    /// Fails every commit while `failing` is set, as a full disk would.
    final class FailingCommit: ObservationCommitHook {
        struct Refused: Error {}
        let failing = Atomic<Bool>(false)
        func committing(_ inserted: [ObservationEntry], canonicalObservations: [String: [UInt8]], in transaction: JournalTransaction) throws -> Int {
            if failing.load(ordering: .relaxed) { throw Refused() }
            return 0
        }
    }

    /// A processor on `journal` whose replies are recorded instead of published.
    final class SentReplies: Sendable {
        let list = Mutex<[[UInt8]]>([])
    }

    struct Harness {
        let processor: ObservationProcessor
        let managers: ManagerSessions
        let sent = SentReplies()
        let hook = FailingCommit()

        init(journal: Journal) throws {
            let runtime = RuntimeState(
                profiles: try ProfileSet.load(directory: TestSupport.shippedProfiles), assignments: try AssignmentBook(path: nil), identity: nil)
            managers = ManagerSessions(
                store: JournalConfigurationStore(journal: journal, logger: TestSupport.quietLogger), managerSystemId: SystemId(0x0200_0000_0000_0001),
                offsetRule: .fixed(seconds: 0))
            let sent = self.sent
            let replies = ReplyChannel { _, payload in sent.list.withLock { $0.append(payload) } }
            processor = try ObservationProcessor(
                journal: journal, runtime: runtime, metrics: GatewayMetrics().processing, logger: TestSupport.quietLogger,
                wake: WakeSignal(), managers: managers, replies: replies, log: hook)
        }

        func takeSent() -> [APDU] { sent.list.withLock { sent in defer { sent = [] }; return sent.compactMap { try? APDU.decode($0) } } }
    }

    @Test("a failed commit leaves the session as last committed; the retry meets it; a restarted processor restores it")
    func rollbackAndRestore() throws {
        let directory = TestSupport.temporaryDirectory("phd-sessions")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let journal = try TestSupport.openJournal(directory)
        let harness = try Harness(journal: journal)
        let systemId = SystemId(0x00D0_0000_0000_0001)
        var agent = try SimulatedAgent(specialization: .pulseOximeter, systemId: systemId, utcOffsetSeconds: 0)
        let topic = "phd/\(systemId.hex)/agent"

        try journal.appendInbox(topic: topic, payload: try agent.associationRequest(now: .zero), qos: 1, receivedAt: Date())
        harness.hook.failing.store(true, ordering: .relaxed)
        #expect(throws: JournalError.self) { try harness.processor.drain() }
        // Not committed, so not there: the AARQ processed again must not meet an operating session.
        #expect(harness.managers.session(deviceKey: systemId.hex) == nil)
        #expect(harness.takeSent().isEmpty, "nothing is sent for a batch that did not commit")

        harness.hook.failing.store(false, ordering: .relaxed)
        try harness.processor.drain()
        let answers = harness.takeSent()
        #expect(answers.count == 1)
        guard case .aare(let response)? = answers.first else {
            Issue.record("expected an AARE, got \(answers.map(\.name))")
            return
        }
        #expect(response.associationResult == .accepted)
        for apdu in answers { _ = agent.receive(try apdu.encode(), now: .milliseconds(10)) }
        #expect(agent.state == .operating)

        // A restarted processor on the same journal: the session comes back operating and takes
        // the next report as the first one would have.
        let restarted = try Harness(journal: journal)
        let restoration = try restarted.processor.restoreSessions()
        #expect(restoration.restored == 1 && restoration.lost.isEmpty)
        #expect(restarted.managers.session(deviceKey: systemId.hex)?.state == .operating)
        let measurement = try agent.measurement(wallClock: Date(), now: .milliseconds(20))
        try journal.appendInbox(topic: topic, payload: measurement.apdu, qos: 1, receivedAt: Date())
        try restarted.processor.drain()
        let confirmations = restarted.takeSent()
        #expect(confirmations.count == 1)
        if case .prst(let data)? = confirmations.first, case .rorsConfirmedEventReport = data.message {
            #expect(data.invokeId == measurement.invokeId)
        } else {
            Issue.record("expected the report's confirmation, got \(confirmations.map(\.name))")
        }
        #expect(try journal.observations(deviceId: agent.deviceId).count == measurement.expectedReadings.count)
        #expect(try journal.deadLetters().isEmpty)
    }
}
