import IEEE11073
import Nomenclature
import Testing

@Suite("Standard configurations")
struct StandardConfigurationTests {
    struct Layout: Sendable, CustomTestStringConvertible {
        let id: UInt16
        /// handle, metric reference, unit reference, value attribute, value length, time stamp
        let objects: [(UInt16, String, String, UInt16, UInt16, Bool)]
        var testDescription: String { String(format: "0x%04X", id) }
    }

    static let basic = AttributeId.nuObservedValueBasic
    static let simple = AttributeId.nuObservedValueSimple
    static let layouts: [Layout] = [
        Layout(id: 0x0190, objects: [(1, "MDC_PULS_OXIM_SAT_O2", "MDC_DIM_PERCENT", basic, 2, true),
                                     (10, "MDC_PULS_OXIM_PULS_RATE", "MDC_DIM_BEAT_PER_MIN", basic, 2, true)]),
        Layout(id: 0x0191, objects: [(1, "MDC_PULS_OXIM_SAT_O2", "MDC_DIM_PERCENT", basic, 2, false),
                                     (10, "MDC_PULS_OXIM_PULS_RATE", "MDC_DIM_BEAT_PER_MIN", basic, 2, false)]),
        Layout(id: 0x02BC, objects: [(1, "MDC_PRESS_BLD_NONINV", "MDC_DIM_MMHG", AttributeId.nuCompoundObservedValueBasic, 10, true),
                                     (2, "MDC_PULS_RATE_NON_INV", "MDC_DIM_BEAT_PER_MIN", basic, 2, true)]),
        Layout(id: 0x0320, objects: [(1, "MDC_TEMP_BODY", "MDC_DIM_DEGC", basic, 2, true)]),
        Layout(id: 0x05DC, objects: [(1, "MDC_MASS_BODY_ACTUAL", "MDC_DIM_KILO_G", simple, 4, true),
                                     (2, "MDC_LEN_BODY_ACTUAL", "MDC_DIM_CENTI_M", simple, 4, true),
                                     (3, "MDC_RATIO_MASS_BODY_LEN_SQ", "MDC_DIM_KG_PER_M_SQ", simple, 4, true)]),
        Layout(id: 0x06A4, objects: [(1, "MDC_CONC_GLU_CAPILLARY_WHOLEBLOOD", "MDC_DIM_MILLI_G_PER_DL", basic, 2, true)]),
        Layout(id: 0x06A5, objects: [(1, "MDC_CONC_GLU_CAPILLARY_WHOLEBLOOD", "MDC_DIM_MILLI_MOLE_PER_L", basic, 2, true)]),
    ]

    @Test func everySupportedIdIsPresent() {
        #expect(Set(StandardConfigurations.all.keys) == Set(StandardConfigurations.supportedIds))
        #expect(StandardConfigurations.supportedIds.count == 7)
    }

    @Test(arguments: layouts)
    func layout(_ layout: Layout) throws {
        let configuration = try #require(StandardConfigurations.configuration(id: layout.id))
        #expect(configuration.isStandard)
        #expect(configuration.handles == layout.objects.map(\.0))
        for (handle, metric, unit, valueAttribute, length, stamped) in layout.objects {
            let object = try #require(configuration.object(handle: handle))
            #expect(object.objectClass == ObjectClass.numeric)
            #expect(object.type == MetricType(partition: 2, code: try #require(Nomenclature.metric(named: metric)?.term)))
            #expect(object.unitCode == Nomenclature.units.first { $0.reference == unit }?.term)
            var map = [AttributeValueMapEntry(attributeId: valueAttribute, length: length)]
            if stamped { map.append(AttributeValueMapEntry(attributeId: AttributeId.timeStampAbsolute, length: 8)) }
            #expect(object.attributeValueMap == map)
        }
    }

    @Test func bloodPressureCompoundNamesItsComponents() throws {
        let object = try #require(StandardConfigurations.configuration(id: 0x02BC)?.object(handle: 1))
        #expect(object.metricStructure == MetricStructure(structure: 3, componentCount: 3))
        #expect(object.physioList == [0x4A05, 0x4A06, 0x4A07])
    }

    @Test func invalidReportsAreRefusedWithReasons() {
        let unit = AttributeValue(id: AttributeId.unitCode, value: [0x06, 0xC3])
        let type = AttributeValue(id: AttributeId.idType, value: [0x00, 0x02, 0xE1, 0x40])
        func refusal(_ report: ConfigReport) -> String? {
            do { _ = try Configuration(report: report); return nil } catch { return error.reason }
        }
        #expect(refusal(ConfigReport(configReportId: 0x4000, objects: [
            ConfigObject(objectClass: 6, handle: 1, attributes: [type, unit]), ConfigObject(objectClass: 6, handle: 1, attributes: [type, unit]),
        ]))?.contains("listed twice") == true)
        #expect(refusal(ConfigReport(configReportId: 0x4000, objects: [ConfigObject(objectClass: 6, handle: 0, attributes: [type, unit])]))?.contains("MDS") == true)
        #expect(refusal(ConfigReport(configReportId: 0x4000, objects: [ConfigObject(objectClass: 6, handle: 1, attributes: [type])]))?.contains("Unit-Code") == true)
        #expect(refusal(ConfigReport(configReportId: 0x4000, objects: [ConfigObject(objectClass: 6, handle: 1, attributes: [unit])]))?.contains("no Type") == true)
        #expect(refusal(ConfigReport(configReportId: 0x8000, objects: [ConfigObject(objectClass: 6, handle: 1, attributes: [type, unit])]))?.contains("reserved") == true)
        #expect(refusal(ConfigReport(configReportId: 0x4000, objects: []))?.contains("no objects") == true)
        #expect(refusal(ConfigReport(configReportId: 0x4000, objects: [ConfigObject(objectClass: 6, handle: 1, attributes: [
            AttributeValue(id: AttributeId.idType, value: [0x00, 0x02, 0xE1]), unit,
        ])]))?.contains("does not decode") == true)
        #expect(refusal(ConfigReport(configReportId: 0x4000, objects: [
            ConfigObject(objectClass: 6, handle: 1, attributes: [type, unit]),
            ConfigObject(objectClass: ObjectClass.episodicScanner, handle: 2, attributes: [
                AttributeValue(id: AttributeId.scanHandleList, value: [0x00, 0x01, 0x00, 0x02, 0x00, 0x09]),
            ]),
        ]))?.contains("refers to handle 9") == true)
    }
}
