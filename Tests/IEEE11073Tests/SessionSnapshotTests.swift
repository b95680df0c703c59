import Foundation
@testable import IEEE11073
import Simulation
import Testing

@Suite("Session snapshots")
struct SessionSnapshotTests {
    /// The same session after a restart: everything observable is kept, timers keep what remained.
    @Test func everyStateRoundTrips() throws {
        let entries = try SessionCatalog.all()
        #expect(Set(entries.map(\.session.state)) == [.unassociated, .configuring, .operating, .disassociating])
        for entry in entries {
            let bytes = try entry.session.snapshot(now: entry.now)
            let later = entry.now + .seconds(1000)
            let restored = try ManagerSession.restored(from: bytes, settings: testSettings, store: InMemoryConfigurationStore(), now: later)
            #expect(try restored.snapshot(now: later) == bytes, "\(entry.name)")
            #expect(restored.state == entry.session.state, "\(entry.name)")
            #expect(restored.agent == entry.session.agent, "\(entry.name)")
            #expect(restored.configuration == entry.session.configuration, "\(entry.name)")
            #expect(restored.mdsAttributes == entry.session.mdsAttributes, "\(entry.name)")
            #expect(restored.deviceId == entry.session.deviceId, "\(entry.name)")
            #expect(restored.pendingRequests == entry.session.pendingRequests, "\(entry.name)")
            #expect(restored.nextInvokeId == entry.session.nextInvokeId, "\(entry.name)")
            #expect(restored.deadlines.mapValues { $0 - later } == entry.session.deadlines.mapValues { $0 - entry.now }, "\(entry.name)")
            try expectSameContinuation(entry, restored, restoredAt: later)
        }
    }

    /// Both copies answer the next inputs alike: a scan report, a GET response, a timer, a release.
    func expectSameContinuation(_ entry: SessionCatalog.Entry, _ restored: ManagerSession, restoredAt later: Duration) throws {
        var original = entry.session
        var copy = restored
        let shift = later - entry.now
        var inputs: [[UInt8]] = [
            try Vectors.named("scan-fixed-pulse-oximeter-std-config-400").bytes,
            try Vectors.named("scan-fixed-scale-extended").bytes,
            try Vectors.named("config-report-scale-extended").bytes,
        ]
        if let pending = entry.session.pendingRequests.keys.first { inputs.append(try SessionCatalog.mdsResponse(invokeId: pending)) }
        for (index, input) in inputs.enumerated() {
            let at = entry.now + .seconds(index)
            #expect(StepOutcome(original.receive(input, now: at)) == StepOutcome(copy.receive(input, now: at + shift)), "\(entry.name), input \(index)")
        }
        if let deadline = original.nextDeadline {
            #expect(StepOutcome(original.tick(now: deadline)) == StepOutcome(copy.tick(now: deadline + shift)), "\(entry.name), timer")
        }
        let rlrq = try APDU.rlrq(reason: 0).encode()
        let end = entry.now + .seconds(100)
        #expect(StepOutcome(original.receive(rlrq, now: end)) == StepOutcome(copy.receive(rlrq, now: end + shift)), "\(entry.name), release")
    }

    @Test func timersKeepWhatRemainsLessTheDowntime() throws {
        var session = ManagerSession(settings: testSettings, store: InMemoryConfigurationStore())
        _ = session.receive(try Vectors.named("aarq-extended-config").bytes, now: .seconds(1))  // TO_config due at 11 s
        let bytes = try session.snapshot(now: .milliseconds(4_000_400))
        // Already expired: 0 remain, and the timer fires at the first tick.
        var expired = try ManagerSession.restored(from: bytes, settings: testSettings, store: InMemoryConfigurationStore(), now: .seconds(50))
        #expect(expired.nextDeadline == .seconds(50))
        #expect(expired.tick(now: .seconds(50)).outgoingAPDUs == [.abrt(reason: AbortReason.configurationTimeout.rawValue)])

        let running = try session.snapshot(now: .microseconds(6_500_200))  // 4.4998 s left: written as 4,500 ms
        var restored = try ManagerSession.restored(from: running, settings: testSettings, store: InMemoryConfigurationStore(),
                                                   now: .seconds(100), elapsed: .seconds(2))
        #expect(restored.nextDeadline == .milliseconds(102_500))
        #expect(restored.tick(now: .milliseconds(102_499)).outgoing.isEmpty)
        #expect(restored.tick(now: .milliseconds(102_500)).outgoingAPDUs == [.abrt(reason: AbortReason.configurationTimeout.rawValue)])
        // A downtime longer than the timer leaves it expired, never negative.
        let late = try ManagerSession.restored(from: running, settings: testSettings, store: InMemoryConfigurationStore(),
                                               now: .seconds(100), elapsed: .seconds(60))
        #expect(late.nextDeadline == .seconds(100))
        #expect(ManagerSession.remainingMilliseconds(.seconds(Int64(UInt32.max))) == .max)
    }

    @Test func aScanReportLeavesTheRevisionWhereItWas() throws {
        var session = try operatingSession(0x0190)
        let before = session.stateRevision
        let snapshot = try session.snapshot(now: .seconds(1))
        #expect(snapshot.count == 69)  // the size docs/ieee11073.md gives
        let scan = session.receive(try Vectors.named("scan-fixed-pulse-oximeter-std-config-400").bytes, now: .seconds(1))
        #expect(scan.readings.count == 2)
        #expect(session.stateRevision == before)
        #expect(try session.snapshot(now: .seconds(1)) == snapshot)
        _ = session.requestMDSAttributes(now: .seconds(2))
        #expect(session.stateRevision != before)
    }

    @Test func everyTruncationIsRefused() throws {
        for entry in try SessionCatalog.all() {
            let bytes = try entry.session.snapshot(now: entry.now)
            for length in 0..<bytes.count { expectRefused(Array(bytes.prefix(length)), nil, "\(entry.name), \(length) bytes") }
            expectRefused(bytes + [0], nil, "\(entry.name), one byte more")
        }
    }

    /// Every single-byte change anywhere, with seeded random values, fails the check.
    @Test func everyMutationIsRefused() throws {
        var random = SeededGenerator(seed: 20_601)
        for entry in try SessionCatalog.all() {
            let bytes = try entry.session.snapshot(now: entry.now)
            for index in bytes.indices {
                var mutated = bytes
                mutated[index] ^= UInt8.random(in: 1...255, using: &random)
                expectRefused(mutated, .invalidValue, "\(entry.name), byte \(index)")
            }
        }
    }

    @Test func anUnknownVersionIsRefusedAsUnsupported() throws {
        let bytes = try ManagerSession(settings: testSettings, store: InMemoryConfigurationStore()).snapshot(now: .zero)
        var future = body(of: bytes)
        future[1] = 2
        expectRefused(sealed(future), .unsupported)
        future[0] = 0xFF
        expectRefused(sealed(future), .unsupported)
    }

    /// Snapshots whose check holds but whose content no session could have: each is refused.
    @Test func unreachableContentIsRefused() throws {
        let unassociated = body(of: try ManagerSession(settings: testSettings, store: InMemoryConfigurationStore()).snapshot(now: .zero))
        // version 1, state, parts, next invoke id, empty pending list, empty timer list
        #expect(unassociated == [0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0])
        let timer: [UInt8] = [0, 1, 0, 7, 1, 0, 0, 0, 0, 0x27, 0x10]
        let cases: [(String, [UInt8])] = [
            ("unknown state", [0, 1, 9, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]),
            ("associating is transient", [0, 1, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]),
            ("unknown part bit", [0, 1, 0, 0x10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]),
            ("operating without agent or configuration", [0, 1, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]),
            ("unassociated with TO_config", [0, 1, 0, 0, 0, 0, 0, 0, 0, 0] + timer),
            ("trailing bytes", unassociated + [0]),
            ("unknown timer kind", [0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 7, 9, 0, 0, 0, 0, 0, 0]),
        ]
        for (name, content) in cases { expectRefused(sealed(content), nil, "\(name)") }

        // A configuring session must not carry TO_release, nor list a timer twice.
        let configuring = try #require(try SessionCatalog.all().first { $0.name == "configuring, TO_config running" })
        let valid = body(of: try configuring.session.snapshot(now: configuring.now))
        let timerKind = valid.count - 7
        #expect(valid[timerKind] == 1)
        var release = valid
        release[timerKind] = 2
        expectRefused(sealed(release), .invalidValue, "configuring with TO_release")
        var twice = Array(valid.dropLast(11))
        twice += [0, 2, 0, 14] + Array(valid.suffix(7)) + Array(valid.suffix(7))
        expectRefused(sealed(twice), .invalidValue, "TO_config twice")
        // A pending GET without its timer.
        let pending = try #require(try SessionCatalog.all().first { $0.name == "operating, GET pending" })
        let pendingBody = body(of: try pending.session.snapshot(now: pending.now))
        expectRefused(sealed(Array(pendingBody.dropLast(11)) + [0, 0, 0, 0]), .invalidValue, "GET without timer")
    }

    /// A refused snapshot leaves the manager 20601 prescribes for lost state: unassociated, so the
    /// agent's next report gets ABRT and its next AARQ is accepted.
    @Test func aRefusedSnapshotFallsBackToUnassociated() throws {
        let good = try operatingSession(0x0190).snapshot(now: .zero)
        var damaged = good
        damaged[damaged.count / 2] ^= 0x40
        let recovery = ManagerSession.recovered(from: damaged, settings: testSettings, store: InMemoryConfigurationStore(), now: .zero)
        guard case .lostState(var session, let reason) = recovery else { Issue.record("damaged snapshot restored"); return }
        #expect(reason.field == "session-snapshot.check")
        #expect(session.state == .unassociated)
        let report = session.receive(try Vectors.named("scan-fixed-pulse-oximeter-std-config-400").bytes, now: .seconds(1))
        #expect(report.outgoingAPDUs == [.abrt(reason: AbortReason.undefined.rawValue)])
        #expect(report.rejection?.kind == .wrongState)
        #expect(aareResult(session.receive(try aarq(configId: 0x0190), now: .seconds(2))) == .accepted)

        guard case .restored(let restored) = ManagerSession.recovered(from: good, settings: testSettings, store: InMemoryConfigurationStore(), now: .zero)
        else { Issue.record("a good snapshot was refused"); return }
        #expect(restored.state == .operating)
    }
}
