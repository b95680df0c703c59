import Crypto
import DeviceIdentity
import EmbeddedLedger
import Evidence
import Foundation
@testable import Gateway
import HexEncoding
import JSONDocument
import Journal
import MQTTIngest
import Observations
import Simulation
import Testing
import TransparencyLog
import WardgateTestSupport
import WardgateTools
import X509

/// Issue #17 item 1 and issue #18 item 8: a proof is judged at the signing time inside the
/// signature (JWS `iat`), never at the device's clock, and only a certificate naming the
/// Observation's device can have signed it.
@Suite("Proof bundles: judged at the signing time, signed by the Observation's own device", .serialized)
struct SigningTimeProofTests {
    /// An anchored reading through a real broker, with the files `wardgate proof` and `verify` need.
    struct Anchored {
        let setup: ProofTests.Setup
        let configPath: String
        let ledgerKeyPath: String
        let ledgerPrivateKeyPath: String
        let bundle: JSONValue
        let signedBetween: ClosedRange<Int64>
    }

    /// Enrolls `good` now (ProofTests.setup), publishes one reading the device time-stamped at
    /// `deviceTimeMs`, and waits until the ledger anchored it. Then builds its bundle with the
    /// real `wardgate proof` from a configuration file.
    static func anchoredReading(deviceTimeMs: Int64, device: String = "good") async throws -> Anchored {
        let broker = try PrivateBroker.start()
        defer { broker.stop() }
        let setup = try ProofTests.setup(brokerPort: broker.port)
        let before = Int64(Date().timeIntervalSince1970)
        let gateway = try Gateway(config: setup.config, logger: TestSupport.quietLogger)
        gateway.start()
        #expect(await gateway.waitUntilReady(timeout: .seconds(60)))
        let sender = try MQTTClient(settings: MQTTSettings(port: broker.port, clientId: "iat-sender", cleanStart: true), logger: TestSupport.quietLogger)
        sender.start()
        defer { sender.stop() }
        #expect(await sender.waitUntilReady(timeout: .seconds(60)))
        try sender.publish(topic: "wards/w/devices/\(device)/vitals", payload: Array("{\"ts\": \(deviceTimeMs), \"hr\": 71}".utf8))
        #expect(await sender.waitForPublishes(timeout: .seconds(60)))
        let anchored = await TestSupport.eventually(timeout: .seconds(60)) {
            (try? ProofBundle.build(.leafIndex(0), journal: gateway.journal, keystore: setup.ward.keystore))?["ledgerReceipt"].map { $0 != .null } ?? false
        }
        #expect(anchored, "the reading was never anchored")
        let stored = try #require(try gateway.journal.observations(deviceId: device).first)
        #expect(stored.quarantineReason == nil, "the gateway must sign it: \(stored.quarantineReason ?? "")")
        let embedded = try #require(gateway.ledger as? EmbeddedLedger)
        let ledgerKeyPath = setup.ward.directory + "/ledger.pub.pem"
        try embedded.publicKeyPEM.write(toFile: ledgerKeyPath, atomically: true, encoding: .utf8)
        await gateway.stop()
        let after = Int64(Date().timeIntervalSince1970)

        let configPath = try writeConfig(setup, brokerPort: broker.port)
        let proof = try ProcessRunner.run(TestSupport.wardgateBinary, ["proof", "--config", configPath, "--leaf-index", "0"])
        #expect(proof.status == 0, "\(proof.output)")
        let bundle = try JSONParser.parse(Array(proof.stdout.utf8))
        return Anchored(setup: setup, configPath: configPath, ledgerKeyPath: ledgerKeyPath, ledgerPrivateKeyPath: embedded.keyPath,
                        bundle: bundle, signedBetween: before...after)
    }

    /// The same gateway as `ProofTests.setup`, as the YAML an operator would write.
    static func writeConfig(_ setup: ProofTests.Setup, brokerPort: Int) throws -> String {
        let config = setup.config
        let log = try #require(config.log)
        let yaml = """
            gateway: {id: \(config.gatewayId), stateDirectory: \(config.stateDirectory)}
            mqtt: {host: 127.0.0.1, port: \(brokerPort), clientId: iat-proof}
            profiles: {directory: \(TestSupport.shippedProfiles)}
            identity: {keystore: \(setup.ward.keystore.directory)}
            transparencyLog: {origin: \(log.origin), gatewayCertificate: \(log.gatewayCertificate), gatewayKey: \(log.gatewayKey)}
            ledger: {path: \(config.ledger.path)}
            """
        let path = setup.ward.directory + "/wardgate.yml"
        try yaml.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    static func verifyWithCLI(_ bundle: JSONValue, _ anchored: Anchored) throws -> ProcessResult {
        let path = anchored.setup.ward.directory + "/bundle-\(UUID().uuidString.prefix(6)).json"
        try bundle.serialized.write(toFile: path, atomically: true, encoding: .utf8)
        return try ProcessRunner.run(TestSupport.wardgateBinary, [
            "verify", path, "--ca", anchored.setup.caPath, "--gateway-cert", anchored.setup.gatewayCertPath, "--ledger-key", anchored.ledgerKeyPath,
        ])
    }

    static func signingTime(of bundle: JSONValue) throws -> Int64? {
        try JWSVerifier.parse(try #require(bundle["jws"]?.stringValue)).header.signedAt
    }

    @Test("a reading time-stamped a week before enrollment is signed, anchored, and verifies with wardgate verify")
    func readingFromBeforeEnrollment() async throws {
        let weekAgoMs = Int64(Date().timeIntervalSince1970 * 1000) - 7 * 86_400_000
        let anchored = try await SigningTimeProofTests.anchoredReading(deviceTimeMs: weekAgoMs)
        defer { try? FileManager.default.removeItem(atPath: anchored.setup.ward.directory) }
        let device = try anchored.setup.ward.keystore.certificate(kind: .device, id: "good")
        let effective = try #require(anchored.bundle["observation"]?["effectiveDateTime"]?.stringValue)
        let deviceTime = try #require(FHIRTime.parseRFC3339(effective)?.date)
        #expect(deviceTime < device.notValidBefore, "the reading must predate the device certificate")
        #expect(abs(deviceTime.timeIntervalSince1970 * 1000 - Double(weekAgoMs)) < 1, "effectiveDateTime stays what the device said")

        let result = try SigningTimeProofTests.verifyWithCLI(anchored.bundle, anchored)
        #expect(result.status == 0, "\(result.output)")
        for name in ProofVerification.checkNames {
            #expect(result.stdout.contains("passed  \(name): "), "\(name) in \(result.output)")
        }
        #expect(result.stdout.contains("the signing time (JWS iat)"))
        let signedAt = try #require(try SigningTimeProofTests.signingTime(of: anchored.bundle), "the JWS carries its signing time")
        #expect(anchored.signedBetween.contains(signedAt), "iat is the gateway's time of signing")
    }

    @Test("a signature whose iat is later than the ledger block anchoring it fails at signing-time, and only there")
    func signingTimeAfterAnchor() async throws {
        let nowMs = Int64(Date().timeIntervalSince1970 * 1000)
        let anchored = try await SigningTimeProofTests.anchoredReading(deviceTimeMs: nowMs)
        defer { try? FileManager.default.removeItem(atPath: anchored.setup.ward.directory) }
        let signedAt = try #require(try SigningTimeProofTests.signingTime(of: anchored.bundle))
        // The ledger's own key re-signs the block at a time one hour before the signature claims
        // to exist: a ledger whose clock is behind the gateway's, or a backdated anchor.
        let receipt = try #require(anchored.bundle["ledgerReceipt"])
        let note = try #require(anchored.bundle["checkpoint"]?.stringValue)
        let ledgerKey = try P256.Signing.PrivateKey(pemRepresentation: String(contentsOfFile: anchored.ledgerPrivateKeyPath, encoding: .utf8))
        let earlier = try SigningTimeProofTests.resignedReceipt(receipt, checkpointNote: note, timeMs: UInt64(signedAt - 3600) * 1000, key: ledgerKey)
        let tampered = ProofTests.replacing("ledgerReceipt", with: earlier, in: anchored.bundle)

        let checks = await ProofVerification.verify(
            bundle: tampered, ca: ProofTests.load(anchored.setup.caPath), gatewayCertificate: ProofTests.load(anchored.setup.gatewayCertPath),
            ledgerKey: ledgerKey.publicKey)
        #expect(checks.map(\.name) == ProofVerification.checkNames)
        #expect(checks.filter { !$0.passed }.map(\.name) == ["signing-time"], "\(checks)")
        #expect(checks.last?.detail.contains("after the ledger block that anchors it") == true)
        // The block hash is recomputed as the ledger computes it: at the ledger's own time it is the original.
        let original = try EmbeddedReceipt(document: receipt)
        let sameTime = try SigningTimeProofTests.resignedReceipt(receipt, checkpointNote: note, timeMs: original.timeMs, key: ledgerKey)
        #expect(sameTime["blockHash"] == receipt["blockHash"])
        // Anchored in the very second of the iat is consistent: the bound is iat ≤ anchor time.
        let atSigning = try SigningTimeProofTests.resignedReceipt(receipt, checkpointNote: note, timeMs: UInt64(signedAt) * 1000, key: ledgerKey)
        let consistent = await ProofVerification.verify(
            bundle: ProofTests.replacing("ledgerReceipt", with: atSigning, in: anchored.bundle), ca: ProofTests.load(anchored.setup.caPath),
            gatewayCertificate: ProofTests.load(anchored.setup.gatewayCertPath), ledgerKey: ledgerKey.publicKey)
        #expect(consistent.allSatisfy { $0.passed }, "\(consistent)")

        let result = try SigningTimeProofTests.verifyWithCLI(tampered, anchored)
        #expect(result.status == 1)
        #expect(result.output.contains("verification failed at check \"signing-time\""), "\(result.output)")
    }

    @Test("an Observation naming dev-0, signed with dev-1's key and certificate, fails at the signer check, labelled from the certificate")
    func signerIsTheObservationsDevice() async throws {
        let setup = try ProofTests.setup(brokerPort: 1)
        defer { try? FileManager.default.removeItem(atPath: setup.ward.directory) }
        for id in ["dev-0", "dev-1"] {
            _ = try Enrollment.enroll(kind: .device, id: id, ca: setup.ward.ca, keystore: setup.ward.keystore, validityDays: 30)
        }
        let gateway = try Gateway(config: setup.config, logger: TestSupport.quietLogger)
        let nowMs = Int64(Date().timeIntervalSince1970 * 1000)
        try gateway.journal.appendInbox(topic: "wards/w/devices/dev-0/vitals", payload: Array("{\"ts\": \(nowMs), \"hr\": 71}".utf8), qos: 1, receivedAt: Date())
        try gateway.processor.drain()
        #expect(try gateway.batcher.cutDueBatches(force: true) == [1])
        let bundle = try ProofBundle.build(.leafIndex(0), journal: gateway.journal, keystore: setup.ward.keystore)
        let ca = ProofTests.load(setup.caPath)
        let gatewayCertificate = ProofTests.load(setup.gatewayCertPath)
        let honest = await ProofVerification.verify(bundle: bundle, ca: ca, gatewayCertificate: gatewayCertificate)
        #expect(honest.allSatisfy { $0.passed }, "\(honest)")
        #expect(honest.first { $0.name == "signer" }?.detail.contains("urn:wardgate:device:dev-0") == true)

        // dev-1's own key and certificate, with the JWS kid saying dev-1 or claiming dev-0.
        let observation = try #require(bundle["observation"])
        let otherCertificate = try setup.ward.keystore.certificate(kind: .device, id: "dev-1")
        let otherKey = try P256.Signing.PrivateKey(
            pemRepresentation: String(contentsOfFile: setup.ward.keystore.keyPath(kind: .device, id: "dev-1"), encoding: .utf8))
        for claimedKeyID in ["dev-1", "dev-0"] {
            let signer = try DeviceSigner(id: claimedKeyID, certificate: otherCertificate, privateKey: otherKey)
            let jws = try signer.sign(try JCS.canonicalize(observation), signedAt: Int64(Date().timeIntervalSince1970))
            let forged = ProofTests.replacing("deviceCertificates", with: [.string(CertificateCoding.pemString(otherCertificate))],
                                              in: ProofTests.replacing("jws", with: .string(jws), in: bundle))
            let checks = await ProofVerification.verify(bundle: forged, ca: ca, gatewayCertificate: gatewayCertificate)
            let byName = Dictionary(uniqueKeysWithValues: checks.map { ($0.name, $0) })
            #expect(byName["signature"]?.passed == true, "the signature itself is sound (kid \(claimedKeyID)): \(checks)")
            #expect(byName["signature"]?.detail.contains("urn:wardgate:device:dev-1") == true, "labelled from the certificate")
            #expect(byName["signature"]?.detail.contains("dev-0") == false, "never from the kid")
            #expect(checks.first { !$0.passed }?.name == "signer", "kid \(claimedKeyID): \(checks)")
            #expect(byName["signer"]?.detail.contains("reading of device \"dev-0\"") == true, "\(byName["signer"]?.detail ?? "")")
            #expect(byName["device-certificate"]?.passed == true, "dev-1's certificate is itself valid")
        }
    }

    /// The receipt's block re-hashed (docs/ledger.md) at `timeMs` and signed with `key`.
    static func resignedReceipt(_ receipt: JSONValue, checkpointNote: String, timeMs: UInt64, key: P256.Signing.PrivateKey) throws -> JSONValue {
        let original = try EmbeddedReceipt(document: receipt)
        let entriesRoot = try InclusionProof(leafIndex: original.index, treeSize: original.entryCount, hashes: original.entryPath)
            .impliedRoot(forLeafHash: LedgerBlock.entryHash(checkpointNote: checkpointNote))
        func bigEndian(_ value: UInt64) -> [UInt8] { (0..<8).reversed().map { UInt8(truncatingIfNeeded: value >> (UInt64($0) * 8)) } }
        let input = LedgerBlock.domain + bigEndian(original.height) + original.previousBlockHash + bigEndian(timeMs)
            + bigEndian(original.entryCount) + entriesRoot.bytes
        let blockHash = Array(SHA256.hash(data: input))
        let signature = try key.signature(for: blockHash)
        return EmbeddedReceipt(
            key: original.key, height: original.height, index: original.index, entryCount: original.entryCount, entryPath: original.entryPath,
            previousBlockHash: original.previousBlockHash, timeMs: timeMs, blockHash: blockHash,
            signature: Array(signature.derRepresentation), ledgerKeyID: original.ledgerKeyID
        ).document
    }
}
