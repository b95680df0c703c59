import Foundation
import IEEE11073
import Observations
import Testing

/// The 20601 rules a restarted manager follows for replies a crash cut off, and the reading ids
/// that make a repeated report a duplicate rather than a second Observation.
@Suite("Crash recovery rules")
struct CrashRecoveryRulesTests {
    static let timeouts = ManagerTimeouts(configuration: .seconds(11), release: .seconds(4), confirmedRequest: .seconds(2))

    static func answer(_ message: DataMessage) -> APDU { .prst(DataAPDU(invokeId: 7, message: message)) }

    @Test func responsesToTheAgentAreSentAgainWithinItsTimeout() {
        let scanAnswer = Self.answer(.rorsConfirmedEventReport(EventReportResult(
            objectHandle: 0, currentTime: 0, eventType: EventType.scanReportFixed, replyInfo: .opaque([]))))
        let configAnswer = Self.answer(.rorsConfirmedEventReport(EventReportResult(
            objectHandle: 0, currentTime: 0, eventType: EventType.config,
            replyInfo: .configResponse(ConfigReportResponse(configReportId: 0x4000, result: .acceptedConfig)))))
        #expect(CutOffReply.decision(for: scanAnswer, timeouts: Self.timeouts) == .resend(within: .seconds(2)))
        #expect(CutOffReply.decision(for: configAnswer, timeouts: Self.timeouts) == .resend(within: .seconds(11)))
        #expect(CutOffReply.decision(for: Self.answer(.roer(ErrorResult(errorValue: ErrorValue.noSuchObjectInstance))), timeouts: Self.timeouts)
            == .resend(within: .seconds(2)))
        #expect(CutOffReply.decision(for: Self.answer(.rorj(RejectResult(problem: RejectProblem.badlyStructuredAPDU))), timeouts: Self.timeouts)
            == .resend(within: .seconds(2)))
        #expect(CutOffReply.decision(for: .rlre(reason: 0), timeouts: Self.timeouts) == .resend(within: .seconds(4)))
    }

    @Test func associationRequestsAndAbortsAreLeftToTheStandardsTimers() throws {
        var session = ManagerSession(settings: testSettings, store: InMemoryConfigurationStore())
        let aare = try #require(session.receive(try aarq(configId: 0x0190), now: .zero).outgoingAPDUs.first)
        let get = try #require(session.requestMDSAttributes(now: .zero).outgoingAPDUs.first)
        let rlrq = try #require(session.release(now: .zero).outgoingAPDUs.first)
        for apdu in [aare, get, rlrq, APDU.abrt(reason: 0)] {
            guard case .leave = CutOffReply.decision(for: apdu) else { Issue.record("\(apdu.name) would be sent again"); continue }
        }
        guard case .leave = CutOffReply.decision(for: [0xE7, 0x00]) else { Issue.record("bytes that are no APDU would be sent"); return }
        #expect(CutOffReply.decision(for: try Vectors.named("scan-response").bytes) == .resend(within: ManagerTimeouts.standard.confirmedRequest))
    }

    static func readingIds(_ apdu: [UInt8], _ session: inout ManagerSession, at now: Duration) throws -> [String] {
        let result = session.receive(apdu, now: now)
        #expect(result.rejection == nil)
        return try result.readings.map {
            try Normalizer().normalize($0, receivedAt: Date(timeIntervalSince1970: 1_700_000_000 + Double(now.components.seconds)),
                                       fallbackKey: Normalizer.payloadKey(apdu)).id
        }
    }

    /// The same measurement delivered twice (an MQTT redelivery) or sent again in a new APDU (a
    /// new invoke id and scan report number, as an agent retransmits after re-associating) gets
    /// the same reading ids: the journal stores it once and counts the rest as duplicates.
    @Test func aRepeatedTimeStampedReportHasTheSameReadingIds() throws {
        var session = try operatingSession(0x0190)
        let original = try Vectors.named("scan-fixed-pulse-oximeter-std-config-400").bytes
        guard case .prst(let data) = try APDU.decode(original), case .roivConfirmedEventReport(let argument) = data.message,
              case .scanFixed(let scan) = argument.info else { Issue.record("not a fixed scan report"); return }
        let resent = try APDU.prst(DataAPDU(invokeId: data.invokeId &+ 9, message: .roivConfirmedEventReport(EventReportArgument(
            objectHandle: 0, eventTime: argument.eventTime &+ 80_000, eventType: argument.eventType,
            info: .scanFixed(ScanReportFixed(dataRequestId: scan.dataRequestId, scanReportNumber: scan.scanReportNumber &+ 1,
                                             observations: scan.observations)))))).encode()
        #expect(resent != original)
        let first = try Self.readingIds(original, &session, at: .seconds(1))
        #expect(first.count == 2)
        #expect(try Self.readingIds(original, &session, at: .seconds(2)) == first)
        #expect(try Self.readingIds(resent, &session, at: .seconds(30)) == first)
    }

    /// Without an AbsoluteTime (continuous oximeter, 0x0191) only identical bytes are recognised:
    /// a report sent again in a new APDU cannot be told from a new measurement with equal values.
    @Test func anUntimedReportIsADuplicateOnlyAsTheSameBytes() throws {
        var session = try operatingSession(0x0191)
        func report(invokeId: UInt16, number: UInt16) throws -> [UInt8] {
            try APDU.prst(DataAPDU(invokeId: invokeId, message: .roivConfirmedEventReport(EventReportArgument(
                objectHandle: 0, eventTime: 0, eventType: EventType.scanReportFixed,
                info: .scanFixed(ScanReportFixed(dataRequestId: 0xF000, scanReportNumber: number, observations: [
                    ObservationScanFixed(handle: 1, data: [0x00, 0x61]), ObservationScanFixed(handle: 10, data: [0x00, 0x48]),
                ])))))).encode()
        }
        let first = try Self.readingIds(try report(invokeId: 1, number: 1), &session, at: .seconds(1))
        #expect(first.count == 2)
        #expect(try Self.readingIds(try report(invokeId: 1, number: 1), &session, at: .seconds(5)) == first)
        #expect(Set(try Self.readingIds(try report(invokeId: 2, number: 2), &session, at: .seconds(6))).isDisjoint(with: first))
    }
}
