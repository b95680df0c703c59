import Crypto
import Foundation
import JSONDocument
import SigningKeys
import Testing
import X509
@testable import DeviceIdentity
import WardgateTestSupport

@Suite("Identity registry")
struct RegistryTests {
    func failure(_ result: Result<DeviceSigner, IdentityFailure>) -> IdentityFailure? {
        if case .failure(let failure) = result { return failure }
        return nil
    }

    @Test func signsForAValidDeviceAndCachesTheSigner() throws {
        let fixture = try WardFixture()
        let outcome = try fixture.enroll("bed-12")
        let registry = try fixture.registry()
        let signer = try registry.signingIdentity(for: "bed-12", at: Instants.days(1, after: Instants.enrolled)).get()
        #expect(signer.id == "bed-12" && signer.kind == .device)
        #expect(signer.certificateThumbprint == outcome.thumbprint)
        let payload = try JCS.canonicalize(sampleObservation())
        try JWSVerifier.verify(try signer.sign(payload), detachedPayload: payload, certificate: outcome.certificate)
        #expect(registry.certificate(forThumbprint: outcome.thumbprint) == outcome.certificate)
    }

    @Test func unknownDevice() throws {
        let fixture = try WardFixture()
        try fixture.enroll("bed-12")
        let registry = try fixture.registry()
        #expect(failure(registry.signingIdentity(for: "bed-99", at: Instants.enrolled)) == .unknownDevice(.device("bed-99")))
        #expect(failure(registry.signingIdentity(for: "../bed-12", at: Instants.enrolled)) == .unknownDevice(.device("../bed-12")))
        // A gateway named like a device is a different identity.
        #expect(failure(registry.gatewayIdentity(for: "bed-12", at: Instants.enrolled)) == .unknownDevice(.gateway("bed-12")))
        #expect(failure(registry.signingIdentity(for: "bed-99", at: Instants.enrolled))?.description.contains("wardgate device enroll") == true)
    }

    @Test func expiredAndNotYetValid() throws {
        let fixture = try WardFixture()
        let outcome = try fixture.enroll("bed-12", days: 30)
        let registry = try fixture.registry()
        let certificate = outcome.certificate
        #expect(failure(registry.signingIdentity(for: "bed-12", at: Instants.days(31, after: Instants.enrolled))) == .expired(.device("bed-12"), notAfter: certificate.notValidAfter))
        #expect(failure(registry.signingIdentity(for: "bed-12", at: Instants.days(-1, after: Instants.enrolled))) == .notYetValid(.device("bed-12"), notBefore: certificate.notValidBefore))
        // The boundaries themselves are inside the window.
        #expect((try? registry.signingIdentity(for: "bed-12", at: certificate.notValidAfter).get()) != nil)
        #expect((try? registry.signingIdentity(for: "bed-12", at: certificate.notValidBefore).get()) != nil)
    }

    @Test func revokedAfterReloadWithReason() throws {
        let fixture = try WardFixture()
        try fixture.enroll("bed-12")
        let registry = try fixture.registry()
        let at = Instants.days(2, after: Instants.enrolled)
        #expect((try? registry.signingIdentity(for: "bed-12", at: at).get()) != nil)
        let revokedAt = Instants.days(1, after: Instants.enrolled)
        _ = try Enrollment.revoke(kind: .device, id: "bed-12", reason: .keyCompromise, ca: fixture.ca, keystore: fixture.keystore, now: revokedAt)
        #expect(try registry.reloadIfChanged())
        let result = failure(registry.signingIdentity(for: "bed-12", at: at))
        #expect(result == .revoked(.device("bed-12"), reason: .keyCompromise, date: revokedAt))
        #expect(result?.description.contains("keyCompromise") == true)
        #expect(registry.revocationList?.revokedCertificates.count == 1)
    }

    @Test func sighupStyleReloadPicksUpRevocationToo() throws {
        let fixture = try WardFixture()
        try fixture.enroll("bed-12")
        let registry = try fixture.registry()
        _ = try Enrollment.revoke(kind: .device, id: "bed-12", reason: .cessationOfOperation, ca: fixture.ca, keystore: fixture.keystore, now: Instants.enrolled)
        // Not seen until reload (auto refresh is off in this registry).
        #expect((try? registry.signingIdentity(for: "bed-12", at: Instants.enrolled).get()) != nil)
        let summary = try registry.reload()
        #expect(summary.identities == [.device("bed-12")])
        guard case .revoked(_, .cessationOfOperation, _)? = failure(registry.signingIdentity(for: "bed-12", at: Instants.enrolled)) else {
            Issue.record("revocation not applied after reload")
            return
        }
    }

    @Test func certificateFromAnotherCAIsChainInvalid() throws {
        let fixture = try WardFixture()
        let foreign = try WardFixture()
        try fixture.enroll("bed-12")
        try foreign.enroll("bed-12")
        // Put the foreign certificate and key in place of ours.
        for file in ["cert.pem", "key.pem"] {
            let target = fixture.keystore.identityDirectory(kind: .device, id: "bed-12") + "/" + file
            try FileManager.default.removeItem(atPath: target)
            try FileManager.default.copyItem(atPath: foreign.keystore.identityDirectory(kind: .device, id: "bed-12") + "/" + file, toPath: target)
        }
        let registry = try fixture.registry()
        guard case .chainInvalid(.device("bed-12"), let reason)? = failure(registry.signingIdentity(for: "bed-12", at: Instants.enrolled)) else {
            Issue.record("a certificate from another CA was accepted")
            return
        }
        #expect(reason.contains("signature"))
    }

    @Test func certificateForAnotherDeviceIsChainInvalid() throws {
        let fixture = try WardFixture()
        try fixture.enroll("bed-12")
        try fixture.enroll("bed-13")
        let directory13 = fixture.keystore.identityDirectory(kind: .device, id: "bed-13")
        let directory12 = fixture.keystore.identityDirectory(kind: .device, id: "bed-12")
        for file in ["cert.pem", "key.pem"] {
            try FileManager.default.removeItem(atPath: "\(directory13)/\(file)")
            try FileManager.default.copyItem(atPath: "\(directory12)/\(file)", toPath: "\(directory13)/\(file)")
        }
        guard case .chainInvalid(_, let reason)? = failure(try fixture.registry().signingIdentity(for: "bed-13", at: Instants.enrolled)) else {
            Issue.record("bed-12's certificate was accepted for bed-13")
            return
        }
        #expect(reason.contains("urn:wardgate:device:bed-13"))
    }

    @Test func keyThatDoesNotMatchTheCertificate() throws {
        let fixture = try WardFixture()
        try fixture.enroll("bed-12")
        let keyPath = fixture.keystore.keyPath(kind: .device, id: "bed-12")
        try FileManager.default.removeItem(atPath: keyPath)
        try PrivateKeyFile.write(P256.Signing.PrivateKey(), to: keyPath)
        #expect(failure(try fixture.registry().signingIdentity(for: "bed-12", at: Instants.enrolled))
            == .keyCertificateMismatch(.device("bed-12"), keyPath: keyPath, certificatePath: fixture.keystore.certificatePath(kind: .device, id: "bed-12")))
    }

    @Test func garbageFilesAreReportedNotFatal() throws {
        let fixture = try WardFixture()
        try fixture.enroll("bed-12")
        try fixture.enroll("bed-13")
        let certificatePath = fixture.keystore.certificatePath(kind: .device, id: "bed-12")
        try Data("-----BEGIN CERTIFICATE-----\ngarbage\n-----END CERTIFICATE-----\n".utf8).write(to: URL(fileURLWithPath: certificatePath))
        let keyPath = fixture.keystore.keyPath(kind: .device, id: "bed-13")
        try FileManager.default.removeItem(atPath: keyPath)
        try PrivateKeyFile.write(P256.Signing.PrivateKey(), to: keyPath)
        let bogus = [UInt8](repeating: 0x41, count: 100)
        try Data(bogus).write(to: URL(fileURLWithPath: keyPath))
        let registry = try fixture.registry()
        guard case .unreadable(_, let path, _)? = failure(registry.signingIdentity(for: "bed-12", at: Instants.enrolled)) else {
            Issue.record("garbage certificate accepted")
            return
        }
        #expect(path == certificatePath)
        guard case .unreadable(_, let keyFile, _)? = failure(registry.signingIdentity(for: "bed-13", at: Instants.enrolled)) else {
            Issue.record("garbage key accepted")
            return
        }
        #expect(keyFile == keyPath)
    }

    @Test func enrollingWhileLiveNeedsNoRestart() throws {
        let fixture = try WardFixture()
        try fixture.enroll("bed-12")
        let registry = try fixture.registry()
        #expect(failure(registry.signingIdentity(for: "bed-20", at: Instants.enrolled)) == .unknownDevice(.device("bed-20")))
        try fixture.enroll("bed-20")
        // Found on the next lookup, without reload.
        let signer = try registry.signingIdentity(for: "bed-20", at: Instants.enrolled).get()
        #expect(signer.id == "bed-20")
        // And change detection agrees something changed on disk.
        #expect(try registry.reloadIfChanged())
        #expect(try registry.reloadIfChanged() == false)
    }

    @Test func autoRefreshNoticesRotationWithoutAnExplicitCall() throws {
        let fixture = try WardFixture()
        let first = try fixture.enroll("bed-12")
        let registry = try IdentityRegistry(keystore: fixture.keystore.directory, autoRefreshInterval: .zero)
        #expect(try registry.signingIdentity(for: "bed-12", at: Instants.enrolled).get().certificateThumbprint == first.thumbprint)
        let second = try fixture.enroll("bed-12")
        #expect(try registry.signingIdentity(for: "bed-12", at: Instants.enrolled).get().certificateThumbprint == second.thumbprint)
    }

    @Test func rotationKeepsOldSignaturesVerifiable() async throws {
        let fixture = try WardFixture()
        let first = try fixture.enroll("bed-12")
        let registry = try fixture.registry()
        let oldSignedAt = Instants.days(1, after: Instants.enrolled)
        let observation = sampleObservation()
        let (oldJWS, payload) = try registry.signingIdentity(for: "bed-12", at: oldSignedAt).get().sign(observation: observation)

        let rotatedAt = Instants.days(30, after: Instants.enrolled)
        let second = try fixture.enroll("bed-12", at: rotatedAt)
        #expect(second.replacedSerialHex == first.serialHex)
        #expect(try registry.reloadIfChanged())
        let newSigner = try registry.signingIdentity(for: "bed-12", at: rotatedAt).get()
        #expect(newSigner.certificateThumbprint == second.thumbprint)
        let newJWS = try newSigner.sign(payload)

        // The old JWS names the old certificate, which still resolves and verifies.
        let oldHeader = try JWSVerifier.parse(oldJWS).header
        #expect(oldHeader.certificateThumbprint == first.thumbprint)
        let oldCertificate = try #require(registry.certificate(forThumbprint: first.thumbprint))
        try JWSVerifier.verify(oldJWS, detachedPayload: payload, certificate: oldCertificate)
        #expect(throws: JWSVerificationError.self) { try JWSVerifier.verify(oldJWS, detachedPayload: payload, certificate: newSigner.certificate) }

        // Offline verifier from the keystore alone: both signatures, each at its signing time.
        let verifier = try SignatureVerifier(keystore: fixture.keystore)
        let old = await verifier.verify(jws: oldJWS, observation: observation, signedAt: oldSignedAt)
        #expect((try? old.get())?.certificate == first.certificate)
        let new = await verifier.verify(jws: newJWS, observation: observation, signedAt: rotatedAt)
        #expect((try? new.get())?.name == .device("bed-12"))
        // Old key material is gone from the keystore; the old certificate is archived.
        #expect(fixture.keystore.archivedCertificates().count == 2)
    }

    @Test func gatewayIdentitySignsCheckpoints() throws {
        let fixture = try WardFixture()
        try fixture.enroll("gw-7b", kind: .gateway)
        let registry = try fixture.registry()
        let signer = try registry.gatewayIdentity(for: "gw-7b", at: Instants.enrolled).get()
        let checkpoint = Array("wardgate.log/v1\n42\nabc=\n".utf8)
        let raw = try signer.rawSignature(over: checkpoint)
        #expect(raw.count == 64 && ES256.isLowS(raw))
        let key = try #require(P256.Signing.PublicKey(signer.certificate.publicKey))
        #expect(key.isValidSignature(try P256.Signing.ECDSASignature(rawRepresentation: raw), for: checkpoint))
        #expect(failure(registry.signingIdentity(for: "gw-7b", at: Instants.enrolled)) == .unknownDevice(.device("gw-7b")))
    }

    @Test func concurrentSigningAndReloadingIsSafe() async throws {
        let fixture = try WardFixture()
        for index in 0..<4 { try fixture.enroll("bed-\(index)") }
        let registry = try fixture.registry()
        let payload = try JCS.canonicalize(sampleObservation())
        let signatures = try await withThrowingTaskGroup(of: Int.self) { group in
            for worker in 0..<4 {
                group.addTask {
                    var count = 0
                    for round in 0..<50 {
                        if worker == 0 && round % 10 == 0 { try registry.reload() }
                        let signer = try registry.signingIdentity(for: "bed-\(round % 4)", at: Instants.enrolled).get()
                        try JWSVerifier.verify(try signer.sign(payload), detachedPayload: payload, certificate: signer.certificate)
                        count += 1
                    }
                    return count
                }
            }
            return try await group.reduce(0, +)
        }
        #expect(signatures == 200)
    }

    @Test func missingTrustAnchorIsAnError() throws {
        let directory = try TemporaryDirectory()
        #expect(throws: IdentityError.fileNotFound(path: directory.file("ca.pem"))) {
            try IdentityRegistry(keystore: directory.path, autoRefreshInterval: nil)
        }
    }
}
