import DeviceIdentity
import Foundation
import MQTTIngest
import Simulation
import Testing

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
            let result = try runTool("/usr/bin/openssl", arguments, in: brokerFiles)
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
        var readers: [(name: String, tls: MQTTSettings.TLS)] = [("dev-a", deviceA)]
        do {
            readers.append(("device ward-7b", try ward.enroll(.device, "ward-7b")))
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
            readerClients.append((reader.name, client, list))
        }
        defer { for (_, client, _) in readerClients { client.stop() } }

        let b = try await broker.client("dev-b", tls: deviceB)
        defer { b.stop() }
        try b.publish(topic: "wards/7b/devices/dev-b/vitals", payload: Array(#"{"hr": 71}"#.utf8))
        #expect(await b.waitForPublishes(timeout: .seconds(60)))
        #expect(await TestSupport.eventually(timeout: .seconds(60)) { atGateway.items.contains { $0.hasPrefix("wards/7b/devices/dev-b/vitals") } },
                "the gateway did not receive dev-b's reading")
        // mosquitto hands a message to every matching subscriber as it routes it; a reader that
        // was allowed to read it would have it by the time the gateway does, give or take.
        _ = await TestSupport.eventually(timeout: .seconds(2)) { readerClients.contains { !$0.2.items.isEmpty } }
        for (name, _, list) in readerClients {
            #expect(list.items.isEmpty, "\(name) read \(list.items)")
        }
    }
}
