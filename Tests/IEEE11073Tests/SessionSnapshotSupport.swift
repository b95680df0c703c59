import Foundation
@testable import IEEE11073
import Observations
import Testing

/// What a session did with one input, in a form two sessions can be compared by.
struct StepOutcome: Equatable, CustomStringConvertible {
    let outgoing: [[UInt8]]
    let readings: [Reading]
    let deadLetters: [DeadLetter]
    let rejection: Rejection?
    let events: [SessionEvent]
    let state: ManagerState

    init(_ result: ManagerResult) {
        outgoing = result.outgoing
        readings = result.readings
        deadLetters = result.deadLetters
        rejection = result.rejection
        events = result.events
        state = result.state
    }

    var description: String {
        "\(state) out=\(outgoing.map(MDERHex.string)) rejection=\(rejection?.description ?? "-") events=\(events) readings=\(readings.count) deadLetters=\(deadLetters.count)"
    }
}

/// Sessions in every state the manager can rest in, each with the time its snapshot is taken.
enum SessionCatalog {
    struct Entry {
        let name: String
        let session: ManagerSession
        let now: Duration
    }

    static let scaleAgent = SystemId(0x8877_6655_4433_2211)

    static func configReport(id: UInt16, like standard: UInt16, invokeId: UInt16 = 0x4321) throws -> [UInt8] {
        let objects = try #require(StandardConfigurations.configuration(id: standard)).report.objects
        let report = EventReportArgument(objectHandle: 0, eventTime: 0, eventType: EventType.config,
                                         info: .configReport(ConfigReport(configReportId: id, objects: objects)))
        return try APDU.prst(DataAPDU(invokeId: invokeId, message: .roivConfirmedEventReport(report))).encode()
    }

    /// The MDS GET response vector, answering `invokeId`.
    static func mdsResponse(invokeId: UInt16) throws -> [UInt8] {
        guard case .prst(let answer) = try APDU.decode(try Vectors.named("mds-get-response").bytes) else {
            throw EncodeError("the mds-get-response vector is not a PRST")
        }
        return try APDU.prst(DataAPDU(invokeId: invokeId, message: answer.message)).encode()
    }

    static func pendingGetInvokeId(_ result: ManagerResult) throws -> UInt16 {
        guard case .prst(let data)? = result.outgoingAPDUs.first, case .roivGet = data.message else {
            throw EncodeError("no GET was sent")
        }
        return data.invokeId
    }

    static func all() throws -> [Entry] {
        let store = InMemoryConfigurationStore()
        var entries: [Entry] = [Entry(name: "fresh", session: ManagerSession(settings: testSettings, store: store), now: .zero)]

        var configuring = ManagerSession(settings: testSettings, store: store)
        _ = configuring.receive(try Vectors.named("aarq-extended-config").bytes, now: .seconds(1))
        entries.append(Entry(name: "configuring, TO_config running", session: configuring, now: .milliseconds(3_250)))
        entries.append(Entry(name: "configuring, preset without a System-Id",
                             session: .preset(awaitingConfigurationFrom: nil, settings: testSettings, store: store), now: .seconds(5)))
        entries.append(Entry(name: "configuring, preset with a System-Id",
                             session: .preset(awaitingConfigurationFrom: scaleAgent, settings: testSettings, store: store), now: .seconds(5)))

        var extended = configuring
        _ = extended.receive(try Vectors.named("config-report-scale-extended").bytes, now: .seconds(4))
        entries.append(Entry(name: "operating, learned extended configuration", session: extended, now: .seconds(5)))

        var oximeter = ManagerSession(settings: testSettings, store: store)
        _ = oximeter.receive(try aarq(configId: 0x0190), now: .seconds(1))
        entries.append(Entry(name: "operating, standard 0x0190", session: oximeter, now: .seconds(2)))

        var cuff = ManagerSession(settings: testSettings, store: store)
        _ = cuff.receive(try Vectors.named("aarq-blood-pressure").bytes, now: .seconds(1))
        entries.append(Entry(name: "operating, standard 0x02BC", session: cuff, now: .seconds(2)))

        var unknownStandard = ManagerSession(settings: testSettings, store: store)
        _ = unknownStandard.receive(try aarq(configId: 0x0258), now: .zero)
        _ = unknownStandard.receive(try configReport(id: 0x0258, like: 0x05DC), now: .seconds(1))
        entries.append(Entry(name: "operating, unknown standard id learned for this association", session: unknownStandard, now: .seconds(2)))

        var pending = oximeter
        let get = pending.requestMDSAttributes(now: .seconds(3))
        entries.append(Entry(name: "operating, GET pending", session: pending, now: .milliseconds(4_001)))

        var withMDS = pending
        _ = withMDS.receive(try mdsResponse(invokeId: try pendingGetInvokeId(get)), now: .seconds(4))
        entries.append(Entry(name: "operating, MDS attributes known", session: withMDS, now: .seconds(5)))

        let presetOperating = ManagerSession.preset(
            operatingWith: try #require(StandardConfigurations.configuration(id: 0x05DC)), systemId: nil, settings: testSettings, store: store)
        entries.append(Entry(name: "operating, preset without a System-Id", session: presetOperating, now: .zero))

        var releasing = withMDS
        _ = releasing.release(now: .seconds(6))
        entries.append(Entry(name: "disassociating from operating", session: releasing, now: .milliseconds(7_500)))

        var releasingConfiguring = configuring
        _ = releasingConfiguring.release(now: .seconds(2))
        entries.append(Entry(name: "disassociating from configuring", session: releasingConfiguring, now: .seconds(2)))

        var released = releasing
        _ = released.receive(try APDU.rlre(reason: 0).encode(), now: .seconds(8))
        entries.append(Entry(name: "unassociated after a release", session: released, now: .seconds(9)))
        return entries
    }
}

/// Re-seals a snapshot body with a valid check, to build snapshots that pass the check but must
/// still be refused for what they say.
func sealed(_ body: [UInt8]) -> [UInt8] { body + SessionSnapshot.check(body) }

func body(of snapshot: [UInt8]) -> [UInt8] { Array(snapshot.dropLast(SessionSnapshot.checkLength)) }

func expectRefused(_ snapshot: [UInt8], _ kind: DecodeError.Kind? = nil, _ comment: Comment? = nil,
                   sourceLocation: SourceLocation = #_sourceLocation) {
    do {
        _ = try ManagerSession.restored(from: snapshot, settings: testSettings, store: InMemoryConfigurationStore(), now: .zero)
        Issue.record("snapshot accepted: \(MDERHex.string(snapshot)) \(comment?.rawValue ?? "")", sourceLocation: sourceLocation)
    } catch {
        if let kind { #expect(error.kind == kind, "\(error)", sourceLocation: sourceLocation) }
    }
}
