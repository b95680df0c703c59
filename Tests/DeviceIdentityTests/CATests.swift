import Crypto
import Foundation
import SwiftASN1
import Testing
import WardgateTestSupport
import X509
@testable import DeviceIdentity

@Suite("Ward CA")
struct CATests {
    @Test func newRootHasTheRequiredExtensions() throws {
        let fixture = try WardFixture(now: Date())
        let certificate = try CertificateCoding.loadCertificate(fixture.ca.certificatePath)

        let constraints = try #require(try certificate.extensions.basicConstraints)
        #expect(constraints == .isCertificateAuthority(maxPathLength: 0))
        #expect(certificate.extensions[oid: .X509ExtensionID.basicConstraints]?.critical == true)
        let usage = try #require(try certificate.extensions.keyUsage)
        #expect(usage.keyCertSign && usage.cRLSign && !usage.digitalSignature)
        let ski = try #require(try certificate.extensions.subjectKeyIdentifier)
        let aki = try #require(try certificate.extensions.authorityKeyIdentifier)
        #expect(aki.keyIdentifier == ski.keyIdentifier)
        #expect(P256.Signing.PublicKey(certificate.publicKey) != nil)
        #expect(certificate.subject == certificate.issuer)
        #expect(CertificateCoding.commonName(certificate) == "Ward 7B CA")
        #expect(certificate.serialNumber.bytes.count <= 20 && certificate.serialNumber.bytes.first! & 0x80 == 0)
        #expect(try fileMode(fixture.ca.keyPath) == 0o600)

        let text = try ProcessRunner.runTool(["openssl", "x509", "-in", fixture.ca.certificatePath, "-noout", "-text"])
        #expect(text.status == 0)
        #expect(text.stdout.contains("CA:TRUE, pathlen:0"))
        #expect(text.stdout.contains("Certificate Sign, CRL Sign"))
        #expect(text.stdout.contains("X509v3 Subject Key Identifier"))
        #expect(text.stdout.contains("X509v3 Authority Key Identifier"))
        let verify = try ProcessRunner.runTool(["openssl", "verify", "-CAfile", fixture.ca.certificatePath, fixture.ca.certificatePath])
        #expect(verify.status == 0, "\(verify.output)")
        // The CA key is readable by openssl as PKCS#8.
        let key = try ProcessRunner.runTool(["openssl", "pkey", "-in", fixture.ca.keyPath, "-noout"])
        #expect(key.status == 0, "\(key.output)")
    }

    @Test func initRefusesToOverwriteAnExistingCA() throws {
        let fixture = try WardFixture()
        #expect(throws: IdentityError.alreadyExists(path: fixture.ca.certificatePath)) {
            try CertificateAuthority.create(directory: fixture.ca.directory, name: "Other")
        }
    }

    @Test func importsAHospitalCAMadeWithOpenSSL() throws {
        let directory = try TemporaryDirectory()
        let key = directory.file("hospital.key")
        let cert = directory.file("hospital.pem")
        let made = try ProcessRunner.runTool([
            "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", key, "-out", cert,
            "-days", "30", "-subj", "/O=General Hospital/CN=Hospital Issuing CA",
            "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
        ])
        try #require(made.status == 0, "\(made.output)")
        try chmod(key, 0o600)
        let ca = try CertificateAuthority.adopt(directory: directory.file("ca"), certificateFile: cert, keyFile: key)
        #expect(CertificateCoding.commonName(ca.certificate) == "Hospital Issuing CA")
        #expect(try fileMode(ca.keyPath) == 0o600)

        // It issues usable device certificates and CRLs that openssl accepts.
        let keystore = Keystore(directory: directory.file("ks"))
        let outcome = try Enrollment.enroll(kind: .device, id: "pump-3", ca: ca, keystore: keystore)
        let verify = try ProcessRunner.runTool(["openssl", "verify", "-CAfile", cert, outcome.certificatePath])
        #expect(verify.status == 0, "\(verify.output)")
        let crl = try ProcessRunner.runTool(["openssl", "crl", "-in", ca.crlPath, "-CAfile", cert, "-noout"])
        #expect(crl.status == 0 && crl.output.contains("verify OK"), "\(crl.output)")
    }

    @Test func importsAnRSACAAndSignsItsCRLWithRSA() throws {
        let directory = try TemporaryDirectory()
        let key = directory.file("rsa.key")
        let cert = directory.file("rsa.pem")
        let made = try ProcessRunner.runTool([
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert, "-days", "30",
            "-subj", "/CN=RSA Hospital CA", "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
        ])
        try #require(made.status == 0, "\(made.output)")
        try chmod(key, 0o600)
        let ca = try CertificateAuthority.adopt(directory: directory.file("ca"), certificateFile: cert, keyFile: key)
        let outcome = try Enrollment.enroll(kind: .device, id: "rsa-issued", ca: ca, keystore: Keystore(directory: directory.file("ks")))
        _ = try ca.revoke(serialHex: outcome.serialHex, reason: .superseded)
        let crl = try ProcessRunner.runTool(["openssl", "crl", "-in", ca.crlPath, "-CAfile", cert, "-noout"])
        #expect(crl.status == 0 && crl.output.contains("verify OK"), "\(crl.output)")
        let verify = try ProcessRunner.runTool(["openssl", "verify", "-crl_check", "-CAfile", cert, "-CRLfile", ca.crlPath, outcome.certificatePath])
        #expect(verify.status != 0 && verify.output.contains("certificate revoked"), "\(verify.output)")
    }

    @Test func importRejectsALeafCertificate() throws {
        let directory = try TemporaryDirectory()
        let key = directory.file("leaf.key")
        let cert = directory.file("leaf.pem")
        let made = try ProcessRunner.runTool([
            "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", key, "-out", cert,
            "-days", "30", "-subj", "/CN=not a ca", "-addext", "basicConstraints=critical,CA:FALSE",
        ])
        try #require(made.status == 0, "\(made.output)")
        try chmod(key, 0o600)
        #expect {
            try CertificateAuthority.adopt(directory: directory.file("ca"), certificateFile: cert, keyFile: key)
        } throws: { error in
            guard case IdentityError.notACertificateAuthority(let path, _) = error else { return false }
            return path == cert
        }
        #expect(!SecureFile.exists(directory.file("ca/ca.key")))
    }

    @Test func importRejectsAKeyThatDoesNotMatch() throws {
        let fixture = try WardFixture(now: Date())
        let other = try WardFixture(now: Date())
        #expect(throws: IdentityError.keyCertificateMismatch(keyPath: other.ca.keyPath, certificatePath: fixture.ca.certificatePath)) {
            try CertificateAuthority.adopt(directory: fixture.directory.file("adopted"), certificateFile: fixture.ca.certificatePath, keyFile: other.ca.keyPath)
        }
    }

    @Test func caKeyWithLoosePermissionsIsRefused() throws {
        let fixture = try WardFixture()
        try chmod(fixture.ca.keyPath, 0o640)
        #expect {
            try CertificateAuthority.open(directory: fixture.ca.directory)
        } throws: { error in
            guard case IdentityError.insecureKeyFile(let path, let mode) = error else { return false }
            return path == fixture.ca.keyPath && mode == 0o640 && "\(error)".contains(fixture.ca.keyPath)
        }
    }
}
