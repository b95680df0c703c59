import IEEE11073
import Testing

/// encode → decode gives back the same value for every APDU type and message choice.
@Suite("Encode/decode round trips")
struct RoundTripTests {
    static let phd = PhdAssociationInformation(
        protocolVersion: AssociationConstants.protocolVersion1, encodingRules: AssociationConstants.encodingMDER,
        systemType: AssociationConstants.systemTypeAgent, systemId: [1, 2, 3, 4, 5, 6, 7, 8], devConfigId: 0x4000,
        dataRequestModeFlags: 0x0081, dataRequestInitAgentCount: 1, dataRequestInitManagerCount: 1,
        optionList: [AttributeValue(id: 0x0A5A, value: [0, 1])])
    static let attributes = [AttributeValue(id: AttributeId.unitCode, value: [0x06, 0xC3]), AttributeValue(id: 9, value: [])]
    static let time: [UInt8] = [0x20, 0x24, 0x01, 0x31, 0x23, 0x59, 0x58, 0x99]
    static let fixed = [ObservationScanFixed(handle: 1, data: [0x00, 0x62] + time), ObservationScanFixed(handle: 10, data: [])]
    static let variable = [ObservationScan(handle: 1, attributes: attributes), ObservationScan(handle: 2, attributes: [])]

    static func report(_ type: UInt16, _ info: EventInfo) -> EventReportArgument {
        EventReportArgument(objectHandle: 0, eventTime: 0xFFFF_FFFF, eventType: type, info: info)
    }

    static let messages: [DataMessage] = [
        .roivEventReport(report(EventType.scanReportFixed, .scanFixed(ScanReportFixed(dataRequestId: 0xF000, scanReportNumber: 7, observations: fixed)))),
        .roivConfirmedEventReport(report(EventType.scanReportVar, .scanVar(ScanReportVar(dataRequestId: 1, scanReportNumber: 2, observations: variable)))),
        .roivConfirmedEventReport(report(EventType.scanReportMPFixed, .scanMPFixed(ScanReportMPFixed(dataRequestId: 1, scanReportNumber: 2, persons: [
            PersonFixedObservations(personId: 0x42, observations: fixed), PersonFixedObservations(personId: 0x43, observations: []),
        ])))),
        .roivConfirmedEventReport(report(EventType.scanReportMPVar, .scanMPVar(ScanReportMPVar(dataRequestId: 1, scanReportNumber: 2, persons: [
            PersonVarObservations(personId: 0x42, observations: variable),
        ])))),
        .roivConfirmedEventReport(report(EventType.bufScanReportGrouped, .scanGrouped(ScanReportGrouped(dataRequestId: 1, scanReportNumber: 2, groups: [[1, 2, 3], []])))),
        .roivConfirmedEventReport(report(EventType.unbufScanReportMPGrouped, .scanMPGrouped(ScanReportMPGrouped(dataRequestId: 1, scanReportNumber: 2, persons: [
            PersonGroupedObservations(personId: 1, group: [9, 9]),
        ])))),
        .roivConfirmedEventReport(report(EventType.unbufScanReportFixed, .scanFixed(ScanReportFixed(dataRequestId: 1, scanReportNumber: 0, observations: [])))),
        .roivConfirmedEventReport(report(EventType.config, .configReport(ConfigReport(configReportId: 0x4000, objects: [
            ConfigObject(objectClass: ObjectClass.numeric, handle: 1, attributes: attributes),
        ])))),
        .roivConfirmedEventReport(report(EventType.segmentData, .opaque([1, 2, 3]))),
        .roivGet(GetArgument(objectHandle: 0, attributeIds: [])),
        .roivGet(GetArgument(objectHandle: 0, attributeIds: [AttributeId.systemId, AttributeId.idModel])),
        .roivSet(SetArgument(objectHandle: 5, modifications: [AttributeModification(modifyOperator: 0, attribute: attributes[0])])),
        .roivConfirmedSet(SetArgument(objectHandle: 5, modifications: [])),
        .roivAction(ActionArgument(objectHandle: 0, actionType: ActionType.dataRequest, arguments: [1, 2])),
        .roivConfirmedAction(ActionArgument(objectHandle: 0, actionType: ActionType.setTime, arguments: time + [0, 0, 0, 0])),
        .rorsConfirmedEventReport(EventReportResult(objectHandle: 0, currentTime: 0, eventType: EventType.config,
            replyInfo: .configResponse(ConfigReportResponse(configReportId: 0x4000, result: .unsupportedConfig)))),
        .rorsConfirmedEventReport(EventReportResult(objectHandle: 0x37, currentTime: 5, eventType: EventType.unbufScanReportVar, replyInfo: .opaque([]))),
        .rorsGet(GetResult(objectHandle: 0, attributes: attributes)),
        .rorsConfirmedSet(SetResult(objectHandle: 5, attributes: [])),
        .rorsConfirmedAction(ActionResult(objectHandle: 0, actionType: ActionType.setTime, result: [])),
        .roer(ErrorResult(errorValue: ErrorValue.noSuchObjectInstance)),
        .roer(ErrorResult(errorValue: ErrorValue.protocolViolation, parameter: [0xAB])),
        .rorj(RejectResult(problem: RejectProblem.badlyStructuredAPDU)),
    ]

    static let apdus: [APDU] = [
        .aarq(AssociationRequest(dataProtocols: [.phd(phd), DataProtocol(id: 0xFFFF, info: .opaque([1, 2]))])),
        .aare(AssociationResponse(result: .accepted, selectedDataProtocol: .phd(phd))),
        .aare(AssociationResponse(result: .rejectedNoCommonProtocol, selectedDataProtocol: .none)),
        .rlrq(reason: ReleaseRequestReason.normal),
        .rlrq(reason: ReleaseRequestReason.configurationChanged),
        .rlre(reason: ReleaseResponseReason.normal),
        .abrt(reason: AbortReason.configurationTimeout.rawValue),
    ] + messages.enumerated().map { .prst(DataAPDU(invokeId: UInt16($0.offset), message: $0.element)) }

    @Test(arguments: apdus)
    func roundTrip(_ apdu: APDU) throws {
        let bytes = try apdu.encode()
        #expect(try APDU.decode(bytes) == apdu)
        // The APDU length field covers exactly what follows it.
        #expect(Int(bytes[2]) << 8 | Int(bytes[3]) == bytes.count - 4)
    }

    @Test func everyDataChoiceIsCovered() {
        let choices = Set(Self.messages.map(\.choice))
        #expect(choices == [0x0100, 0x0101, 0x0103, 0x0104, 0x0105, 0x0106, 0x0107, 0x0201, 0x0203, 0x0205, 0x0207, 0x0300, 0x0400])
    }

    @Test func configurationPersistenceRoundTrips() throws {
        for id in StandardConfigurations.supportedIds {
            let configuration = try #require(StandardConfigurations.configuration(id: id))
            #expect(try Configuration(encoded: configuration.encoded()) == configuration)
        }
        #expect(throws: ConfigurationError.self) { try Configuration(encoded: [0x40, 0x00, 0x00]) }
    }
}
