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

/// The processor commits one batch while it decodes and signs the next (issue #16): batches
/// still commit in inbox order, each record once, and an 11073 APDU is not stepped before the
/// batch ahead of it committed.
@Suite("Processor: the next batch prepared while one commits")
struct PreparedBatchTests {
    static let profiles = [
        ("hr.yml", """
            id: hr
            description: one heart rate per message
            topic: wards/+/devices/{device}/vitals
            format: json
            timestamp: {pointer: /ts, format: epoch-ms}
            metrics:
              - {pointer: /hr, mdc: MDC_PULS_RATE_NON_INV, unit: /min, range: [20, 300]}

            """),
        ("phd.yml", "id: phd\ndescription: 11073 agents\ntopic: phd/{device}/agent\nmanagerTopic: phd/{device}/manager\nformat: ieee11073-20601\n"),
    ]

    @Test("1,200 records over three batches: every one processed once, the Observations in inbox order, the APDU answered after its batch")
    func batchesCommitInOrder() throws {
        let directory = NSTemporaryDirectory() + "wardgate-prepared-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try FileManager.default.createDirectory(atPath: directory + "/profiles", withIntermediateDirectories: true)
        for (name, text) in Self.profiles { try text.write(toFile: directory + "/profiles/" + name, atomically: true, encoding: .utf8) }
        let journal = try Journal(directory: directory + "/state", tables: [ManagerSessionStore.tables])
        let logger = Logger(label: "test.prepared")
        let sent = Mutex<[[UInt8]]>([])
        let managers = ManagerSessions(
            store: JournalConfigurationStore(journal: journal, logger: logger), managerSystemId: SystemId(0x0200_0000_0000_0001), offsetRule: .utc)
        let processor = try ObservationProcessor(
            journal: journal,
            runtime: RuntimeState(profiles: try ProfileSet.load(directory: directory + "/profiles"), assignments: try AssignmentBook(path: nil), identity: nil),
            metrics: ProcessingMetrics(factory: NOOPMetricsHandler.instance), logger: logger, wake: WakeSignal(), managers: managers,
            replies: ReplyChannel { _, payload in sent.withLock { $0.append(payload) } }, log: nil)

        // Batches are 500 records: the APDU is in the second, a malformed payload in the third.
        var agent = try SimulatedAgent(specialization: .weighingScaleExtended, systemId: SystemId(0x00A0_0000_0000_0001))
        let messages = try (0..<1_200).map { i -> InboxMessage in
            let payload: [UInt8] = switch i {
            case 700: try agent.associationRequest(now: .zero)
            case 1_100: Array("{\"ts\":".utf8)
            default: Array("{\"ts\":\(1_795_000_000_000 + Int64(i) * 1000),\"hr\":\(40 + i % 150)}".utf8)
            }
            return InboxMessage(topic: i == 700 ? "phd/\(agent.deviceId)/agent" : "wards/7b/devices/bed-1/vitals", payload: payload, qos: 1, receivedAt: Date())
        }
        let seqs = try journal.appendInbox(messages)
        #expect(try journal.pendingInbox(after: seqs[9], limit: 2).map(\.seq) == [seqs[10], seqs[11]])

        try processor.drain()

        let statistics = try journal.statistics()
        #expect(statistics.pendingRecords == 0)
        #expect(statistics.observations == 1_198 && statistics.deadLetters == 1)
        // One heart rate per second of device time: journal order is inbox order.
        let times = try journal.observations().map { stored in
            String(decoding: stored.resource, as: UTF8.self).split(separator: #""effectiveDateTime":""#).last?.prefix(24) ?? ""
        }
        #expect(times.count == 1_198 && times == times.sorted() && Set(times).count == times.count)
        #expect(sent.withLock { $0 }.filter { $0.starts(with: [0xE3, 0x00]) }.count == 1, "the association was answered once")
        // The cursor dominates `after`: nothing is pending behind it.
        #expect(try journal.pendingInbox(after: 0, limit: 10).isEmpty)
    }
}
