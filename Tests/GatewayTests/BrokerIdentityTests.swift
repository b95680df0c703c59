import DeviceIdentity
import Foundation
import GRDB
import DeviceProfiles
import Gateway
import IEEE11073
import MQTTIngest
import Observations
import Simulation
import Testing
import WardgateTestSupport
import WardgateTools

/// The shipped broker configuration (systemd/mosquitto/) in a real mosquitto, with certificates
/// made the way a ward makes them: a ward CA from `CertificateAuthority` (as `wardgate ca init`),
/// devices and the gateway enrolled with `Enrollment` (as `wardgate device|gateway enroll`), and
/// the broker's server certificate signed with the ward CA's key by openssl.
@Suite("Service: broker identities through the shipped conf and ACL", .serialized)
struct BrokerIdentityTests {
    /// A ward PKI as the administrator builds it, and the files mosquitto reads.
    struct EnrolledWard {
        let directory: String
        let ca: CertificateAuthority
        let keystore: Keystore
        /// What /etc/mosquitto/wardgate/ holds: ward-ca.pem, broker.pem, broker.key, the ACL.
        var brokerFiles: String { directory + "/broker" }
        var caFile: String { brokerFiles + "/ward-ca.pem" }

        static func make(in directory: String) throws -> EnrolledWard {
            let ca = try CertificateAuthority.create(directory: directory + "/ca", name: "Ward 7B CA")
            let ward = EnrolledWard(directory: directory, ca: ca, keystore: Keystore(directory: directory + "/keystore"))
            try FileManager.default.createDirectory(atPath: ward.brokerFiles, withIntermediateDirectories: true)
            try FileManager.default.copyItem(atPath: ca.certificatePath, toPath: ward.caFile)
            try "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n".write(toFile: ward.brokerFiles + "/server.ext", atomically: true, encoding: .utf8)
            try ward.openssl(["req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "broker.key", "-out", "broker.csr", "-subj", "/CN=broker.ward.test"])
            try ward.openssl(["x509", "-req", "-in", "broker.csr", "-CA", "ward-ca.pem", "-CAkey", ca.keyPath, "-CAcreateserial", "-out", "broker.pem", "-days", "2", "-extfile", "server.ext"])
            return ward
        }

        func openssl(_ arguments: [String]) throws {
            let result = try ProcessRunner.run("/usr/bin/openssl", arguments, directory: brokerFiles)
            guard result.status == 0 else { throw ServiceTestError("openssl \(arguments.joined(separator: " ")): \(result.output)") }
        }

        /// Enrolls an identity into the keystore and returns its mTLS settings for the broker.
        func enroll(_ kind: IdentityKind, _ id: String) throws -> MQTTSettings.TLS {
            _ = try Enrollment.enroll(kind: kind, id: id, ca: ca, keystore: keystore)
            return tls(kind, id)
        }

        func tls(_ kind: IdentityKind, _ id: String) -> MQTTSettings.TLS {
            MQTTSettings.TLS(caFile: caFile, certFile: keystore.certificatePath(kind: kind, id: id), keyFile: keystore.keyPath(kind: kind, id: id))
        }
    }

    /// mosquitto with the shipped conf and ACL on a free loopback port; stops with the value.
    final class ShippedBroker {
        let port: Int
        let process: ChildProcess
        let state: String

        init(_ ward: EnrolledWard) throws {
            state = ward.directory + "/state"
            try FileManager.default.createDirectory(atPath: state, withIntermediateDirectories: true)
            port = try FreePort.find()
            let config = try ServiceBrokerACLTests.brokerConfig(filesIn: ward.brokerFiles, state: state, port: port)
            let mosquitto = try #require(Executables.find("mosquitto", extra: ["/usr/sbin"]))
            process = try ChildProcess.spawn(mosquitto, arguments: ["-c", config])
            guard FreePort.waitUntilListening(port: port, timeout: 10) else {
                process.stop()
                throw ServiceTestError("mosquitto did not start: \((try? String(contentsOfFile: state + "/mosquitto.log", encoding: .utf8)) ?? "")")
            }
        }

        /// A started client with `tls`, subscribed to `subscriptions`, recording "topic payload".
        func client(_ clientId: String, tls: MQTTSettings.TLS, subscriptions: [String] = [], into received: SharedList? = nil) async throws -> MQTTClient {
            let client = try MQTTClient(
                settings: MQTTSettings(port: port, clientId: clientId, tls: tls, cleanStart: true),
                subscriptions: subscriptions, logger: TestSupport.quietLogger,
                onMessage: { message in
                    received?.append("\(message.topic) \(String(decoding: message.payload, as: UTF8.self))")
                    return .stored
                })
            client.start()
            guard await client.waitUntilReady(timeout: .seconds(60)) else {
                client.stop()
                throw ServiceTestError("\(clientId) did not get in with its certificate")
            }
            return client
        }

        deinit { process.stop() }
    }

    @Test("a device certificate reads no other device's topics, and none can be enrolled under the gateway's id")
    func devicesReadNothingOfOthers() async throws {
        let directory = TestSupport.temporaryDirectory("broker-identity")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let ward = try EnrolledWard.make(in: directory)
        let gatewayTLS = try ward.enroll(.gateway, "ward-7b")
        let deviceA = try ward.enroll(.device, "dev-a")
        let deviceB = try ward.enroll(.device, "dev-b")
        // The gateway's id cannot become a device's: that certificate would have the gateway's CN,
        // so the ACL's `user ward-7b` read rule would let it read every device's vitals.
        var readers: [(id: String, tls: MQTTSettings.TLS)] = [("dev-a", deviceA)]
        do {
            readers.append(("ward-7b", try ward.enroll(.device, "ward-7b")))
            Issue.record("a device was enrolled under the gateway's id ward-7b")
        } catch {
            #expect("\(error)".contains("device id \"ward-7b\" is taken: gateway \"ward-7b\" has it"), "\(error)")
        }

        let broker = try ShippedBroker(ward)
        let atGateway = SharedList()
        let gateway = try await broker.client("wardgate-ward-7b", tls: gatewayTLS, subscriptions: ["wards/+/devices/+/#"], into: atGateway)
        defer { gateway.stop() }
        var readerClients: [(String, MQTTClient, SharedList)] = []
        for reader in readers {
            let list = SharedList()
            let client = try await broker.client("reader-\(readerClients.count)", tls: reader.tls,
                                                 subscriptions: ["#", "wards/+/devices/+/#", "wards/7b/devices/dev-b/#"], into: list)
            readerClients.append((reader.id, client, list))
        }
        defer { for (_, client, _) in readerClients { client.stop() } }

        let b = try await broker.client("dev-b", tls: deviceB)
        defer { b.stop() }
        try b.publish(topic: "wards/7b/devices/dev-b/vitals", payload: Array(#"{"hr": 71}"#.utf8))
        #expect(await b.waitForPublishes(timeout: .seconds(60)))
        #expect(await TestSupport.eventually(timeout: .seconds(60)) { atGateway.items.contains { $0.hasPrefix("wards/7b/devices/dev-b/vitals") } },
                "the gateway did not receive dev-b's reading")
        // Then the gateway writes each reader a note on its own manager topic, which a device may
        // read: the note is routed after dev-b's reading, so a reader that could read that reading
        // holds it once it holds its note.
        let notes = try await broker.client("ward-7b-notes", tls: gatewayTLS)
        defer { notes.stop() }
        for (id, _, _) in readerClients { try notes.publish(topic: "phd/\(id)/manager", payload: Array("note".utf8)) }
        for (id, _, list) in readerClients {
            #expect(await TestSupport.eventually(timeout: .seconds(60)) { list.items.contains("phd/\(id)/manager note") }, "\(id) got no note")
            #expect(list.items == ["phd/\(id)/manager note"], "\(id) read \(list.items)")
        }
    }

    @Test("an IEEE 11073 agent with its device certificate associates through the shipped conf and ACL; its confirmed reports are stored, signed; no other device speaks for it or reads its replies")
    func personalHealthAgentOverMutualTLS() async throws {
        let directory = TestSupport.temporaryDirectory("broker-phd")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let ward = try EnrolledWard.make(in: directory + "/pki")
        let gatewayTLS = try ward.enroll(.gateway, "ward-7b")
        let systemId = SystemId(0x0011_2233_4455_6677)
        let agentId = PHDDeviceIdentifier.value(for: systemId)
        let agentTLS = try ward.enroll(.device, agentId)
        let otherTLS = try ward.enroll(.device, "dev-a")
        let broker = try ShippedBroker(ward)

        var config = TestSupport.config(directory: directory, brokerPort: broker.port, clientId: "wardgate-ward-7b")
        config.mqtt.tls = gatewayTLS
        config.identity = .init(keystore: ward.keystore.directory)
        let gateway = try Gateway(config: config, logger: TestSupport.quietLogger)
        gateway.start()
        guard await gateway.waitUntilReady(timeout: .seconds(60)) else {
            await gateway.stop()
            throw ServiceTestError("the gateway did not subscribe through the shipped ACL with its certificate")
        }
        let eavesdropped = SharedList()
        let other = try await broker.client("dev-a", tls: otherTLS, subscriptions: ["#", "phd/+/manager"], into: eavesdropped)
        let agent = try MQTTPersonalHealthAgent(specialization: .pulseOximeter, systemId: systemId, brokerPort: broker.port,
                                                logger: TestSupport.quietLogger, tls: agentTLS, topicDevice: agentId)
        defer {
            agent.stop()
            other.stop()
        }

        let associated = try await agent.associate(timeout: .seconds(30))
        #expect(associated, "the agent did not associate through the shipped ACL")
        var expected: [Reading] = []
        if associated {
            for i in 0..<5 { expected += try agent.sendMeasurement(at: Date().addingTimeInterval(Double(i - 60))) }
            #expect(await agent.waitForConfirmations(5, timeout: .seconds(60)), "confirmed \(agent.confirmedReports) of 5 reports")
        }
        try gateway.processor.drain()
        let stored = try gateway.journal.observations(deviceId: agentId)
        #expect(!expected.isEmpty)
        #expect(stored.count == expected.count)
        #expect(stored.allSatisfy { $0.signature != nil && $0.quarantineReason == nil }, "\(stored.map(\.quarantineReason))")

        // dev-a cannot speak for the agent: its APDU on the agent's topic never reaches the
        // gateway, while its own reading, sent after it on the same connection, does.
        let agentTopicRecords = { try gateway.journal.read { try Int.fetchOne($0.database, sql: "SELECT COUNT(*) FROM inbox WHERE topic = ?", arguments: [agent.agentTopic]) ?? 0 } }
        let before = try agentTopicRecords()
        try other.publish(topic: agent.agentTopic, payload: [0xE4, 0x00, 0x00, 0x02, 0x00, 0x00])
        try other.publish(topic: "wards/7b/devices/dev-a/vitals", payload: Array(#"{"hr": 64}"#.utf8))
        #expect(await other.waitForPublishes(timeout: .seconds(60)))
        let ownArrived = try await TestSupport.eventually(timeout: .seconds(60)) {
            try gateway.journal.read { try Int.fetchOne($0.database, sql: "SELECT COUNT(*) FROM inbox WHERE topic = ?", arguments: ["wards/7b/devices/dev-a/vitals"]) ?? 0 } > 0
        }
        #expect(ownArrived, "dev-a's own reading did not reach the gateway")
        #expect(try agentTopicRecords() == before, "dev-a published on the agent's topic")

        // dev-a reads its own manager topic and nothing of the agent's: the gateway's note to
        // dev-a comes after every reply the agent got, so had dev-a been allowed any of those, it
        // would hold them by the time the note arrives.
        let manager = try await broker.client("ward-7b-note", tls: gatewayTLS)
        defer { manager.stop() }
        try manager.publish(topic: "phd/dev-a/manager", payload: Array("note".utf8))
        #expect(await TestSupport.eventually(timeout: .seconds(60)) { eavesdropped.items.contains("phd/dev-a/manager note") },
                "dev-a cannot read its own manager topic: \(eavesdropped.items)")
        #expect(!eavesdropped.items.contains { $0.hasPrefix("phd/\(agentId)/") }, "dev-a read the agent's topics: \(eavesdropped.items)")
        await gateway.stop()
    }

    @Test("the broker refuses a payload above message_size_limit (the largest maxPayloadBytes of the shipped profiles) and passes one at the limit")
    func oversizedPublishRefused() async throws {
        let directory = TestSupport.temporaryDirectory("broker-size")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let conf = try String(contentsOfFile: TestSupport.packageRoot + "/systemd/mosquitto/wardgate.conf", encoding: .utf8)
        let limit = try #require(conf.split(separator: "\n").first { $0.hasPrefix("message_size_limit ") }.flatMap { Int($0.split(separator: " ")[1]) },
                                 "the shipped conf sets no message_size_limit")
        let profiles = try ProfileSet.load(directory: TestSupport.shippedProfiles)
        #expect(limit == profiles.profiles.map(\.maxPayloadBytes).max(), "message_size_limit is not the largest maxPayloadBytes of the shipped profiles")

        let ward = try EnrolledWard.make(in: directory + "/pki")
        let gatewayTLS = try ward.enroll(.gateway, "ward-7b")
        let deviceTLS = try ward.enroll(.device, "dev-a")
        let broker = try ShippedBroker(ward)
        let received = SharedList()
        let gateway = try await broker.client("wardgate-ward-7b", tls: gatewayTLS, subscriptions: ["wards/+/devices/+/#"], into: received)
        defer { gateway.stop() }
        let device = try await broker.client("dev-a", tls: deviceTLS)
        defer { device.stop() }
        // One byte over, then exactly the limit, on one connection: had the first passed, it
        // would arrive before the second.
        let over = [UInt8](repeating: UInt8(ascii: "o"), count: limit + 1)
        let at = [UInt8](repeating: UInt8(ascii: "a"), count: limit)
        try device.publish(topic: "wards/7b/devices/dev-a/vitals", payload: over)
        try device.publish(topic: "wards/7b/devices/dev-a/vitals", payload: at)
        #expect(await device.waitForPublishes(timeout: .seconds(60)), "the broker did not complete the QoS 1 flows")
        #expect(await TestSupport.eventually(timeout: .seconds(60)) { !received.items.isEmpty })
        let sizes = received.items.map { $0.utf8.count - "wards/7b/devices/dev-a/vitals ".utf8.count }
        #expect(sizes == [limit], "the gateway received payloads of \(sizes) bytes")
    }
}
