import Crypto
import Foundation
import SigningKeys
import Testing
@testable import DeviceIdentity

/// `device list` shows the gateway's own decision for each device, never a second reading of
/// the rules: whatever the registry would refuse to sign for, the listing shows as refused.
@Suite("Keystore listing = the gateway's signing decision")
struct ListingTests {
    /// One device per way of being unusable, and one good one.
    static func ward() throws -> (WardFixture, at: Date) {
        let fixture = try WardFixture()
        let foreign = try WardFixture()  // same CA name, another key
        try fixture.enroll("bed-ok")
        try fixture.enroll("bed-short", days: 10)
        try fixture.enroll("bed-late", at: Instants.days(100, after: Instants.enrolled))
        try fixture.enroll("bed-revoked")
        _ = try Enrollment.revoke(kind: .device, id: "bed-revoked", reason: .keyCompromise, ca: fixture.ca, keystore: fixture.keystore,
                                  now: Instants.days(1, after: Instants.enrolled))
        // A certificate and key from another CA, put in place of ours.
        try fixture.enroll("bed-foreign")
        try foreign.enroll("bed-foreign")
        try replace(["cert.pem", "key.pem"], of: "bed-foreign", in: fixture, from: foreign.keystore.identityDirectory(kind: .device, id: "bed-foreign"))
        // bed-ok's certificate and key under another device's name: the SAN names bed-ok.
        try fixture.enroll("bed-wrong-san")
        try replace(["cert.pem", "key.pem"], of: "bed-wrong-san", in: fixture, from: fixture.keystore.identityDirectory(kind: .device, id: "bed-ok"))
        // A key that is not the certificate's.
        try fixture.enroll("bed-mismatch")
        let mismatchKey = fixture.keystore.keyPath(kind: .device, id: "bed-mismatch")
        try FileManager.default.removeItem(atPath: mismatchKey)
        try PrivateKeyFile.write(P256.Signing.PrivateKey(), to: mismatchKey)
        return (fixture, Instants.days(30, after: Instants.enrolled))
    }

    static func replace(_ files: [String], of id: String, in fixture: WardFixture, from source: String) throws {
        for file in files {
            let target = fixture.keystore.identityDirectory(kind: .device, id: id) + "/" + file
            try FileManager.default.removeItem(atPath: target)
            try FileManager.default.copyItem(atPath: source + "/" + file, toPath: target)
        }
    }

    @Test("another CA, a wrong SAN, expired, revoked, not yet valid, a key that does not match: each shown as such")
    func eachRefusalIsShown() throws {
        let (fixture, at) = try Self.ward()
        let entries = try fixture.keystore.list(kind: .device, at: at)
        let status = Dictionary(uniqueKeysWithValues: entries.map { ($0.id, $0.status.description) })
        #expect(status["bed-ok"] == "valid")
        #expect(status["bed-short"] == "expired")
        #expect(status["bed-late"] == "not-yet-valid")
        #expect(status["bed-revoked"] == "revoked (keyCompromise)")
        #expect(status["bed-foreign"]?.hasPrefix("untrusted: ") == true, "\(status["bed-foreign"] ?? "-")")
        #expect(status["bed-foreign"]?.contains("signature") == true, "\(status["bed-foreign"] ?? "-")")
        #expect(status["bed-wrong-san"]?.hasPrefix("untrusted: ") == true, "\(status["bed-wrong-san"] ?? "-")")
        #expect(status["bed-wrong-san"]?.contains("urn:wardgate:device:bed-wrong-san") == true, "\(status["bed-wrong-san"] ?? "-")")
        #expect(status["bed-mismatch"]?.hasPrefix("key-mismatch") == true, "\(status["bed-mismatch"] ?? "-")")
        #expect(entries.count == 7)
    }

    @Test("the listing's decision is the registry's, identity by identity, at several times")
    func sameDecisionAsTheRegistry() throws {
        let (fixture, _) = try Self.ward()
        try chmod(fixture.keystore.keyPath(kind: .device, id: "bed-ok"), 0o640)
        let registry = try fixture.registry()
        for at in [Instants.enrolled, Instants.days(30, after: Instants.enrolled), Instants.days(200, after: Instants.enrolled), Instants.days(400, after: Instants.enrolled)] {
            for entry in try fixture.keystore.list(kind: .device, at: at) {
                let decision = registry.signingIdentity(for: entry.id, at: at)
                switch decision {
                case .success:
                    #expect(entry.status == .valid && entry.refusal == nil, "\(entry.id) at \(at)")
                case .failure(let failure):
                    #expect(entry.refusal == failure, "\(entry.id) at \(at)")
                    #expect(entry.status == CertificateStatus(decision), "\(entry.id) at \(at)")
                    #expect(entry.status != .valid, "\(entry.id) at \(at)")
                }
            }
        }
        // A chmod'ed key is refused by both.
        let loose = try #require(try fixture.keystore.list(kind: .device, at: Instants.enrolled).first { $0.id == "bed-ok" })
        #expect(loose.status == .insecureKeyFile(mode: 0o640))
    }

    @Test("revocation and expiry are reported before key problems: installing a key would not help")
    func certificateBeforeKey() throws {
        let fixture = try WardFixture()
        try fixture.enroll("bed-1", days: 10)
        try FileManager.default.removeItem(atPath: fixture.keystore.keyPath(kind: .device, id: "bed-1"))
        let later = Instants.days(30, after: Instants.enrolled)
        #expect(try fixture.keystore.list(kind: .device, at: later).first?.status == .expired)
        #expect(try fixture.keystore.list(kind: .device, at: Instants.enrolled).first?.status == .noPrivateKey)
        guard case .failure(.expired) = try fixture.registry().signingIdentity(for: "bed-1", at: later) else {
            Issue.record("the registry did not report the expiry first")
            return
        }
    }
}
