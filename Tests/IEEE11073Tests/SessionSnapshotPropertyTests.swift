import Foundation
@testable import IEEE11073
import Simulation
import Testing

/// Seeded random dialogues: one session runs straight through, its twin is snapshotted and
/// restored before every input (as if the process restarted each time). Both must answer every
/// input alike, whatever the order of APDUs, timers and manager requests.
@Suite("Session snapshots, seeded dialogues")
struct SessionSnapshotPropertyTests {
    /// The agent-side APDUs the dialogues draw from.
    struct InputPool {
        let associations: [[UInt8]]
        let configReports: [[UInt8]]
        let reports: [[UInt8]]
        let others: [[UInt8]]

        init() throws {
            associations = [
                try aarq(configId: 0x0190), try aarq(configId: 0x02BC), try aarq(configId: 0x05DC), try aarq(configId: 0x0258),
                try Vectors.named("aarq-extended-config").bytes, try Vectors.named("aarq-blood-pressure").bytes,
            ]
            configReports = [
                try Vectors.named("config-report-scale-extended").bytes,
                try SessionCatalog.configReport(id: 0x0258, like: 0x05DC),
                try SessionCatalog.configReport(id: 0x0000, like: 0x05DC),  // reserved id: unsupported-config
            ]
            reports = try [
                "scan-fixed-pulse-oximeter-std-config-400", "scan-fixed-blood-pressure-std-config-700", "scan-fixed-scale-std-config-1500",
                "scan-mp-fixed-blood-pressure", "scan-fixed-scale-extended", "scan-var-pulse-oximeter-unbuffered-scanner",
            ].map { try Vectors.named($0).bytes }
            others = [
                try APDU.rlrq(reason: 0).encode(), try APDU.rlre(reason: 0).encode(), try APDU.abrt(reason: 0).encode(),
                try Vectors.named("aare-accepted-unknown-config").bytes,
            ]
        }
    }

    struct Coverage {
        var states: Set<ManagerState> = []
        var withTimers = 0
        var withMDSAttributes = 0
        var withEmbeddedConfiguration = 0
        var unchangedRevisions = 0

        mutating func record(_ session: ManagerSession) {
            states.insert(session.state)
            if !session.deadlines.isEmpty { withTimers += 1 }
            if session.mdsAttributes != nil { withMDSAttributes += 1 }
            if let configuration = session.configuration, StandardConfigurations.configuration(id: configuration.id) != configuration {
                withEmbeddedConfiguration += 1
            }
        }
    }

    @Test(arguments: [1, 7, 20_601] as [UInt64])
    func restoredTwinAnswersLikeTheOriginal(seed: UInt64) throws {
        var random = SeededGenerator(seed: seed)
        let pool = try InputPool()
        var straight = ManagerSession(settings: testSettings, store: InMemoryConfigurationStore())
        let twinStore = InMemoryConfigurationStore()
        var twin = ManagerSession(settings: testSettings, store: twinStore)
        var now = Duration.zero
        var coverage = Coverage()
        for step in 0..<2_000 {
            twin = try ManagerSession.restored(from: try twin.snapshot(now: now), settings: testSettings, store: twinStore, now: now)
            let revision = straight.stateRevision
            let then = now
            let before = try straight.snapshot(now: then)
            let (expected, actual) = try Self.apply(draw(&random), pool, &straight, &twin, now: &now, &random)
            #expect(expected == actual, "seed \(seed), step \(step)")
            #expect(try twin.snapshot(now: now) == straight.snapshot(now: now), "seed \(seed), step \(step)")
            if straight.stateRevision == revision {
                coverage.unchangedRevisions += 1
                #expect(try straight.snapshot(now: then) == before, "seed \(seed), step \(step): the revision stayed but the snapshot changed")
            }
            coverage.record(straight)
        }
        #expect(coverage.states == [.unassociated, .configuring, .operating, .disassociating])
        #expect(coverage.withTimers > 0 && coverage.withMDSAttributes > 0 && coverage.withEmbeddedConfiguration > 0)
        #expect(coverage.unchangedRevisions > 0)
    }

    enum Action: CaseIterable {
        case associate, configure, report, mdsResponse, other, malformed, requestMDS, release, abort, wait
    }

    func draw(_ random: inout SeededGenerator) -> Action {
        // Reports are what an operating agent mostly sends.
        let weighted: [Action] = Action.allCases + [.report, .report, .report, .associate, .configure, .wait]
        return weighted[Int.random(in: 0..<weighted.count, using: &random)]
    }

    static func apply(
        _ action: Action, _ pool: InputPool, _ straight: inout ManagerSession, _ twin: inout ManagerSession,
        now: inout Duration, _ random: inout SeededGenerator
    ) throws -> (StepOutcome, StepOutcome) {
        func pick(_ list: [[UInt8]]) -> [UInt8] { list[Int.random(in: 0..<list.count, using: &random)] }
        func both(_ input: [UInt8]) -> (StepOutcome, StepOutcome) {
            (StepOutcome(straight.receive(input, now: now)), StepOutcome(twin.receive(input, now: now)))
        }
        switch action {
        case .associate: return both(pick(pool.associations))
        case .configure: return both(pick(pool.configReports))
        case .report: return both(pick(pool.reports))
        case .other: return both(pick(pool.others))
        case .mdsResponse:
            let invokeId = straight.pendingRequests.keys.min() ?? UInt16.random(in: 0...3, using: &random)
            return both(try SessionCatalog.mdsResponse(invokeId: invokeId))
        case .malformed:
            let bytes = pick(pool.reports + pool.associations)
            return both(Array(bytes.prefix(Int.random(in: 0..<bytes.count, using: &random))))
        case .requestMDS: return (StepOutcome(straight.requestMDSAttributes(now: now)), StepOutcome(twin.requestMDSAttributes(now: now)))
        case .release: return (StepOutcome(straight.release(now: now)), StepOutcome(twin.release(now: now)))
        case .abort: return (StepOutcome(straight.abort(now: now)), StepOutcome(twin.abort(now: now)))
        case .wait:
            now += .milliseconds(Int64.random(in: 0...12_000, using: &random))
            return (StepOutcome(straight.tick(now: now)), StepOutcome(twin.tick(now: now)))
        }
    }
}
