import Foundation
import SwiftASN1
import Testing
import WardgateTestSupport
import X509
@testable import DeviceIdentity

@Suite("Revocation and CRL")
struct RevocationTests {
    @Test func revokingPublishesASignedCRLThatOpenSSLVerifies() throws {
        let fixture = try WardFixture(now: Date())
        let revoked = try fixture.enroll("bed-12", at: Date())
        let kept = try fixture.enroll("bed-13", at: Date())
        let before = try fixture.ca.currentCRL()
        #expect(before.revokedCertificates.isEmpty)

        let outcome = try Enrollment.revoke(kind: .device, id: "bed-12", reason: .keyCompromise, ca: fixture.ca, keystore: fixture.keystore)
        #expect(!outcome.wasAlreadyRevoked)
        let crl = try CertificateRevocationList.load(fixture.ca.crlPath)
        #expect(crl.crlNumber == (before.crlNumber ?? 0) + 1)
        #expect(crl.isSigned(by: fixture.ca.certificate))
        #expect(crl.issuer == fixture.ca.certificate.subject)
        #expect(crl.authorityKeyIdentifier == (try fixture.ca.certificate.extensions.subjectKeyIdentifier).map { Array($0.keyIdentifier) })
        #expect(crl.nextUpdate! > crl.thisUpdate)
        let entry = try #require(crl.entry(for: revoked.certificate.serialNumber))
        #expect(entry.reason == .keyCompromise)
        #expect(crl.entry(for: kept.certificate.serialNumber) == nil)
        // The keystore got the same CRL.
        #expect(try CertificateRevocationList.load(fixture.keystore.crlPath) == crl)

        let check = try ProcessRunner.runTool(["openssl", "crl", "-in", fixture.ca.crlPath, "-CAfile", fixture.ca.certificatePath, "-noout"])
        #expect(check.status == 0 && check.output.contains("verify OK"), "\(check.output)")
        let text = try ProcessRunner.runTool(["openssl", "crl", "-in", fixture.ca.crlPath, "-noout", "-text"])
        #expect(text.stdout.contains("Version 2"))
        #expect(text.stdout.contains("X509v3 CRL Number"))
        #expect(text.stdout.contains("X509v3 Authority Key Identifier"))
        #expect(text.stdout.contains("Key Compromise"))
        #expect(text.stdout.contains("ecdsa-with-SHA256"))
        #expect(text.stdout.uppercased().contains(revoked.serialHex.uppercased()))

        let rejected = try ProcessRunner.runTool([
            "openssl", "verify", "-crl_check", "-CAfile", fixture.ca.certificatePath, "-CRLfile", fixture.ca.crlPath, revoked.certificatePath,
        ])
        #expect(rejected.status != 0 && rejected.output.contains("certificate revoked"), "\(rejected.output)")
        let accepted = try ProcessRunner.runTool([
            "openssl", "verify", "-crl_check", "-CAfile", fixture.ca.certificatePath, "-CRLfile", fixture.ca.crlPath, kept.certificatePath,
        ])
        #expect(accepted.status == 0, "\(accepted.output)")
    }

    @Test func revokingTwiceKeepsTheFirstRecordAndStillRepublishes() throws {
        let fixture = try WardFixture()
        try fixture.enroll("bed-12")
        let first = try Enrollment.revoke(kind: .device, id: "bed-12", reason: .superseded, ca: fixture.ca, keystore: fixture.keystore, now: Instants.enrolled)
        let second = try Enrollment.revoke(kind: .device, id: "bed-12", reason: .keyCompromise, ca: fixture.ca, keystore: fixture.keystore, now: Instants.days(2, after: Instants.enrolled))
        #expect(second.wasAlreadyRevoked)
        #expect(second.certificate.revocation?.reason == .superseded)
        #expect(second.crl.crlNumber == first.crl.crlNumber.map { $0 + 1 })
        #expect(second.crl.revokedCertificates.count == 1)
    }

    @Test func revokingAnUnknownSerialFails() throws {
        let fixture = try WardFixture()
        try fixture.enroll("bed-12")
        #expect(throws: IdentityError.self) {
            try Enrollment.revoke(kind: .device, id: "bed-12", reason: .superseded, ca: fixture.ca, keystore: fixture.keystore, serialHex: "01")
        }
        #expect(throws: IdentityError.notEnrolled(kind: .device, id: "nobody")) {
            try Enrollment.revoke(kind: .device, id: "nobody", reason: .superseded, ca: fixture.ca, keystore: fixture.keystore)
        }
    }

    @Test(arguments: [
        ("keyCompromise", RevocationReason.keyCompromise), ("superseded", .superseded), ("cessationOfOperation", .cessationOfOperation),
        ("key-compromise", .keyCompromise), ("AFFILIATIONCHANGED", .affiliationChanged), ("unspecified", .unspecified),
    ])
    func reasonNames(name: String, reason: RevocationReason) {
        #expect(RevocationReason(name: name) == reason)
    }

    @Test func unsupportedReasonNamesAreRejected() {
        #expect(RevocationReason(name: "certificateHold") == nil)
        #expect(RevocationReason(name: "bogus") == nil)
    }

    @Test func aCRLFromAnotherCAOrTamperedIsNotAccepted() throws {
        let fixture = try WardFixture()
        let other = try WardFixture()
        let crl = try fixture.ca.currentCRL()
        #expect(!crl.isSigned(by: other.ca.certificate))
        var der = crl.derBytes
        // Flip a bit in thisUpdate's seconds digit: still parses, no longer verifies.
        let position = try #require(der.indices.first { der[$0] == 0x17 })  // UTCTime tag
        der[position + 13] ^= 0x01
        if let tampered = try? CertificateRevocationList(derEncoded: der) {
            #expect(!tampered.isSigned(by: fixture.ca.certificate))
        }
        // A registry refuses a keystore whose CRL is not from its CA.
        try fixture.enroll("bed-12")
        try Data(other.ca.currentCRL().pemString.utf8).write(to: URL(fileURLWithPath: fixture.keystore.crlPath))
        #expect(throws: IdentityError.self) { try fixture.registry() }
    }

    @Test func malformedCRLInputNeverTraps() throws {
        let fixture = try WardFixture()
        let crl = try fixture.ca.currentCRL().derBytes
        for length in stride(from: 0, to: crl.count, by: 3) {
            _ = try? CertificateRevocationList(derEncoded: Array(crl.prefix(length)))
        }
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<500 {
            var mutated = crl
            mutated[Int.random(in: 0..<mutated.count, using: &generator)] = UInt8.random(in: 0...255, using: &generator)
            _ = try? CertificateRevocationList(derEncoded: mutated)
        }
        #expect(throws: IdentityError.self) { try CertificateRevocationList(fileBytes: Array("-----BEGIN X509 CRL-----\nAAAA\n-----END X509 CRL-----\n".utf8), path: "x.pem") }
    }

    @Test func chainVerificationHonoursTheCRLAtTheGivenTime() async throws {
        let fixture = try WardFixture()
        let outcome = try fixture.enroll("bed-12")
        let revokedAt = Instants.days(10, after: Instants.enrolled)
        _ = try Enrollment.revoke(kind: .device, id: "bed-12", reason: .superseded, ca: fixture.ca, keystore: fixture.keystore, now: revokedAt)
        let crl = try fixture.ca.currentCRL()
        let anchor = fixture.ca.certificate

        let before = await ChainVerification.verify(outcome.certificate, anchor: anchor, at: Instants.days(5, after: Instants.enrolled), crl: crl, expecting: .device("bed-12"))
        #expect((try? before.get()) != nil)
        let after = await ChainVerification.verify(outcome.certificate, anchor: anchor, at: Instants.days(11, after: Instants.enrolled), crl: crl)
        #expect(failure(of: after) == .revoked(reason: .superseded, date: revokedAt))
        let expired = await ChainVerification.verify(outcome.certificate, anchor: anchor, at: Instants.days(400, after: Instants.enrolled))
        guard case .failure(.untrusted) = expired else {
            Issue.record("an expired certificate verified: \(expired)")
            return
        }
        let wrongName = await ChainVerification.verify(outcome.certificate, anchor: anchor, at: Instants.enrolled, expecting: .device("bed-13"))
        guard case .failure(.untrusted) = wrongName else {
            Issue.record("certificate accepted for another device")
            return
        }
        let otherCA = try WardFixture().ca.certificate
        guard case .failure = await ChainVerification.verify(outcome.certificate, anchor: otherCA, at: Instants.enrolled) else {
            Issue.record("certificate accepted under a foreign CA")
            return
        }
    }

    @Test func keyCompromiseRevokesEvenEarlierSignatures() async throws {
        let fixture = try WardFixture()
        let outcome = try fixture.enroll("bed-12")
        _ = try Enrollment.revoke(kind: .device, id: "bed-12", reason: .keyCompromise, ca: fixture.ca, keystore: fixture.keystore, now: Instants.days(10, after: Instants.enrolled))
        let result = await ChainVerification.verify(outcome.certificate, anchor: fixture.ca.certificate, at: Instants.days(1, after: Instants.enrolled), crl: try fixture.ca.currentCRL())
        guard case .failure(.revoked(.keyCompromise, _)) = result else {
            Issue.record("expected keyCompromise revocation, got \(result)")
            return
        }
    }
}

func failure(of result: Result<Void, ChainVerificationFailure>) -> ChainVerificationFailure? {
    if case .failure(let failure) = result { return failure }
    return nil
}
