import Foundation
import JSONDocument
import Testing
@testable import DeviceIdentity
import WardgateTestSupport

/// Fixed instants so validity tests never depend on the wall clock.
enum Instants {
    /// 2021-01-01T00:00:00Z
    static let caCreated = Date(timeIntervalSince1970: 1_609_459_200)
    /// 2021-03-01T00:00:00Z
    static let enrolled = Date(timeIntervalSince1970: 1_614_556_800)
    static func days(_ n: Double, after date: Date) -> Date { date.addingTimeInterval(n * 86_400) }
}

/// A CA and keystore in a temporary directory.
struct WardFixture {
    let directory: TemporaryDirectory
    let ca: CertificateAuthority
    let keystore: Keystore

    init(now: Date = Instants.caCreated, name: String = "Ward 7B CA") throws {
        directory = try TemporaryDirectory()
        ca = try CertificateAuthority.create(directory: directory.file("ca"), name: name, validityDays: 3650, now: now)
        keystore = Keystore(directory: directory.file("keystore"))
    }

    @discardableResult
    func enroll(_ id: String, kind: IdentityKind = .device, days: Int = 365, at now: Date = Instants.enrolled, csr: String? = nil) throws -> Enrollment.Outcome {
        try Enrollment.enroll(kind: kind, id: id, ca: ca, keystore: keystore, csrPath: csr, validityDays: days, now: now)
    }

    func registry() throws -> IdentityRegistry {
        try IdentityRegistry(keystore: keystore.directory, autoRefreshInterval: nil)
    }
}

func fileMode(_ path: String) throws -> Int {
    let attributes = try FileManager.default.attributesOfItem(atPath: path)
    return (attributes[.posixPermissions] as? Int) ?? -1
}

func chmod(_ path: String, _ mode: Int) throws {
    try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: path)
}

/// A vital-sign Observation with non-canonical member order and number lexemes.
func sampleObservation(device: String = "bed-12", value: String = "72.0") -> JSONValue {
    [
        "resourceType": "Observation",
        "status": "final",
        "id": "obs-1",
        "code": ["coding": [["system": "http://loinc.org", "code": "8867-4", "display": "Heart rate"]]],
        "valueQuantity": ["value": .number(value), "unit": "beats/minute", "system": "http://unitsofmeasure.org", "code": "/min"],
        "effectiveDateTime": "2021-03-01T08:15:30.250Z",
        "device": ["identifier": ["system": "urn:ietf:rfc:3986", "value": .string("urn:wardgate:device:\(device)")]],
        "note": [["text": "caf\u{E9} \u{20AC} \u{1F600} \"quoted\"\n"]],
        "referenceRange": [["low": ["value": .number("6.0E1")], "high": ["value": .number("100")]]],
    ]
}
