import IEEE11073
import Testing

@Suite("Offline decoding")
struct OfflineDecodeTests {
    @Test func configReportThenScanReport() throws {
        let events = decodeIEEE11073(
            hexAPDUs: [try Vectors.named("config-report-scale-extended").hex, try Vectors.named("scan-fixed-scale-extended").hex],
            configId: nil, utcOffsetSeconds: 0)
        #expect(events.count == 2)
        #expect(events[0].responseHex == [try Vectors.named("config-report-response-accepted").hex])
        #expect(events[1].responseHex == [try Vectors.named("scan-response").hex])
        #expect(events[1].readings.count == 2)
        #expect(events[1].observations.count == 2)
        #expect(events[1].deadLetters.isEmpty)
        #expect(events[1].readings.first?.deviceId == ManagerSession.unknownDeviceId)
        #expect(events.allSatisfy { !$0.isRejected })
    }

    @Test func loneScanWithAStandardConfiguration() throws {
        let events = decodeIEEE11073(hexAPDUs: [try Vectors.named("scan-fixed-blood-pressure-std-config-700").hex],
                                     configId: parseIEEE11073ConfigId("0x02BC"), utcOffsetSeconds: 3600, systemIdHex: "00220922580803cc")
        #expect(events.first?.readings.count == 2)
        #expect(events.first?.readings.first?.deviceId == "00-22-09-22-58-08-03-CC")
        #expect(events.first?.readings.first?.deviceTime?.utcOffsetSeconds == 3600)
    }

    @Test func loneScanWithoutAConfigurationIsRefused() throws {
        let events = decodeIEEE11073(hexAPDUs: [try Vectors.named("scan-fixed-blood-pressure-std-config-700").hex], configId: nil, utcOffsetSeconds: 0)
        #expect(events.first?.rejection?.contains("not allowed while waiting for the configuration report") == true)
        #expect(events.first?.readings.isEmpty == true)
        #expect(events.first?.apdu != nil)
    }

    @Test func associationThenStandardScan() throws {
        let aarqHex = MDERHex.string(try aarq(configId: 0x0190))
        let events = decodeIEEE11073(hexAPDUs: [aarqHex, try Vectors.named("scan-fixed-pulse-oximeter-std-config-400").hex],
                                     configId: nil, utcOffsetSeconds: 0)
        #expect(events.map(\.stateAfter) == [.operating, .operating])
        #expect(events[1].readings.count == 2)
        #expect(events[1].readings.first?.deviceId == "00-22-09-22-58-08-03-CC")
    }

    @Test func badInputsAreReported() {
        let badHex = decodeIEEE11073(hexAPDUs: ["e7000", "e2"], configId: nil, utcOffsetSeconds: 0)
        #expect(badHex.count == 2)
        #expect(badHex[0].rejection?.contains("--hex 1") == true)
        let unknownConfig = decodeIEEE11073(hexAPDUs: ["e6000002 0000"], configId: 0x1234, utcOffsetSeconds: 0)
        #expect(unknownConfig.first?.rejection?.contains("0x1234") == true)
        #expect(parseIEEE11073ConfigId("05DC") == 0x05DC && parseIEEE11073ConfigId("zz") == nil)
        #expect(MDERHex.bytes("+f0a") == nil && MDERHex.bytes("e700") == [0xE7, 0x00])
    }
}
