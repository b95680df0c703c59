import IEEE11073
import Testing

/// Bad input gets the prescribed answer, a precise reason, and never a Reading.
@Suite("Malformed input")
struct MalformedInputTests {
    struct Case: Sendable, CustomTestStringConvertible {
        let name: String
        let hex: String
        let configId: UInt16
        let expectedResponse: APDU?
        let kind: Rejection.Kind
        let reasonContains: String
        var testDescription: String { name }
    }

    // The pulse oximeter vector, for reference:
    // e7 0036 | 0034 | 1238 0101 002e | 0000 ffffffff 0d1d 0024 | f000 0000 | 0002 001c | 0001 000a 0062 <time> | 000a 000a 0048 <time>
    static let scan = "e7000036003412380101002e0000ffffffff0d1d0024f00000000002001c0001000a00622007120612100000000a000a00482007120612100000"
    static func replacing(_ old: String, _ new: String) -> String { scan.replacingOccurrences(of: old, with: new) }
    static let rorjBadlyStructured = APDU.prst(DataAPDU(invokeId: 0x1238, message: .rorj(RejectResult(problem: RejectProblem.badlyStructuredAPDU))))
    static let abort = APDU.abrt(reason: AbortReason.undefined.rawValue)

    static let cases: [Case] = [
        Case(name: "APDU length longer than the bytes", hex: "e7000037" + scan.dropFirst(8), configId: 0x0190,
             expectedResponse: abort, kind: .malformed, reasonContains: "APDU length 55 but 54 bytes follow"),
        Case(name: "trailing byte after the APDU", hex: scan + "00", configId: 0x0190,
             expectedResponse: abort, kind: .malformed, reasonContains: "trailingBytes"),
        Case(name: "truncated APDU", hex: String(scan.dropLast(20)), configId: 0x0190,
             expectedResponse: abort, kind: .malformed, reasonContains: "truncated"),
        Case(name: "empty input", hex: "", configId: 0x0190, expectedResponse: abort, kind: .malformed, reasonContains: "apdu-tag"),
        Case(name: "unknown APDU tag", hex: "e8000002" + "0000", configId: 0x0190,
             expectedResponse: abort, kind: .malformed, reasonContains: "not an APDU tag"),
        Case(name: "observation count says 3, length holds 2", hex: replacing("0002001c0001", "0003001c0001"), configId: 0x0190,
             expectedResponse: rorjBadlyStructured, kind: .malformed, reasonContains: "countMismatch"),
        Case(name: "observation list length disagrees with its content", hex: replacing("0002001c0001", "0002001a0001"), configId: 0x0190,
             expectedResponse: rorjBadlyStructured, kind: .malformed, reasonContains: "obs-scan-fixed"),
        Case(name: "message length disagrees with the octet string", hex: replacing("12380101002e", "12380101002c"), configId: 0x0190,
             expectedResponse: rorjBadlyStructured, kind: .malformed, reasonContains: "length 36 but 34 bytes remain"),
        Case(name: "obs-val-data shorter than the Attribute-Value-Map", hex: "e7000034003212380101002c0000ffffffff0d1d0022f00000000002001a00010008200712061210000000"
             + "0a000a00482007120612100000", configId: 0x0190,
             expectedResponse: rorjBadlyStructured, kind: .invalidObservation, reasonContains: "Attribute-Value-Map describes 10"),
        Case(name: "time stamp that is not BCD", hex: replacing("0062200712061210", "00622007120612A0"), configId: 0x0190,
             expectedResponse: rorjBadlyStructured, kind: .invalidObservation, reasonContains: "not two BCD digits"),
        Case(name: "30 February", hex: replacing("0062200712061210", "0062200702301210"), configId: 0x0190,
             expectedResponse: rorjBadlyStructured, kind: .invalidObservation, reasonContains: "day 30"),
        Case(name: "compound count disagrees with the physio list", hex:
             "e700003e003c0054010100360000004900500d1d002cf000000000020024000100120002000600780050006420071206121000000002000af2582007120612100000",
             configId: 0x02BC, expectedResponse: .prst(DataAPDU(invokeId: 0x0054, message: .rorj(RejectResult(problem: RejectProblem.badlyStructuredAPDU)))),
             kind: .invalidObservation, reasonContains: "BasicNuObsValueCmp"),
        Case(name: "event report from an unknown object", hex: replacing("0000ffffffff0d1d", "0005ffffffff0d1d"), configId: 0x0190,
             expectedResponse: .prst(DataAPDU(invokeId: 0x1238, message: .roer(ErrorResult(errorValue: ErrorValue.noSuchObjectInstance)))),
             kind: .unknownObject, reasonContains: "handle 5"),
        Case(name: "event type the MDS does not send", hex: replacing("ffffffff0d1d", "ffffffff0d99"), configId: 0x0190,
             expectedResponse: .prst(DataAPDU(invokeId: 0x1238, message: .rorj(RejectResult(problem: RejectProblem.unrecognizedOperation)))),
             kind: .unsupportedOperation, reasonContains: "event type 3481"),
        Case(name: "unknown DATA-apdu choice", hex: replacing("12380101", "12380109"), configId: 0x0190,
             expectedResponse: .prst(DataAPDU(invokeId: 0x1238, message: .rorj(RejectResult(problem: RejectProblem.unrecognizedAPDU)))),
             kind: .malformed, reasonContains: "not a DATA-apdu choice"),
        Case(name: "response to a request never made", hex: "e7000012001043210201000a0000000000000d1d0000", configId: 0x0190,
             expectedResponse: abort, kind: .unexpectedResponse, reasonContains: "answers no request"),
        Case(name: "agent GET to the manager", hex: "e700000e000c0007010300060000" + "00000000", configId: 0x0190,
             expectedResponse: .prst(DataAPDU(invokeId: 7, message: .roer(ErrorResult(errorValue: ErrorValue.noSuchObjectInstance)))),
             kind: .unsupportedOperation, reasonContains: "roiv-cmip-get"),
        Case(name: "list count larger than the whole APDU", hex: replacing("0002001c0001", "ffff001c0001"), configId: 0x0190,
             expectedResponse: rorjBadlyStructured, kind: .malformed, reasonContains: "count 65535"),
    ]

    @Test(arguments: cases)
    func answeredAsPrescribed(_ testCase: Case) throws {
        let bytes = try #require(MDERHex.bytes(testCase.hex))
        var session = try operatingSession(testCase.configId)
        let result = session.receive(bytes, now: .zero)
        #expect(result.readings.isEmpty)
        #expect(result.rejection?.kind == testCase.kind, "\(result.rejection?.description ?? "accepted")")
        #expect(result.rejection?.description.contains(testCase.reasonContains) == true, "\(result.rejection?.description ?? "accepted")")
        #expect(result.outgoingAPDUs == [testCase.expectedResponse].compactMap { $0 })
        // RORJ/ROER keep the association; ABRT ends it.
        let aborted = result.outgoingAPDUs.contains { if case .abrt = $0 { true } else { false } }
        #expect(result.state == (aborted ? .unassociated : .operating))
    }

    @Test func casesAreDistinctFromTheValidVector() throws {
        var session = try operatingSession(0x0190)
        let valid = session.receive(try #require(MDERHex.bytes(Self.scan)), now: .zero)
        #expect(valid.rejection == nil && valid.readings.count == 2)
    }

    @Test func decodeErrorsCarryFieldAndOffset() {
        guard let bytes = MDERHex.bytes(Self.replacing("0002001c0001", "0003001c0001")) else { return }
        #expect(throws: DecodeError.self) { try APDU.decode(bytes) }
        do {
            _ = try APDU.decode(bytes)
        } catch {
            #expect(error.kind == .countMismatch)
            #expect(error.field.contains("event-info(MDC_NOTI_SCAN_REPORT_FIXED)"))
            #expect(error.offset > 20)
        }
    }

    @Test func lengthFieldsCannotAllocateBeyondTheInput() {
        // An AARQ claiming 65535 protocols in a 4-byte list.
        let bytes: [UInt8] = [0xE2, 0x00, 0x00, 0x0C, 0x80, 0x00, 0x00, 0x00, 0xFF, 0xFF, 0x00, 0x04, 0x00, 0x00, 0x00, 0x00]
        let (result, steps) = APDU.decodeCountingWork(bytes)
        guard case .failure(let error) = result else { Issue.record("accepted"); return }
        #expect(error.kind == .countMismatch)
        #expect(steps < 20)
    }
}
