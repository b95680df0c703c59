import Foundation
import IEEE11073
import Nomenclature
import Observations
import Testing

/// Every vector of shared/testdata/ieee11073-apdus.json decodes to what its `expect` says.
@Suite("Test vectors")
struct VectorDecodeTests {
    @Test func everyVectorDecodesAndReencodesByteExactly() throws {
        #expect(Vectors.all.count == 14)
        for vector in Vectors.all {
            let apdu = try APDU.decode(vector.bytes)
            #expect(try apdu.encode() == vector.bytes, "re-encoding \(vector.name)")
            if let name = vector.expect["apdu"] as? String { #expect(apdu.name == name, "\(vector.name)") }
            if let invoke = leadingNumber(vector.expect["invokeId"] as? String), case .prst(let data) = apdu {
                #expect(Int(data.invokeId) == invoke, "\(vector.name) invoke id")
            }
        }
    }

    @Test func aarqExtendedConfig() throws {
        let vector = try Vectors.named("aarq-extended-config")
        guard case .aarq(let request) = try APDU.decode(vector.bytes) else { Issue.record("not an AARQ"); return }
        #expect(Int(request.assocVersion) == leadingNumber(vector.expect["assocVersion"] as? String))
        #expect(request.dataProtocols.map(\.id) == [UInt16(try #require(vector.expect["dataProtoId"] as? Int))])
        let info = try #require(request.phdInformation)
        #expect(Int(info.encodingRules) == leadingNumber(vector.expect["encodingRules"] as? String))
        #expect(info.systemType == AssociationConstants.systemTypeAgent)
        #expect(MDERHex.string(info.systemId) == vector.expect["systemId"] as? String)
        #expect(Int(info.devConfigId) == leadingNumber(vector.expect["devConfigId"] as? String))
        #expect(Int(info.dataRequestModeFlags) == leadingNumber(vector.expect["dataReqModeFlags"] as? String))
        #expect(Int(info.dataRequestInitAgentCount) == vector.expect["agentCount"] as? Int)
        #expect(Int(info.dataRequestInitManagerCount) == vector.expect["managerCount"] as? Int)
        #expect(info.protocolVersion == AssociationConstants.protocolVersion1)
        #expect(info.optionList.isEmpty)
    }

    @Test func aarqBloodPressure() throws {
        let vector = try Vectors.named("aarq-blood-pressure")
        guard case .aarq(let request) = try APDU.decode(vector.bytes), let info = request.phdInformation else {
            Issue.record("not a 20601 AARQ"); return
        }
        #expect(Int(info.encodingRules) == leadingNumber(vector.expect["encodingRules"] as? String))
        #expect(MDERHex.string(info.systemId) == vector.expect["systemId"] as? String)
        #expect(Int(info.devConfigId) == leadingNumber(vector.expect["devConfigId"] as? String))
    }

    @Test func aareAcceptedUnknownConfig() throws {
        let vector = try Vectors.named("aare-accepted-unknown-config")
        guard case .aare(let response) = try APDU.decode(vector.bytes),
              case .phd(let info) = response.selectedDataProtocol.info else { Issue.record("not a 20601 AARE"); return }
        #expect(Int(response.result) == leadingNumber(vector.expect["result"] as? String))
        #expect(response.associationResult == .acceptedUnknownConfig)
        #expect(info.systemType == AssociationConstants.systemTypeManager)
        #expect(MDERHex.string(info.systemId) == vector.expect["systemId"] as? String)
    }

    /// The manager answers the vector's AARQ with exactly the vector's AARE (same manager System-Id).
    @Test func managerAnswersTheAARQWithTheVectorAARE() throws {
        let aarq = try Vectors.named("aarq-extended-config")
        let aare = try Vectors.named("aare-accepted-unknown-config")
        var session = ManagerSession(settings: testSettings, store: InMemoryConfigurationStore())
        let result = session.receive(aarq.bytes, now: .zero)
        #expect(result.outgoing == [aare.bytes])
        #expect(result.state == .configuring)
        #expect(session.agent?.deviceId == "88-77-66-55-44-33-22-11")
    }

    @Test func configReportScaleExtended() throws {
        let vector = try Vectors.named("config-report-scale-extended")
        guard case .prst(let data) = try APDU.decode(vector.bytes),
              case .roivConfirmedEventReport(let argument) = data.message,
              case .configReport(let report) = argument.info else { Issue.record("not a config report"); return }
        #expect(data.invokeId == 0x4321)
        #expect(argument.eventType == EventType.config)
        #expect(Int(report.configReportId) == leadingNumber(vector.expect["configReportId"] as? String))
        let configuration = try Configuration(report: report)
        let expected = try #require(vector.expect["objects"] as? [[String: Any]])
        #expect(configuration.objects.count == expected.count)
        for (object, expectation) in zip(configuration.objects, expected) {
            #expect(Int(object.handle) == expectation["handle"] as? Int)
            #expect(Int(object.objectClass) == expectation["class"] as? Int)
            let typeText = try #require(expectation["type"] as? String)
            #expect(typeText.contains("0x" + String(format: "%04X", object.type?.code ?? 0)), "type of handle \(object.handle)")
            #expect(object.type?.partition == 2)
            let unitText = try #require(expectation["unit"] as? String)
            #expect(unitText.contains(String(format: "0x%04X", object.unitCode ?? 0)))
            #expect(object.attributeValueMap == [
                AttributeValueMapEntry(attributeId: AttributeId.nuObservedValueSimple, length: 4),
                AttributeValueMapEntry(attributeId: AttributeId.timeStampAbsolute, length: 8),
            ])
        }
    }

    /// Config report then scan report through one session: responses byte-exact, values exact.
    @Test func extendedScaleDialogueMatchesTheVectors() throws {
        let store = InMemoryConfigurationStore()
        var session = ManagerSession.preset(awaitingConfigurationFrom: SystemId(0x8877_6655_4433_2211), settings: testSettings, store: store)
        let config = session.receive(try Vectors.named("config-report-scale-extended").bytes, now: .zero)
        #expect(config.outgoing == [try Vectors.named("config-report-response-accepted").bytes])
        #expect(config.rejection == nil)
        #expect(session.state == .operating)
        #expect(store.configuration(systemId: SystemId(0x8877_6655_4433_2211), configId: 0x4000) != nil)

        let scanVector = try Vectors.named("scan-fixed-scale-extended")
        let scan = session.receive(scanVector.bytes, now: .zero)
        #expect(scan.outgoing == [try Vectors.named("scan-response").bytes])
        #expect(scan.rejection == nil)
        try checkObservations(scan, scanVector)
        guard case .prst(let data)? = scan.received, case .roivConfirmedEventReport(let argument) = data.message,
              case .scanFixed(let report) = argument.info else { Issue.record("not a fixed scan"); return }
        #expect(Int(report.dataRequestId) == leadingNumber(scanVector.expect["dataReqId"] as? String))
        #expect(EventType.name(argument.eventType) == scanVector.expect["eventType"] as? String)
        // Weight 62.4 kg and body fat 25.6 % (0xE14C), as the vector's expectation says.
        #expect(scan.readings.count == 2)
        #expect(scan.readings.first?.metric.reference == "MDC_MASS_BODY_ACTUAL")
        #expect(scan.readings.first?.value == .single(.quantity(Quantity(value: DecimalNumber(mantissa: 624, exponent: -1), unit: "kg"))))
        #expect(scan.readings.last?.metric.reference == "MDC_BODY_FAT")
        #expect(scan.readings.last?.value == .single(.quantity(Quantity(value: DecimalNumber(mantissa: 256, exponent: -1), unit: "%"))))
        #expect(scan.readings.allSatisfy { $0.deviceId == "88-77-66-55-44-33-22-11" })
        #expect(scan.deadLetters.isEmpty)
    }

    @Test func scanResponseVector() throws {
        let vector = try Vectors.named("scan-response")
        guard case .prst(let data) = try APDU.decode(vector.bytes), case .rorsConfirmedEventReport(let result) = data.message else {
            Issue.record("not a RORS"); return
        }
        #expect(EventType.name(result.eventType) == vector.expect["eventType"] as? String)
        #expect(result.replyInfo == .opaque([]))
    }

    @Test(arguments: [
        ("scan-fixed-pulse-oximeter-std-config-400", UInt16(0x0190)),
        ("scan-fixed-blood-pressure-std-config-700", UInt16(0x02BC)),
        ("scan-fixed-scale-std-config-1500", UInt16(0x05DC)),
        ("scan-mp-fixed-blood-pressure", UInt16(0x02BC)),
    ])
    func standardConfigurationScans(name: String, configId: UInt16) throws {
        let vector = try Vectors.named(name)
        #expect(leadingNumber(vector.standardConfig) == Int(configId))
        var session = try operatingSession(configId)
        let result = session.receive(vector.bytes, now: .zero)
        #expect(result.rejection == nil)
        try checkObservations(result, vector)
        // Confirmed reports are answered with a RORS that echoes the invoke id and event type.
        guard case .prst(let input)? = result.received, case .roivConfirmedEventReport(let argument) = input.message else {
            Issue.record("not a confirmed event report"); return
        }
        let answer = try APDU.prst(DataAPDU(invokeId: input.invokeId, message: .rorsConfirmedEventReport(
            EventReportResult(objectHandle: 0, currentTime: 0, eventType: argument.eventType, replyInfo: .opaque([]))))).encode()
        #expect(result.outgoing == [answer])
    }

    @Test func pulseOximeterReadings() throws {
        var session = try operatingSession(0x0190, settings: ManagerSettings(managerSystemId: managerId, offsetRule: .fixed(seconds: 3600)))
        let result = session.receive(try Vectors.named("scan-fixed-pulse-oximeter-std-config-400").bytes, now: .zero)
        #expect(result.readings.map(\.metric.reference) == ["MDC_PULS_OXIM_SAT_O2", "MDC_PULS_OXIM_PULS_RATE"])
        #expect(result.readings.map(\.value) == [
            .single(.quantity(Quantity(value: DecimalNumber(98), unit: "%"))),
            .single(.quantity(Quantity(value: DecimalNumber(72), unit: "/min"))),
        ])
        let time = try #require(result.readings.first?.deviceTime)
        // 2007-12-06T12:10:00 at an assumed +01:00 is 11:10:00Z.
        #expect(time.instant == Date(timeIntervalSince1970: 1_196_943_000 - 3600))
        #expect(time.offsetAssumed && time.utcOffsetSeconds == 3600)
        #expect(result.readings.allSatisfy { $0.deviceId == "00-22-09-22-58-08-03-CC" })
    }

    @Test func bloodPressureReadings() throws {
        var session = try operatingSession(0x02BC)
        let result = session.receive(try Vectors.named("scan-fixed-blood-pressure-std-config-700").bytes, now: .zero)
        #expect(result.readings.count == 2)
        #expect(result.readings.first?.metric.reference == "MDC_PRESS_BLD_NONINV")
        #expect(result.readings.first?.value == .panel([
            .systolic: .quantity(Quantity(value: DecimalNumber(120), unit: "mm[Hg]")),
            .diastolic: .quantity(Quantity(value: DecimalNumber(80), unit: "mm[Hg]")),
            .mean: .quantity(Quantity(value: DecimalNumber(100), unit: "mm[Hg]")),
        ]))
        #expect(result.readings.last?.metric.reference == "MDC_PULS_RATE_NON_INV")
        #expect(result.readings.last?.value == .single(.quantity(Quantity(value: DecimalNumber(mantissa: 600, exponent: -1), unit: "/min"))))
    }

    @Test func multiPersonReportKeepsKnownHandlesAndSetsAsideHandle3() throws {
        let vector = try Vectors.named("scan-mp-fixed-blood-pressure")
        var session = try operatingSession(0x02BC)
        let result = session.receive(vector.bytes, now: .zero)
        #expect(result.rejection == nil)
        #expect(result.observations.allSatisfy { Int($0.personId ?? 0) == leadingNumber(vector.expect["personId"] as? String) })
        #expect(result.readings.count == 2)
        #expect(result.deadLetters.map(\.handle) == [3])
        #expect(result.deadLetters.first?.reason.contains("not an object of configuration 0x02BC") == true)
        guard case .prst(let data)? = result.received, case .roivConfirmedEventReport(let argument) = data.message else { return }
        #expect(EventType.name(argument.eventType) == vector.expect["eventType"] as? String)
    }

    @Test func configReportStandard1500Decodes() throws {
        let vector = try Vectors.named("config-report-scale-std-1500")
        guard case .prst(let data) = try APDU.decode(vector.bytes), case .roivConfirmedEventReport(let argument) = data.message,
              case .configReport(let report) = argument.info else { Issue.record("not a config report"); return }
        #expect(EventType.name(argument.eventType) == vector.expect["eventType"] as? String)
        #expect(Int(report.configReportId) == leadingNumber(vector.expect["configReportId"] as? String))
        let configuration = try Configuration(report: report)
        #expect(configuration.handles == [1])
        #expect(configuration.object(handle: 1)?.type == MetricType(partition: 2, code: 0xE140))
        #expect(configuration.object(handle: 1)?.unitCode == 0x06C3)
    }

    @Test func unbufferedScannerVarReport() throws {
        let vector = try Vectors.named("scan-var-pulse-oximeter-unbuffered-scanner")
        guard case .prst(let data) = try APDU.decode(vector.bytes), case .roivConfirmedEventReport(let argument) = data.message,
              case .scanVar(let report) = argument.info else { Issue.record("not a var scan"); return }
        #expect(Int(argument.objectHandle) == leadingNumber(vector.expect["objHandle"] as? String))
        #expect(Int(argument.eventType) == leadingNumber(vector.expect["eventType"] as? String))
        #expect(report.observations.map(\.handle) == [1, 10])
        #expect(report.observations.allSatisfy { $0.attributes.map(\.id) == [AttributeId.nuObservedValueBasic, AttributeId.timeStampAbsolute] })

        // A configuration that has the scanner: an extended pulse oximeter with an episodic scanner 0x37.
        let standard = try #require(StandardConfigurations.configuration(id: 0x0190))
        var objects = standard.report.objects
        objects.append(ConfigObject(objectClass: ObjectClass.episodicScanner, handle: 0x37, attributes: [
            AttributeValue(id: AttributeId.scanHandleList, value: [0x00, 0x02, 0x00, 0x04, 0x00, 0x01, 0x00, 0x0A]),
        ]))
        let withScanner = try Configuration(report: ConfigReport(configReportId: 0x4001, objects: objects))
        var session = ManagerSession.preset(operatingWith: withScanner, systemId: SystemId(1), settings: testSettings)
        let result = session.receive(vector.bytes, now: .zero)
        #expect(result.rejection == nil)
        try checkObservations(result, vector)
        #expect(result.readings.map(\.metric.reference) == ["MDC_PULS_OXIM_SAT_O2", "MDC_PULS_OXIM_PULS_RATE"])

        // Standard configuration 0x0190 has no object 0x37: ROER no-such-object-instance, no Readings.
        var strict = try operatingSession(0x0190)
        let refused = strict.receive(vector.bytes, now: .zero)
        #expect(refused.rejection?.kind == .unknownObject)
        #expect(refused.readings.isEmpty)
        #expect(refused.outgoingAPDUs == [.prst(DataAPDU(invokeId: 0x1238, message: .roer(ErrorResult(errorValue: ErrorValue.noSuchObjectInstance))))])
    }

    @Test func mdsGetResponse() throws {
        let vector = try Vectors.named("mds-get-response")
        guard case .prst(let data) = try APDU.decode(vector.bytes), case .rorsGet(let result) = data.message else {
            Issue.record("not a RORS get"); return
        }
        let mds = try MDSAttributes(attributes: result.attributes)
        #expect(mds.manufacturer == vector.expect["manufacturer"] as? String)
        #expect(mds.model == vector.expect["model"] as? String)
        #expect(mds.systemId?.hex == vector.expect["systemId"] as? String)
        #expect(mds.devConfigId.map(Int.init) == leadingNumber(vector.expect["devConfigId"] as? String))
        #expect(mds.absoluteTime?.description == vector.expect["absoluteTime"] as? String)
        #expect(mds.specializations == [MDSAttributes.Specialization(type: 4111, version: 1)])
        #expect(mds.productionSpecs.first?.value == "DE124567")
    }

    /// Compares decoded observations with the vector's `expect.observations`, in order.
    func checkObservations(_ result: ManagerResult, _ vector: Vectors.Vector) throws {
        let expected: [[String: Any]] = try #require(vector.expect["observations"] as? [[String: Any]])
        var decoded = result.observations[...]
        for expectation in expected {
            let handle = try #require(expectation["handle"] as? Int)
            if expectation["note"] != nil {
                #expect(result.deadLetters.contains { Int($0.handle) == handle && $0.observation == nil }, "\(vector.name): handle \(handle) set aside")
                continue
            }
            let next = decoded.popFirst()
            let observation = try #require(next, "\(vector.name): missing observation for handle \(handle)")
            #expect(Int(observation.handle) == handle, "\(vector.name)")
            if let value = expectation["value"] as? String { #expect(observation.decimalText == value, "\(vector.name) handle \(handle)") }
            if let components = expectation["components"] as? [String: String] {
                #expect(observation.componentTexts == [components["systolic"], components["diastolic"], components["mean"]].compactMap { $0 })
            }
            if let unit = expectation["unit"] as? String {
                #expect(observation.unitCode.flatMap { Nomenclature.unit(term: $0)?.ucum } == unit, "\(vector.name) handle \(handle) unit")
            }
            if let time = expectation["time"] as? String { #expect(observation.absoluteTime?.description == time) }
            if let code = expectation["code"] as? String, let reference = code.split(separator: " ").first {
                let metric = Nomenclature.metric(named: String(reference))
                #expect(metric != nil && observation.type?.code == metric?.term, "\(vector.name) handle \(handle) code")
            }
            if let attribute = expectation["attribute"] as? String, attribute.hasPrefix("NU_VAL_OBS_BASIC") {
                #expect(observation.valueAttribute == AttributeId.nuObservedValueBasic)
            }
        }
        #expect(decoded.isEmpty, "\(vector.name): more observations than expected")
    }
}
