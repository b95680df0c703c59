import Crypto
import DeviceIdentity
import EmbeddedLedger
import Evidence
import Foundation
@testable import Gateway
import JSONDocument
import Journal
import Ledger
import MQTTIngest
import Simulation
import Testing
import WardgateTestSupport
import WardgateTools
import X509

@Suite("Proof bundles: exported over a real broker, verified offline, every tampering caught", .serialized)
struct ProofTests {
    struct Setup {
        let ward: SigningTests.Ward
        let config: GatewayConfig
        var caPath: String { ward.ca.certificatePath }
        var gatewayCertPath: String { ward.keystore.certificatePath(kind: .gateway, id: "test-ward") }
    }

    static func setup(brokerPort: Int) throws -> Setup {
        let ward = try SigningTests.makeWard()
        _ = try Enrollment.enroll(kind: .gateway, id: "test-ward", ca: ward.ca, keystore: ward.keystore, validityDays: 30)
        var config = TestSupport.config(directory: ward.directory, brokerPort: brokerPort)
        config.identity = .init(keystore: ward.keystore.directory)
        config.log = .init(origin: "wardgate/test.example/ward", gatewayCertificate: ward.keystore.certificatePath(kind: .gateway, id: "test-ward"),
                           gatewayKey: ward.keystore.keyPath(kind: .gateway, id: "test-ward"))
        config.batch = .init(maxLeaves: 1000, maxAge: .milliseconds(200))
        return Setup(ward: ward, config: config)
    }

    @Test("a leaf no signed checkpoint covers yet is refused with \"not yet checkpointed\", never proved against an unsigned root")
    func notYetCheckpointed() throws {
        let setup = try ProofTests.setup(brokerPort: 1)
        defer { try? FileManager.default.removeItem(atPath: setup.ward.directory) }
        let gateway = try Gateway(config: setup.config, logger: TestSupport.quietLogger)
        try gateway.journal.appendInbox(topic: "wards/w/devices/good/vitals", payload: Array("{\"ts\": 1763719200000, \"hr\": 72}".utf8), qos: 1, receivedAt: Date())
        try gateway.processor.drain()
        #expect(throws: ProofBundle.BuildError.self) {
            try ProofBundle.build(.leafIndex(0), journal: gateway.journal, keystore: setup.ward.keystore)
        }
        do {
            _ = try ProofBundle.build(.leafIndex(0), journal: gateway.journal, keystore: setup.ward.keystore)
        } catch {
            #expect(error.description.contains("not yet checkpointed"))
        }
        #expect(try gateway.batcher.cutDueBatches(force: true) == [1])
        // Cutting again at the same size is a no-op, not a second checkpoint.
        #expect(try gateway.batcher.cutDueBatches(force: true) == [])
        _ = try ProofBundle.build(.leafIndex(0), journal: gateway.journal, keystore: setup.ward.keystore)
        // A quarantined reading has no proof.
        try gateway.journal.appendInbox(topic: "wards/w/devices/stranger/vitals", payload: Array("{\"ts\": 1763719200000, \"hr\": 72}".utf8), qos: 1, receivedAt: Date())
        try gateway.processor.drain()
        let quarantined = try #require(try gateway.journal.observations(deviceId: "stranger").first)
        #expect(throws: ProofBundle.BuildError.self) {
            try ProofBundle.build(.observation(quarantined.id), journal: gateway.journal, keystore: setup.ward.keystore)
        }
    }

    @Test("readings through a real broker: the bundle verifies, and each tampered part fails on its own check")
    func endToEndAndTampering() async throws {
        let broker = try PrivateBroker.start()
        defer { broker.stop() }
        let setup = try ProofTests.setup(brokerPort: broker.port)
        defer { try? FileManager.default.removeItem(atPath: setup.ward.directory) }
        let gateway = try Gateway(config: setup.config, logger: TestSupport.quietLogger)
        gateway.start()
        #expect(await gateway.waitUntilReady(timeout: .seconds(60)))
        let sender = try MQTTClient(settings: MQTTSettings(port: broker.port, clientId: "proof-sender", cleanStart: true), logger: TestSupport.quietLogger)
        sender.start()
        defer { sender.stop() }
        #expect(await sender.waitUntilReady(timeout: .seconds(60)))
        // Device times now: the device certificate must be valid when the reading is taken.
        let nowMs = Int64(Date().timeIntervalSince1970 * 1000) - 20_000
        for i in 0..<15 {
            try sender.publish(topic: "wards/w/devices/good/vitals", payload: Array("{\"ts\": \(nowMs + Int64(i) * 1000), \"hr\": \(70 + i), \"bp\": {\"sys\": 120, \"dia\": 80}}".utf8))
        }
        #expect(await sender.waitForPublishes(timeout: .seconds(60)))
        // Anchored: the bundle carries the ledger's receipt for the checkpoint it is proven against.
        let anchored = await TestSupport.eventually(timeout: .seconds(60)) {
            (try? ProofBundle.build(.leafIndex(29), journal: gateway.journal, keystore: setup.ward.keystore))?["ledgerReceipt"].map { $0 != .null } ?? false
        }
        #expect(anchored)
        let target = try #require(try gateway.journal.observations(deviceId: "good").dropFirst(7).first)
        let bundle = try ProofBundle.build(.observation(target.id), journal: gateway.journal, keystore: setup.ward.keystore)
        let embedded = try #require(gateway.ledger as? EmbeddedLedger)
        let ledgerKey = try P256.Signing.PublicKey(pemRepresentation: embedded.publicKeyPEM)
        await gateway.stop()

        let ca = try CertificateCoding.loadCertificate(setup.caPath)
        let gatewayCertificate = try CertificateCoding.loadCertificate(setup.gatewayCertPath)
        let checks = await ProofVerification.verify(bundle: bundle, ca: ca, gatewayCertificate: gatewayCertificate, ledgerKey: ledgerKey)
        #expect(checks.map(\.name) == ProofVerification.checkNames)
        #expect(checks.allSatisfy { $0.passed }, "\(checks)")

        func firstFailure(_ tampered: JSONValue, ca: Certificate? = nil, gateway: Certificate? = nil, crl: CertificateRevocationList? = nil,
                          ledgerKey key: P256.Signing.PublicKey? = nil) async -> String? {
            let result = await ProofVerification.verify(
                bundle: tampered, ca: ca ?? ProofTests.load(setup.caPath), gatewayCertificate: gateway ?? gatewayCertificate, crl: crl, ledgerKey: key ?? ledgerKey)
            return result.first { !$0.passed }?.name
        }
        // The receipt: its block hash, its height, another ledger's key, and no key at all.
        let receipt = try #require(bundle["ledgerReceipt"])
        let blockHash = try #require(receipt["blockHash"]?.stringValue)
        let otherHash = (blockHash.first == "0" ? "1" : "0") + blockHash.dropFirst()
        #expect(await firstFailure(ProofTests.replacing("ledgerReceipt", with: ProofTests.replacing("blockHash", with: .string(otherHash), in: receipt), in: bundle)) == "receipt")
        let height = try #require(receipt["height"]?.numberLexeme.flatMap { Int($0) })
        #expect(await firstFailure(ProofTests.replacing("ledgerReceipt", with: ProofTests.replacing("height", with: .integer(height + 1), in: receipt), in: bundle)) == "receipt")
        #expect(await firstFailure(bundle, ledgerKey: P256.Signing.PrivateKey().publicKey) == "receipt")
        let unkeyed = await ProofVerification.verify(bundle: bundle, ca: ca, gatewayCertificate: gatewayCertificate)
        #expect(unkeyed.first { !$0.passed }?.name == "receipt")
        #expect(unkeyed.first { $0.name == "receipt" }?.detail.contains("ledger key") == true)
        let revokedCertificate = try setup.ward.keystore.certificate(kind: .device, id: "revoked")
        let otherCA = try CertificateAuthority.create(directory: setup.ward.directory + "/other-ca", name: "Other CA")

        // The Observation's value.
        let text = bundle.serialized
        #expect(await firstFailure(try JSONParser.parse(text.replacingOccurrences(of: "\"status\":\"final\"", with: "\"status\":\"amended\""))) == "signature")
        // The JWS signature.
        let jws = try #require(bundle["jws"]?.stringValue)
        let flipped = String(jws.dropLast()) + (jws.last == "A" ? "B" : "A")
        #expect(await firstFailure(ProofTests.replacing("jws", with: .string(flipped), in: bundle)) == "signature")
        // The device certificate (another device's).
        #expect(await firstFailure(ProofTests.replacing("deviceCertificates", with: [.string(CertificateCoding.pemString(revokedCertificate))], in: bundle)) == "signature")
        // A CA the device certificate does not chain to.
        #expect(await firstFailure(bundle, ca: otherCA.certificate) == "device-certificate")
        // The checkpoint text, and the gateway key.
        let note = try #require(bundle["checkpoint"]?.stringValue)
        var lines = note.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        lines[1] = String((UInt64(lines[1]) ?? 0) + 1)
        #expect(await firstFailure(ProofTests.replacing("checkpoint", with: .string(lines.joined(separator: "\n")), in: bundle)) == "checkpoint-signature")
        #expect(await firstFailure(bundle, gateway: revokedCertificate) == "checkpoint-signature")
        // The leaf index and a path element.
        let index = try #require(bundle["leafIndex"]?.numberLexeme.flatMap { Int($0) })
        #expect(await firstFailure(ProofTests.replacing("leafIndex", with: .integer(index + 1), in: bundle)) == "inclusion")
        var path = try #require(bundle["inclusionProof"]?.arrayValue)
        let element = try #require(path.first?.stringValue)
        path[0] = .string((element.first == "0" ? "1" : "0") + element.dropFirst())
        #expect(await firstFailure(ProofTests.replacing("inclusionProof", with: .array(path), in: bundle)) == "inclusion")
        // A path element with a sign in its hex ("+f" where "0f" was): the same bytes to a lenient
        // decoder, but not a hash the bundle format allows, so the inclusion check refuses it.
        let original = try #require(bundle["inclusionProof"]?.arrayValue)
        let (position, signedHex) = try #require(original.indices.lazy.compactMap { i -> (Int, String)? in
            guard let hex = original[i].stringValue.map(Array.init),
                let pair = stride(from: 0, to: hex.count, by: 2).first(where: { hex[$0] == "0" }) else { return nil }
            var text = hex
            text[pair] = "+"
            return (i, String(text))
        }.first, "no path byte below 0x10 to write with a sign")
        var signedPath = original
        signedPath[position] = .string(signedHex)
        #expect(await firstFailure(ProofTests.replacing("inclusionProof", with: .array(signedPath), in: bundle)) == "inclusion")

        // The real CLI, offline, from files: exit 0, then exit 1 naming the failing check.
        let bundlePath = setup.ward.directory + "/bundle.json"
        try text.write(toFile: bundlePath, atomically: true, encoding: .utf8)
        let ledgerKeyPath = setup.ward.directory + "/ledger.pub.pem"
        try embedded.publicKeyPEM.write(toFile: ledgerKeyPath, atomically: true, encoding: .utf8)
        let good = try ProcessRunner.run(TestSupport.wardgateBinary, ["verify", bundlePath, "--ca", setup.caPath, "--gateway-cert", setup.gatewayCertPath, "--ledger-key", ledgerKeyPath])
        #expect(good.status == 0, "\(good.output)")
        #expect(good.output.components(separatedBy: "passed ").count - 1 == ProofVerification.checkNames.count)
        try ProofTests.replacing("leafIndex", with: .integer(index + 1), in: bundle).serialized.write(toFile: bundlePath, atomically: true, encoding: .utf8)
        let bad = try ProcessRunner.run(TestSupport.wardgateBinary, ["verify", bundlePath, "--ca", setup.caPath, "--gateway-cert", setup.gatewayCertPath, "--ledger-key", ledgerKeyPath])
        #expect(bad.status == 1)
        #expect(bad.output.contains("verification failed at check \"inclusion\""))
    }

    static func load(_ path: String) -> Certificate { (try? CertificateCoding.loadCertificate(path))! }

    static func replacing(_ key: String, with value: JSONValue, in bundle: JSONValue) -> JSONValue {
        .object((bundle.objectMembers ?? []).map { $0.key == key ? JSONMember(key, value) : $0 })
    }
}
