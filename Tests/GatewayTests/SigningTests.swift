import DeviceIdentity
import Evidence
import Foundation
import Gateway
import JSONDocument
import Journal
import MQTTIngest
import Simulation
import Testing
import WardgateTestSupport
import WardgateTools

@Suite("Every Observation signed by its device, over a real broker", .serialized)
struct SigningTests {
    struct Ward {
        let directory: String
        let ca: CertificateAuthority
        let keystore: Keystore
    }

    /// A ward CA with: `good` valid, `revoked` revoked, `expired` issued long ago for one day.
    static func makeWard() throws -> Ward {
        let directory = TestSupport.temporaryDirectory("signing")
        let ca = try CertificateAuthority.create(directory: directory + "/ca", name: "Test Ward CA", validityDays: 30,
                                                 now: Date().addingTimeInterval(-10 * 86400))
        let keystore = Keystore(directory: directory + "/keys")
        _ = try Enrollment.enroll(kind: .device, id: "good", ca: ca, keystore: keystore, validityDays: 30)
        _ = try Enrollment.enroll(kind: .device, id: "revoked", ca: ca, keystore: keystore, validityDays: 30)
        _ = try Enrollment.revoke(kind: .device, id: "revoked", reason: .keyCompromise, ca: ca, keystore: keystore)
        _ = try Enrollment.enroll(kind: .device, id: "expired", ca: ca, keystore: keystore, validityDays: 1,
                                  now: Date().addingTimeInterval(-5 * 86400))
        return Ward(directory: directory, ca: ca, keystore: keystore)
    }

    @Test("valid devices are signed; unknown, expired and revoked devices are quarantined, nothing lost, nothing signed")
    func signAndQuarantine() async throws {
        let ward = try SigningTests.makeWard()
        defer { try? FileManager.default.removeItem(atPath: ward.directory) }
        let broker = try PrivateBroker.start(directory: ward.directory + "/broker")
        defer { broker.stop() }
        var config = TestSupport.config(directory: ward.directory, brokerPort: broker.port)
        config.identity = .init(keystore: ward.keystore.directory)
        let gateway = try Gateway(config: config, logger: TestSupport.quietLogger)
        gateway.start()
        #expect(await gateway.waitUntilReady(timeout: .seconds(60)))

        let sender = try MQTTClient(settings: MQTTSettings(port: broker.port, clientId: "signing-sender", cleanStart: true), logger: TestSupport.quietLogger)
        sender.start()
        defer { sender.stop() }
        #expect(await sender.waitUntilReady(timeout: .seconds(60)))
        let devices = ["good", "revoked", "expired", "stranger"]
        for device in devices {
            for i in 0..<10 {
                let payload = "{\"ts\": \(1_763_719_200_000 + i * 1000), \"hr\": \(60 + i), \"spo2\": 97}"
                try sender.publish(topic: "wards/w/devices/\(device)/vitals", payload: Array(payload.utf8))
            }
        }
        #expect(await sender.waitForPublishes(timeout: .seconds(60)))
        let arrived = try await TestSupport.eventually(timeout: .seconds(60)) {
            try gateway.journal.statistics().observations == devices.count * 10 * 2
        }
        #expect(arrived)

        let stats = try gateway.journal.statistics()
        #expect(stats.signed == 20)
        #expect(stats.quarantined == 60)
        let goodCertificate = try ward.keystore.certificate(kind: .device, id: "good")
        for observation in try gateway.journal.observations(deviceId: "good") {
            let signature = try #require(observation.signature)
            #expect(observation.quarantineReason == nil)
            let payload = try JCS.canonicalize(try JSONParser.parse(observation.resource))
            try JWSVerifier.verify(signature.jws, detachedPayload: payload, certificate: goodCertificate)
            // Rendered once (ObservationRenderer): the row keeps the signed members in their signed
            // order; with integer values the stored bytes are the signed bytes themselves.
            #expect(observation.resource == payload, "\(String(decoding: observation.resource, as: UTF8.self))")
            // A changed Observation must not verify.
            let tampered = String(decoding: observation.resource, as: UTF8.self).replacingOccurrences(of: "\"status\":\"final\"", with: "\"status\":\"amended\"")
            #expect(tampered != String(decoding: observation.resource, as: UTF8.self))
            #expect(throws: (any Error).self) {
                try JWSVerifier.verify(signature.jws, detachedPayload: try JCS.canonicalize(try JSONParser.parse(tampered)), certificate: goodCertificate)
            }
        }
        let reasons: [String: String] = ["revoked": "revoked", "expired": "expired", "stranger": "no key is enrolled"]
        for (device, expected) in reasons {
            let quarantined = try gateway.journal.observations(deviceId: device)
            #expect(quarantined.count == 20)
            #expect(quarantined.allSatisfy { $0.signature == nil && ($0.quarantineReason ?? "").contains(expected) }, "\(device)")
        }
        let snapshot = gateway.metrics.snapshot()
        #expect(snapshot["wardgate_observations_signed_total"] == 20)
        #expect(snapshot["wardgate_readings_quarantined_total{reason=\"revoked\"}"] == 20)
        #expect(snapshot["wardgate_readings_quarantined_total{reason=\"expired\"}"] == 20)
        #expect(snapshot["wardgate_readings_quarantined_total{reason=\"unknown_device\"}"] == 20)

        // Enrolling the stranger needs no restart: its next readings are signed.
        _ = try Enrollment.enroll(kind: .device, id: "stranger", ca: ward.ca, keystore: ward.keystore, validityDays: 30)
        try gateway.reload()
        try sender.publish(topic: "wards/w/devices/stranger/vitals", payload: Array("{\"ts\": 1763719300000, \"hr\": 70}".utf8))
        let signedAfterEnrollment = try await TestSupport.eventually(timeout: .seconds(60)) {
            try gateway.journal.statistics().signed == 21
        }
        #expect(signedAfterEnrollment)
        await gateway.stop()
    }

    @Test("the exported bundle's JWS verifies with an independent implementation (Python cryptography + rfc8785)")
    func independentVerificationOfExport() async throws {
        let ward = try SigningTests.makeWard()
        defer { try? FileManager.default.removeItem(atPath: ward.directory) }
        var config = TestSupport.config(directory: ward.directory, brokerPort: 1)
        config.identity = .init(keystore: ward.keystore.directory)
        let gateway = try Gateway(config: config, logger: TestSupport.quietLogger)
        let payload = "{\"ts\": 1763719200000, \"hr\": 72, \"temp_f\": 98.6, \"bp\": {\"sys\": 120, \"dia\": 80}}"
        try gateway.journal.appendInbox(topic: "wards/w/devices/good/vitals", payload: Array(payload.utf8), qos: 1, receivedAt: Date())
        try gateway.processor.drain()

        var lines: [String] = []
        try ObservationExport.export(try gateway.journal.observations(), format: .ndjson) { lines.append($0) }
        #expect(lines.count == 6)  // three Observations, each followed by its Provenance
        let exportPath = ward.directory + "/export.ndjson"
        try lines.joined(separator: "\n").write(toFile: exportPath, atomically: true, encoding: .utf8)
        let certificatePath = ward.keystore.certificatePath(kind: .device, id: "good")

        let script = """
            import base64, hashlib, json, sys, rfc8785
            from cryptography import x509
            from cryptography.hazmat.primitives import hashes, serialization
            from cryptography.hazmat.primitives.asymmetric import ec, utils
            cert = x509.load_pem_x509_certificate(open(sys.argv[2], 'rb').read())
            thumb = base64.urlsafe_b64encode(hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).digest()).rstrip(b'=').decode()
            def b64(s): return base64.urlsafe_b64decode(s + '=' * (-len(s) % 4))
            lines = [json.loads(l) for l in open(sys.argv[1])]
            obs = {r['id']: r for r in lines if r['resourceType'] == 'Observation'}
            checked = 0
            for p in (r for r in lines if r['resourceType'] == 'Provenance'):
                jws = base64.b64decode(p['signature'][0]['data']).decode()
                assert p['signature'][0]['sigFormat'] == 'application/jose'
                h, empty, s = jws.split('.')
                assert empty == '', 'payload must be detached'
                header = json.loads(b64(h))
                assert header['alg'] == 'ES256' and header['kid'] == 'good' and header['x5t#S256'] == thumb, header
                o = obs[p['target'][0]['reference'].split('/')[1]]
                signing_input = h.encode() + b'.' + base64.urlsafe_b64encode(rfc8785.dumps(o)).rstrip(b'=')
                sig = b64(s)
                r, sv = int.from_bytes(sig[:32], 'big'), int.from_bytes(sig[32:], 'big')
                n = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
                assert sv <= n // 2, 'high-S signature'
                cert.public_key().verify(utils.encode_dss_signature(r, sv), signing_input, ec.ECDSA(hashes.SHA256()))
                checked += 1
            assert checked == 3, checked
            print('verified', checked)
            """
        let result = try ProcessRunner.runTool(["python3", "-c", script, exportPath, certificatePath])
        let text = result.output
        #expect(result.status == 0, "\(text)")
        #expect(text.contains("verified 3"))
    }
}
