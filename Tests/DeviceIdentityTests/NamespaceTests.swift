import Crypto
import Foundation
import SwiftASN1
import Testing
import X509
@testable import DeviceIdentity

/// Device ids and gateway ids never overlap, and no certificate stands for both: the broker knows
/// a client by its certificate's CN, and the gateway's CN may read every device topic.
@Suite("Device and gateway namespaces")
struct NamespaceTests {
    func takenError(_ body: () throws -> Void) -> IdentityError? {
        do {
            try body()
            return nil
        } catch let error as IdentityError {
            return error
        } catch {
            return nil
        }
    }

    @Test("a device cannot be enrolled under a gateway's id, nor a gateway under a device's, in any letter case")
    func enrollmentKeepsTheNamespacesApart() throws {
        let fixture = try WardFixture()
        try fixture.enroll("ward-7b", kind: .gateway)
        try fixture.enroll("bed-1")
        for id in ["ward-7b", "WARD-7B", "Ward-7b"] {
            let error = takenError { try fixture.enroll(id) }
            guard case .identifierInUse(id, .device, .gateway("ward-7b"), _)? = error else {
                Issue.record("device \(id) was enrolled beside gateway ward-7b (\(String(describing: error)))")
                continue
            }
            #expect(error?.description.hasPrefix("device id \"\(id)\" is taken: gateway \"ward-7b\" has it") == true, "\(error?.description ?? "")")
            #expect(!SecureFile.exists(fixture.keystore.certificatePath(kind: .device, id: id)))
        }
        let reverse = takenError { try fixture.enroll("bed-1", kind: .gateway) }
        guard case .identifierInUse("bed-1", .gateway, .device("bed-1"), _)? = reverse else {
            Issue.record("gateway bed-1 was enrolled beside device bed-1 (\(String(describing: reverse)))")
            return
        }
        #expect(!SecureFile.exists(fixture.keystore.certificatePath(kind: .gateway, id: "bed-1")))
        // Nothing was issued for the refused ids; rotating within a namespace still works.
        #expect(try fixture.ca.issuedCertificates().count == 2)
        try fixture.enroll("bed-1")
        try fixture.enroll("ward-7b", kind: .gateway)
        #expect(try fixture.ca.issuedCertificates().count == 4)
    }

    @Test("the CA's index refuses on its own: a gateway enrolled into another keystore, even revoked, keeps its id")
    func theCAIndexKnowsEveryIssuedId() throws {
        let fixture = try WardFixture()
        let elsewhere = Keystore(directory: fixture.directory.file("other-keystore"))
        _ = try Enrollment.enroll(kind: .gateway, id: "ward-7b", ca: fixture.ca, keystore: elsewhere, now: Instants.enrolled)
        _ = try Enrollment.revoke(kind: .gateway, id: "ward-7b", reason: .cessationOfOperation, ca: fixture.ca, keystore: elsewhere, now: Instants.enrolled)
        let error = takenError { try fixture.enroll("ward-7b") }
        guard case .identifierInUse(_, .device, .gateway("ward-7b"), let source)? = error else {
            Issue.record("the CA issued a device certificate for a gateway's id (\(String(describing: error)))")
            return
        }
        #expect(source.contains("issued by the CA in \(fixture.ca.directory)"), "\(source)")
    }

    @Test("the keystore refuses on its own: a CA index restored from before the gateway was enrolled")
    func theKeystoreKnowsItsIdentities() throws {
        let fixture = try WardFixture()
        try fixture.enroll("ward-7b", kind: .gateway)
        // The CA's index loses the gateway's record, as a restore from an older backup would.
        let indexPath = fixture.ca.indexPath
        var index = try IssuanceIndex.load(indexPath)
        index.certificates.removeAll { $0.kind == .gateway }
        try index.save(indexPath)
        let error = takenError { try fixture.enroll("ward-7b") }
        guard case .identifierInUse(_, .device, .gateway("ward-7b"), let source)? = error else {
            Issue.record("a device was enrolled under the keystore's gateway id (\(String(describing: error)))")
            return
        }
        #expect(source.contains("enrolled in the keystore"), "\(source)")
    }

    /// A certificate signed by the ward CA's key outside the wardgate profile (as a hospital PKI
    /// or an old tool might issue), installed under `devices/<id>` with a matching key.
    func install(_ fixture: WardFixture, as name: IdentityName, cn: String, urns: [String]) throws {
        let key = P256.Signing.PrivateKey()
        let certificate = try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: Certificate.PublicKey(key.publicKey),
            notValidBefore: Instants.enrolled.addingTimeInterval(-300), notValidAfter: Instants.days(365, after: Instants.enrolled),
            issuer: fixture.ca.certificate.subject, subject: try DistinguishedName { CommonName(cn) },
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.notCertificateAuthority)
                Critical(KeyUsage(digitalSignature: true))
                SubjectAlternativeNames(urns.map { GeneralName.uniformResourceIdentifier($0) })
            },
            issuerPrivateKey: fixture.ca.privateKey)
        try fixture.keystore.synchronize(with: fixture.ca)
        try fixture.keystore.install(certificate: certificate, privateKey: key, kind: name.kind, id: name.id)
    }

    @Test("a certificate naming a device and a gateway, or whose CN is not its id, is refused by the gateway and by the verifier")
    func oneIdentityPerCertificate() async throws {
        let fixture = try WardFixture()
        try install(fixture, as: .device("bed-1"), cn: "bed-1", urns: ["urn:wardgate:device:bed-1", "urn:wardgate:gateway:bed-1"])
        try install(fixture, as: .device("bed-2"), cn: "ward-7b", urns: ["urn:wardgate:device:bed-2"])
        try install(fixture, as: .gateway("gw-1"), cn: "gw-1", urns: ["urn:wardgate:gateway:gw-1", "urn:wardgate:device:gw-1"])
        let registry = try fixture.registry()
        let cases: [(IdentityName, String)] = [
            (.device("bed-1"), "2 wardgate identities"), (.device("bed-2"), "subject CN is \"ward-7b\", not \"bed-2\""),
            (.gateway("gw-1"), "2 wardgate identities"),
        ]
        for (name, expected) in cases {
            guard case .failure(.chainInvalid(name, let reason)) = registry.identity(name, at: Instants.enrolled) else {
                Issue.record("the gateway would sign as \(name) with a certificate outside the profile")
                continue
            }
            #expect(reason.contains(expected), "\(name): \(reason)")
            let certificate = try fixture.keystore.certificate(kind: name.kind, id: name.id)
            for expecting in [name, IdentityName(kind: name.kind.other, id: name.id)] {
                let verified = await ChainVerification.verify(certificate, anchor: fixture.ca.certificate, at: Instants.enrolled, expecting: expecting)
                guard case .failure(.untrusted) = verified else {
                    Issue.record("the verifier accepted \(name)'s certificate as \(expecting)")
                    continue
                }
            }
        }
        // The listing says so too.
        let status = Dictionary(uniqueKeysWithValues: try fixture.keystore.list(kind: .device, at: Instants.enrolled).map { ($0.id, $0.status.description) })
        #expect(status["bed-1"]?.hasPrefix("untrusted: ") == true)
        #expect(status["bed-2"]?.hasPrefix("untrusted: ") == true)
    }

    @Test("a device already in the keystore under a gateway's id (from before this rule) is not signed for; the gateway still signs")
    func registryRefusesASharedId() throws {
        let fixture = try WardFixture()
        try fixture.enroll("ward-7b", kind: .gateway)
        try install(fixture, as: .device("ward-7b"), cn: "ward-7b", urns: ["urn:wardgate:device:ward-7b"])
        for registry in [try fixture.registry()] {
            #expect(registry.signingIdentity(for: "ward-7b", at: Instants.enrolled).failureValue == .sharedIdentifier(.device("ward-7b"), with: .gateway("ward-7b")))
            #expect((try? registry.gatewayIdentity(for: "ward-7b", at: Instants.enrolled).get()) != nil)
        }
        // Found on first lookup after start as well (enrolled while running).
        let live = try WardFixture()
        try live.enroll("ward-7b", kind: .gateway)
        let registry = try live.registry()
        try install(live, as: .device("ward-7b"), cn: "ward-7b", urns: ["urn:wardgate:device:ward-7b"])
        #expect(registry.signingIdentity(for: "ward-7b", at: Instants.enrolled).failureValue == .sharedIdentifier(.device("ward-7b"), with: .gateway("ward-7b")))
        let listed = try fixture.keystore.list(kind: .device, at: Instants.enrolled)
        #expect(listed.first?.status.description == "untrusted: its id is also the id of gateway \"ward-7b\"")
    }
}

extension Result {
    var failureValue: Failure? {
        if case .failure(let failure) = self { return failure }
        return nil
    }
}
