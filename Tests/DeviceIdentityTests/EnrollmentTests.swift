import Crypto
@testable import DeviceIdentity
import Foundation
import HexEncoding
import SigningKeys
import Testing
import WardgateTestSupport
import X509

@Suite("Enrollment and keystore")
struct EnrollmentTests {
    @Test func generatedKeyEnrollmentFollowsTheDeviceProfile() throws {
        let fixture = try WardFixture(now: Date())
        let outcome = try fixture.enroll("bed-12", at: Date())
        let certificate = try fixture.keystore.certificate(kind: .device, id: "bed-12")

        #expect(CertificateCoding.commonName(certificate) == "bed-12")
        #expect(CertificateCoding.wardgateURNs(certificate) == ["urn:wardgate:device:bed-12"])
        let usage = try #require(try certificate.extensions.keyUsage)
        #expect(usage.digitalSignature && !usage.keyCertSign)
        #expect(certificate.extensions[oid: .X509ExtensionID.keyUsage]?.critical == true)
        #expect(try certificate.extensions.basicConstraints == .notCertificateAuthority)
        #expect(try certificate.extensions.subjectKeyIdentifier != nil)
        let aki = try #require(try certificate.extensions.authorityKeyIdentifier)
        #expect(aki.keyIdentifier == (try fixture.ca.certificate.extensions.subjectKeyIdentifier)?.keyIdentifier)
        #expect(certificate.serialNumber.bytes.count <= 20 && certificate.serialNumber.bytes.first! & 0x80 == 0)
        #expect(certificate.issuer == fixture.ca.certificate.subject)

        // Key file: PKCS#8 PEM, 0600, matching the certificate.
        let keyPath = try #require(outcome.keyPath)
        #expect(try fileMode(keyPath) == 0o600)
        #expect(try String(contentsOfFile: keyPath, encoding: .utf8).hasPrefix("-----BEGIN PRIVATE KEY-----"))
        let key = try PrivateKeyFile.loadP256(keyPath)
        #expect(P256.Signing.PublicKey(certificate.publicKey)?.rawRepresentation == key.publicKey.rawRepresentation)

        // The keystore carries the trust anchor, the CRL and the thumbprint archive.
        #expect(try CertificateCoding.loadCertificate(fixture.keystore.caCertificatePath) == fixture.ca.certificate)
        #expect(FileManager.default.fileExists(atPath: fixture.keystore.crlPath))
        #expect(fixture.keystore.archivedCertificate(thumbprint: outcome.thumbprint) == certificate)

        let verify = try ProcessRunner.runTool(["openssl", "verify", "-CAfile", fixture.ca.certificatePath, outcome.certificatePath])
        #expect(verify.status == 0, "\(verify.output)")
        let text = try ProcessRunner.runTool(["openssl", "x509", "-in", outcome.certificatePath, "-noout", "-text"])
        #expect(text.stdout.contains("URI:urn:wardgate:device:bed-12"))
        #expect(text.stdout.contains("Digital Signature"))
        #expect(try ProcessRunner.runTool(["openssl", "pkey", "-in", keyPath, "-noout"]).status == 0)

        // Recorded in the CA index.
        let issued = try fixture.ca.issuedCertificates()
        #expect(issued.map(\.serial) == [outcome.serialHex])
        #expect(issued.first?.sha256 == Hex.encode(CertificateCoding.sha256Thumbprint(certificate)))
    }

    @Test func gatewayEnrollmentUsesTheGatewayURN() throws {
        let fixture = try WardFixture()
        let outcome = try fixture.enroll("gw-7b", kind: .gateway)
        #expect(CertificateCoding.commonName(outcome.certificate) == "gw-7b")
        #expect(CertificateCoding.wardgateURNs(outcome.certificate) == ["urn:wardgate:gateway:gw-7b"])
        #expect((try outcome.certificate.extensions.keyUsage)?.digitalSignature == true)
        #expect(FileManager.default.fileExists(atPath: fixture.keystore.keyPath(kind: .gateway, id: "gw-7b")))
    }

    @Test func csrEnrollmentCertifiesTheRequestersKey() throws {
        let fixture = try WardFixture(now: Date())
        let key = fixture.directory.file("device.key")
        let csr = fixture.directory.file("device.csr")
        #expect(try ProcessRunner.runTool(["openssl", "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", key]).status == 0)
        let made = try ProcessRunner.runTool(["openssl", "req", "-new", "-key", key, "-subj", "/CN=monitor-4", "-out", csr])
        try #require(made.status == 0, "\(made.output)")

        let outcome = try fixture.enroll("monitor-4", at: Date(), csr: csr)
        #expect(outcome.keyPath == nil)
        let requesterKey = try Certificate.PrivateKey(pemEncoded: try String(contentsOfFile: key, encoding: .utf8))
        #expect(outcome.certificate.publicKey == requesterKey.publicKey)
        #expect(try ProcessRunner.runTool(["openssl", "verify", "-CAfile", fixture.ca.certificatePath, outcome.certificatePath]).status == 0)

        // Until the key is installed the registry says so; after, it signs with the openssl key.
        let registry = try fixture.registry()
        guard case .failure(.missingPrivateKey(_, let keyPath)) = registry.signingIdentity(for: "monitor-4") else {
            Issue.record("expected missingPrivateKey")
            return
        }
        try FileManager.default.copyItem(atPath: key, toPath: keyPath)
        try chmod(keyPath, 0o600)
        try registry.reload()
        let signer = try registry.signingIdentity(for: "monitor-4").get()
        let jws = try signer.sign(Array("{}".utf8))
        try JWSVerifier.verify(jws, detachedPayload: Array("{}".utf8), certificate: outcome.certificate)
    }

    @Test func csrWithABrokenSignatureIsRejected() throws {
        let fixture = try WardFixture()
        let key = fixture.directory.file("device.key")
        let csrPath = fixture.directory.file("device.csr")
        #expect(try ProcessRunner.runTool(["openssl", "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", key]).status == 0)
        #expect(try ProcessRunner.runTool(["openssl", "req", "-new", "-key", key, "-subj", "/CN=monitor-5", "-outform", "DER", "-out", csrPath]).status == 0)
        var der = try [UInt8](Data(contentsOf: URL(fileURLWithPath: csrPath)))
        der[der.count - 3] ^= 0x01  // inside the signature's s value
        let tampered = try fixture.directory.write(der, to: "tampered.csr")
        #expect {
            try fixture.enroll("monitor-5", csr: tampered)
        } throws: { error in
            guard case IdentityError.invalidCSR(let path, _) = error else { return false }
            return path == tampered
        }
        #expect(try fixture.ca.issuedCertificates().isEmpty)
    }

    @Test func csrForAnotherNameOrCurveIsRejected() throws {
        let fixture = try WardFixture()
        let key = fixture.directory.file("k.key")
        let csr = fixture.directory.file("k.csr")
        #expect(try ProcessRunner.runTool(["openssl", "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", key]).status == 0)
        #expect(try ProcessRunner.runTool(["openssl", "req", "-new", "-key", key, "-subj", "/CN=bed-99", "-out", csr]).status == 0)
        #expect(throws: IdentityError.self) { try fixture.enroll("bed-1", csr: csr) }

        let rsaKey = fixture.directory.file("r.key")
        let rsaCSR = fixture.directory.file("r.csr")
        #expect(try ProcessRunner.runTool(["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", rsaKey]).status == 0)
        #expect(try ProcessRunner.runTool(["openssl", "req", "-new", "-key", rsaKey, "-subj", "/CN=bed-1", "-out", rsaCSR]).status == 0)
        #expect {
            try fixture.enroll("bed-1", csr: rsaCSR)
        } throws: { error in
            "\(error)".contains("P-256")
        }
    }

    @Test(arguments: ["", "../evil", "a/b", ".hidden", "..", "bed 12", "bed\u{E9}", String(repeating: "x", count: 65), "-flag"])
    func unsafeIdentifiersAreRejected(id: String) throws {
        let fixture = try WardFixture()
        #expect {
            try fixture.enroll(id)
        } throws: { error in
            guard case IdentityError.invalidIdentifier(let rejected, _) = error else { return false }
            return rejected == id
        }
        #expect(try fixture.ca.issuedCertificates().isEmpty)
    }

    @Test(arguments: ["bed-12", "BED_12.monitor", "7", String(repeating: "x", count: 64)])
    func reasonableIdentifiersAreAccepted(id: String) {
        #expect(SubjectIdentifier.isValid(id))
    }

    @Test func keyFileReadableByOthersIsRefusedNamingTheFile() throws {
        let fixture = try WardFixture()
        let outcome = try fixture.enroll("bed-12")
        let keyPath = try #require(outcome.keyPath)
        try chmod(keyPath, 0o644)
        #expect {
            try PrivateKeyFile.loadP256(keyPath)
        } throws: { error in
            guard case KeyFileError.insecureKeyFile(let path, let mode) = error else { return false }
            return path == keyPath && mode == 0o644 && "\(error)".contains(keyPath) && "\(error)".contains("644")
        }
        let registry = try fixture.registry()
        guard case .failure(let failure) = registry.signingIdentity(for: "bed-12", at: Instants.enrolled) else {
            Issue.record("signed with a world-readable key")
            return
        }
        #expect(failure == .keyFilePermissions(.device("bed-12"), path: keyPath, mode: 0o644))
        #expect(failure.description.contains(keyPath))

        // Restoring 0600 is noticed without a restart.
        try chmod(keyPath, 0o600)
        #expect(try registry.reloadIfChanged())
        #expect((try? registry.signingIdentity(for: "bed-12", at: Instants.enrolled).get()) != nil)
    }

    @Test func listingShowsSerialExpiryAndStatus() throws {
        let fixture = try WardFixture()
        let live = try fixture.enroll("bed-1", days: 365)
        let short = try fixture.enroll("bed-2", days: 10)
        let late = try fixture.enroll("bed-3", days: 365, at: Instants.days(100, after: Instants.enrolled))
        let gone = try fixture.enroll("bed-4", days: 365)
        _ = try Enrollment.revoke(kind: .device, id: "bed-4", reason: .cessationOfOperation, ca: fixture.ca, keystore: fixture.keystore, now: Instants.days(1, after: Instants.enrolled))

        let at = Instants.days(30, after: Instants.enrolled)
        let entries = try fixture.keystore.list(kind: .device, at: at)
        #expect(entries.map(\.id) == ["bed-1", "bed-2", "bed-3", "bed-4"])
        #expect(entries.map(\.serialHex) == [live.serialHex, short.serialHex, late.serialHex, gone.serialHex])
        #expect(entries[0].status == .valid)
        #expect(entries[1].status == .expired)
        #expect(entries[2].status == .notYetValid)
        #expect(entries[3].status == .revoked(reason: .cessationOfOperation, date: Instants.days(1, after: Instants.enrolled)))
        #expect(entries[0].notAfter == live.certificate.notValidAfter)
        #expect(entries.allSatisfy { $0.hasPrivateKey && $0.insecureKeyMode == nil })
        try chmod(fixture.keystore.keyPath(kind: .device, id: "bed-1"), 0o640)
        #expect(try fixture.keystore.list(kind: .device, at: at).first?.insecureKeyMode == 0o640)
        #expect(entries[3].status.description == "revoked (cessationOfOperation)")
    }

    @Test func listingAMissingKeystoreFails() {
        #expect(throws: IdentityError.self) { try Keystore(directory: "/nonexistent/keystore").list() }
    }
}
