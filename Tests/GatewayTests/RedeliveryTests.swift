import Foundation
import Gateway
import Journal
import MQTTIngest
import DeviceProfiles
import Processing
import Simulation
import Synchronization
import Testing
import WardgateTools

/// A read phase journaled whose PUBACKs never left (a crash, a dropped connection between the
/// commit and the write phase): a real mosquitto redelivers it on the resumed session, and the
/// journal keeps one record per message, so an 11073 session never steps on an APDU twice.
@Suite("A broker's redelivery of journaled messages is not journaled twice")
struct RedeliveryTests {
    @Test("the first read phase is journaled, then the connection drops before its PUBACKs: every message is in the inbox once")
    func redeliveredAfterCommit() async throws {
        let directory = TestSupport.temporaryDirectory("redelivery")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let broker = try PrivateBroker.start(directory: directory + "/broker")
        defer { broker.stop() }
        let journal = try TestSupport.openJournal(directory + "/state")
        let metrics = GatewayMetrics()
        let runtime = RuntimeState(profiles: try ProfileSet.load(directory: TestSupport.shippedProfiles), assignments: try AssignmentBook(path: nil), identity: nil)
        let ingest = IngestHandler(journal: journal, runtime: runtime, metrics: metrics.processing, logger: TestSupport.quietLogger, wake: WakeSignal())
        let cutOff = Atomic<Bool>(false)
        let gateway = try MQTTClient.committingBatches(
            settings: TestSupport.config(directory: directory, brokerPort: broker.port, clientId: "wardgate-redelivery").mqtt,
            subscriptions: ["phd/+/agent"], logger: TestSupport.quietLogger
        ) { messages in
            let stored = ingest.handle(messages)
            // As if the process died right after the commit: the PUBACKs are never written.
            if stored == .stored, !cutOff.exchange(true, ordering: .relaxed) { return .refused("cut off after the commit") }
            return stored
        }
        gateway.start()
        defer { gateway.stop() }
        #expect(await gateway.waitUntilReady(timeout: .seconds(60)))

        let agent = try MQTTClient(settings: MQTTSettings(port: broker.port, clientId: "redelivery-agent", cleanStart: true), logger: TestSupport.quietLogger)
        agent.start()
        defer { agent.stop() }
        #expect(await agent.waitUntilReady(timeout: .seconds(60)))
        let payloads = (0..<50).map { i in [0xE7, 0x00, UInt8(i)] as [UInt8] }
        for payload in payloads { _ = try agent.publish(topic: "phd/00aa000000000001/agent", payload: payload, qos: 1) }

        let settled = try await TestSupport.eventually(timeout: .seconds(60)) {
            let journaled = try journal.statistics().inboxRecords
            return cutOff.load(ordering: .relaxed) && journaled >= payloads.count && metrics.snapshot()["wardgate_inbox_redeliveries_total"] > 0
        }
        #expect(settled, "the broker redelivered the cut-off read phase")
        try await Task.sleep(for: .milliseconds(300))
        var stored: [[UInt8]] = []
        try journal.forEachInboxRecord { stored.append($0.payload) }
        #expect(stored == payloads, "each message once, in order")
        #expect(metrics.snapshot()["wardgate_inbox_redeliveries_total"] >= 1)
    }
}
