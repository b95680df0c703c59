import Foundation
import IEEE11073
import Testing

func aarq(
    systemId: UInt64 = 0x0022_0922_5808_03CC, configId: UInt16, encoding: UInt16 = AssociationConstants.encodingMDER,
    protocolId: UInt16 = AssociationConstants.dataProtoId20601, assocVersion: UInt32 = AssociationConstants.assocVersion1,
    protocolVersion: UInt32 = AssociationConstants.protocolVersion1
) throws -> [UInt8] {
    let info = PhdAssociationInformation(
        protocolVersion: protocolVersion, encodingRules: encoding, systemType: AssociationConstants.systemTypeAgent,
        systemId: SystemId(systemId).bytes, devConfigId: configId)
    let proto = protocolId == AssociationConstants.dataProtoId20601
        ? DataProtocol.phd(info) : DataProtocol(id: protocolId, info: .opaque([0, 1]))
    return try APDU.aarq(AssociationRequest(assocVersion: assocVersion, dataProtocols: [proto])).encode()
}

func aareResult(_ result: ManagerResult) -> AssociationResult? {
    guard case .aare(let response)? = result.outgoingAPDUs.first else { return nil }
    return response.associationResult
}

@Suite("Manager dialogues")
struct ManagerDialogueTests {
    @Test func knownStandardConfigurationIsAcceptedAtOnce() throws {
        var session = ManagerSession(settings: testSettings, store: InMemoryConfigurationStore())
        let result = session.receive(try aarq(configId: 0x0190), now: .zero)
        #expect(aareResult(result) == .accepted)
        #expect(result.state == .operating)
        #expect(session.configuration?.id == 0x0190)
        #expect(result.events == [.associated(systemId: SystemId(0x0022_0922_5808_03CC), configId: 0x0190, configurationKnown: true)])
        guard case .aare(let response)? = result.outgoingAPDUs.first, case .phd(let info) = response.selectedDataProtocol.info else {
            Issue.record("no 20601 AARE"); return
        }
        #expect(info.systemId == managerId.bytes)
        #expect(info.encodingRules == AssociationConstants.encodingMDER)
        #expect(info.devConfigId == 0)
        // The scan vector now decodes in this session.
        let scan = session.receive(try Vectors.named("scan-fixed-pulse-oximeter-std-config-400").bytes, now: .seconds(1))
        #expect(scan.readings.count == 2)
    }

    @Test func unknownExtendedConfigurationIsLearnedAndPersisted() throws {
        let store = InMemoryConfigurationStore()
        var session = ManagerSession(settings: testSettings, store: store)
        let association = session.receive(try Vectors.named("aarq-extended-config").bytes, now: .zero)
        #expect(aareResult(association) == .acceptedUnknownConfig)
        #expect(association.state == .configuring)
        #expect(session.nextDeadline == .seconds(10))
        let config = session.receive(try Vectors.named("config-report-scale-extended").bytes, now: .seconds(2))
        #expect(config.outgoing == [try Vectors.named("config-report-response-accepted").bytes])
        #expect(config.state == .operating)
        #expect(session.nextDeadline == nil)
        #expect(store.count == 1)
        guard case .configured(let learned, let persisted)? = config.events.first else { Issue.record("no configured event"); return }
        #expect(persisted && learned.id == 0x4000)

        // Release, then re-associate with a new session sharing the store: accepted at once.
        let release = session.receive(try APDU.rlrq(reason: 0).encode(), now: .seconds(3))
        #expect(release.outgoingAPDUs == [.rlre(reason: 0)])
        #expect(release.state == .unassociated)
        var again = ManagerSession(settings: testSettings, store: store)
        let reassociation = again.receive(try Vectors.named("aarq-extended-config").bytes, now: .seconds(4))
        #expect(aareResult(reassociation) == .accepted)
        #expect(reassociation.state == .operating)
        let scan = again.receive(try Vectors.named("scan-fixed-scale-extended").bytes, now: .seconds(5))
        #expect(scan.outgoing == [try Vectors.named("scan-response").bytes])
        #expect(scan.readings.count == 2)  // weight and body fat
    }

    @Test func anotherAgentDoesNotGetThatConfiguration() throws {
        let store = InMemoryConfigurationStore()
        let learned = try #require(try? Configuration(report: ConfigReport(configReportId: 0x4000, objects: StandardConfigurations.configuration(id: 0x05DC)?.report.objects ?? [])))
        store.save(learned, systemId: SystemId(0x8877_6655_4433_2211))
        var session = ManagerSession(settings: testSettings, store: store)
        let result = session.receive(try aarq(systemId: 0x0102_0304_0506_0708, configId: 0x4000), now: .zero)
        #expect(aareResult(result) == .acceptedUnknownConfig)
    }

    @Test func unknownStandardConfigurationAsksForTheConfiguration() throws {
        var session = ManagerSession(settings: testSettings, store: InMemoryConfigurationStore())
        let result = session.receive(try aarq(configId: 0x0258), now: .zero)
        #expect(aareResult(result) == .acceptedUnknownConfig)
        #expect(result.state == .configuring)
    }

    @Test(arguments: [
        (UInt16(0x4000), AssociationConstants.dataProtoId20601, AssociationConstants.assocVersion1, AssociationConstants.protocolVersion1, AssociationResult.rejectedNoCommonParameter),
        (AssociationConstants.encodingMDER, UInt16(0x1234), AssociationConstants.assocVersion1, AssociationConstants.protocolVersion1, .rejectedNoCommonProtocol),
        (AssociationConstants.encodingMDER, AssociationConstants.dataProtoId20601, UInt32(0x4000_0000), AssociationConstants.protocolVersion1, .rejectedUnsupportedAssocVersion),
        (AssociationConstants.encodingMDER, AssociationConstants.dataProtoId20601, AssociationConstants.assocVersion1, UInt32(0x0100_0000), .rejectedNoCommonParameter),
    ])
    func unsupportedAssociationIsRejected(encoding: UInt16, protocolId: UInt16, assocVersion: UInt32, protocolVersion: UInt32, expected: AssociationResult) throws {
        var session = ManagerSession(settings: testSettings, store: InMemoryConfigurationStore())
        let result = session.receive(try aarq(configId: 0x0190, encoding: encoding, protocolId: protocolId,
                                              assocVersion: assocVersion, protocolVersion: protocolVersion), now: .zero)
        #expect(aareResult(result) == expected)
        #expect(result.rejection?.kind == .associationRejected)
        #expect(result.rejection?.reason.isEmpty == false)
        #expect(result.state == .unassociated)
        #expect(result.outgoingAPDUs == [.aare(AssociationResponse(result: expected, selectedDataProtocol: .none))])
    }

    @Test func xerOnlyIsRejectedButMDERPlusPERIsAccepted() throws {
        var xer = ManagerSession(settings: testSettings, store: InMemoryConfigurationStore())
        let refused = xer.receive(try aarq(configId: 0x0190, encoding: AssociationConstants.encodingXER), now: .zero)
        #expect(refused.rejection?.reason.contains("MDER") == true)
        var mixed = ManagerSession(settings: testSettings, store: InMemoryConfigurationStore())
        #expect(aareResult(mixed.receive(try aarq(configId: 0x0190, encoding: 0xA000), now: .zero)) == .accepted)
    }

    @Test func managerInitiatedReleaseAndItsTimeout() throws {
        var session = try operatingSession(0x02BC)
        let release = session.release(now: .seconds(100))
        #expect(release.outgoingAPDUs == [.rlrq(reason: 0)])
        #expect(release.state == .disassociating)
        // Data arriving now is discarded, unanswered.
        let late = session.receive(try Vectors.named("scan-fixed-blood-pressure-std-config-700").bytes, now: .seconds(101))
        #expect(late.readings.isEmpty && late.outgoing.isEmpty && late.rejection?.kind == .wrongState)
        #expect(session.tick(now: .milliseconds(102_999)).outgoing.isEmpty)
        let timeout = session.tick(now: .seconds(103))
        #expect(timeout.outgoingAPDUs == [.abrt(reason: AbortReason.responseTimeout.rawValue)])
        #expect(timeout.events.first == .timedOut(.release))
        #expect(timeout.state == .unassociated)

        var polite = try operatingSession(0x02BC)
        _ = polite.release(now: .zero)
        let done = polite.receive(try APDU.rlre(reason: 0).encode(), now: .seconds(1))
        #expect(done.events == [.released(byAgent: false)] && done.state == .unassociated && done.outgoing.isEmpty)
    }

    @Test func configurationTimeoutAborts() throws {
        var session = ManagerSession(settings: testSettings, store: InMemoryConfigurationStore())
        _ = session.receive(try aarq(configId: 0x4000), now: .seconds(5))
        #expect(session.tick(now: .milliseconds(14_999)).outgoing.isEmpty)
        #expect(session.state == .configuring)
        let result = session.tick(now: .seconds(15))
        #expect(result.outgoingAPDUs == [.abrt(reason: AbortReason.configurationTimeout.rawValue)])
        #expect(result.state == .unassociated)
        #expect(result.events.contains(.timedOut(.configuration)))
    }

    @Test func abortFromTheAgentEndsTheAssociation() throws {
        var session = try operatingSession(0x0190)
        let result = session.receive(try APDU.abrt(reason: AbortReason.bufferOverflow.rawValue).encode(), now: .zero)
        #expect(result.outgoing.isEmpty)
        #expect(result.state == .unassociated)
        #expect(result.events == [.aborted(reason: 1, byAgent: true)])
        #expect(session.configuration == nil)
    }

    @Test func mdsAttributesAreRequestedAndTimedOut() throws {
        var session = try operatingSession(0x05DC)
        let request = session.requestMDSAttributes(now: .seconds(1))
        guard case .prst(let data)? = request.outgoingAPDUs.first, case .roivGet(let get) = data.message else {
            Issue.record("no GET sent"); return
        }
        #expect(get.objectHandle == 0 && get.attributeIds.isEmpty)
        // Answer with the vector's attributes under our invoke id.
        let vector = try Vectors.named("mds-get-response")
        guard case .prst(let answer) = try APDU.decode(vector.bytes) else { return }
        let response = try APDU.prst(DataAPDU(invokeId: data.invokeId, message: answer.message)).encode()
        let result = session.receive(response, now: .seconds(2))
        #expect(result.rejection == nil)
        #expect(session.mdsAttributes?.model == "TheScaleABC")

        _ = session.requestMDSAttributes(now: .seconds(10))
        #expect(session.tick(now: .seconds(12)).outgoing.isEmpty)
        let timeout = session.tick(now: .seconds(13))
        #expect(timeout.outgoingAPDUs == [.abrt(reason: AbortReason.responseTimeout.rawValue)])
    }

    @Test func wrongStateInputs() throws {
        // PRST before association: ABRT.
        var fresh = ManagerSession(settings: testSettings, store: InMemoryConfigurationStore())
        let early = fresh.receive(try Vectors.named("scan-fixed-pulse-oximeter-std-config-400").bytes, now: .zero)
        #expect(early.outgoingAPDUs == [.abrt(reason: 0)] && early.rejection?.kind == .wrongState && early.readings.isEmpty)
        // RLRQ before association: ABRT.
        #expect(fresh.receive(try APDU.rlrq(reason: 0).encode(), now: .zero).outgoingAPDUs == [.abrt(reason: 0)])
        // AARQ while operating: ABRT and unassociated.
        var operating = try operatingSession(0x0190)
        let again = operating.receive(try aarq(configId: 0x0190), now: .zero)
        #expect(again.outgoingAPDUs == [.abrt(reason: 0)] && again.state == .unassociated)
        // A scan report while waiting for the configuration: ROER not-allowed-by-object, no Readings.
        var configuring = ManagerSession.preset(awaitingConfigurationFrom: SystemId(3), settings: testSettings)
        let scan = configuring.receive(try Vectors.named("scan-fixed-pulse-oximeter-std-config-400").bytes, now: .zero)
        #expect(scan.outgoingAPDUs == [.prst(DataAPDU(invokeId: 0x1238, message: .roer(ErrorResult(errorValue: ErrorValue.notAllowedByObject))))])
        #expect(scan.readings.isEmpty && scan.state == .configuring)
        // A config report while operating: ROER.
        var configured = try operatingSession(0x05DC)
        let late = configured.receive(try Vectors.named("config-report-scale-std-1500").bytes, now: .zero)
        #expect(late.outgoingAPDUs == [.prst(DataAPDU(invokeId: 0x1245, message: .roer(ErrorResult(errorValue: ErrorValue.notAllowedByObject))))])
        // AARE from an agent: ABRT.
        var other = try operatingSession(0x05DC)
        #expect(other.receive(try Vectors.named("aare-accepted-unknown-config").bytes, now: .zero).outgoingAPDUs == [.abrt(reason: 0)])
    }

    @Test func refusedConfigurationKeepsWaiting() throws {
        var session = ManagerSession(settings: testSettings, store: InMemoryConfigurationStore())
        _ = session.receive(try aarq(configId: 0x4000), now: .zero)
        let duplicate = ConfigObject(objectClass: 6, handle: 1, attributes: [
            AttributeValue(id: AttributeId.idType, value: [0, 2, 0xE1, 0x40]), AttributeValue(id: AttributeId.unitCode, value: [0x06, 0xC3]),
        ])
        let report = try APDU.prst(DataAPDU(invokeId: 9, message: .roivConfirmedEventReport(EventReportArgument(
            objectHandle: 0, eventTime: 0, eventType: EventType.config,
            info: .configReport(ConfigReport(configReportId: 0x4000, objects: [duplicate, duplicate])))))).encode()
        let result = session.receive(report, now: .seconds(8))
        #expect(result.rejection?.kind == .unsupportedConfiguration)
        #expect(result.rejection?.reason.contains("listed twice") == true)
        #expect(result.outgoingAPDUs == [.prst(DataAPDU(invokeId: 9, message: .rorsConfirmedEventReport(EventReportResult(
            objectHandle: 0, currentTime: 0, eventType: EventType.config,
            replyInfo: .configResponse(ConfigReportResponse(configReportId: 0x4000, result: .unsupportedConfig))))))])
        #expect(result.state == .configuring)
        #expect(session.nextDeadline == .seconds(18))
    }

    @Test func sessionsAreIndependent() throws {
        var a = try operatingSession(0x0190)
        var b = try operatingSession(0x0190)
        let garbage = a.receive([0xE7, 0x00, 0x00, 0x02, 0x00], now: .zero)
        #expect(garbage.state == .unassociated)
        #expect(b.state == .operating && b.configuration?.id == 0x0190)
        let scan = b.receive(try Vectors.named("scan-fixed-pulse-oximeter-std-config-400").bytes, now: .zero)
        #expect(scan.readings.count == 2)
    }
}
