import Foundation
import Logging
import MQTTIngest
import Simulation
import Synchronization
import Testing
import WardgateTestSupport
import WardgateTools

/// The shipped broker configuration (systemd/mosquitto/) with a real mosquitto: device
/// certificates from a ward CA, mTLS, and the ACL pattern that keeps each device on its own topic.
@Suite("Service: broker configuration and ACL", .serialized)
struct ServiceBrokerACLTests {
    /// A ward CA, the broker's certificate (127.0.0.1), two devices and the gateway.
    struct WardPKI {
        let directory: String
        func path(_ name: String) -> String { directory + "/" + name }

        static func make(in directory: String) throws -> WardPKI {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            let pki = WardPKI(directory: directory)
            try pki.openssl(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "ward-ca.key", "-out", "ward-ca.pem", "-days", "2", "-subj", "/CN=Test Ward CA"])
            try "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n".write(toFile: pki.path("server.ext"), atomically: true, encoding: .utf8)
            try "extendedKeyUsage=clientAuth\n".write(toFile: pki.path("client.ext"), atomically: true, encoding: .utf8)
            try pki.issue("broker", cn: "broker.ward.test", ext: "server.ext")
            for name in ["device-a", "device-b", "ward-7b"] { try pki.issue(name, cn: name, ext: "client.ext") }
            return pki
        }

        func issue(_ name: String, cn: String, ext: String) throws {
            try openssl(["req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "\(name).key", "-out", "\(name).csr", "-subj", "/CN=\(cn)"])
            try openssl(["x509", "-req", "-in", "\(name).csr", "-CA", "ward-ca.pem", "-CAkey", "ward-ca.key", "-CAcreateserial", "-out", "\(name).pem", "-days", "2", "-extfile", ext])
        }

        func openssl(_ arguments: [String]) throws {
            let result = try ProcessRunner.run("/usr/bin/openssl", arguments, directory: directory)
            guard result.status == 0 else { throw ServiceTestError("openssl \(arguments.joined(separator: " ")): \(result.output)") }
        }

        func tls(_ name: String) -> MQTTSettings.TLS {
            MQTTSettings.TLS(caFile: path("ward-ca.pem"), certFile: path("\(name).pem"), keyFile: path("\(name).key"))
        }
    }

    /// The shipped configuration with this test's paths and port, plus what Debian's main
    /// mosquitto.conf contributes (persistence_location), and `user root` when the tests run as
    /// root (mosquitto would otherwise switch to its own user).
    static func brokerConfig(pki: WardPKI, state: String, port: Int) throws -> String {
        try brokerConfig(filesIn: pki.directory, state: state, port: port)
    }

    /// `files` holds what /etc/mosquitto/wardgate/ would: ward-ca.pem, broker.pem, broker.key
    /// (the ACL is copied there).
    static func brokerConfig(filesIn files: String, state: String, port: Int) throws -> String {
        let root = TestSupport.packageRoot + "/systemd/mosquitto"
        var conf = try String(contentsOfFile: root + "/wardgate.conf", encoding: .utf8)
        let acl = try String(contentsOfFile: root + "/wardgate.acl", encoding: .utf8)
        try acl.write(toFile: files + "/wardgate.acl", atomically: true, encoding: .utf8)
        conf = conf
            .replacingOccurrences(of: "/etc/mosquitto/wardgate/", with: files + "/")
            .replacingOccurrences(of: "listener 8883\n", with: "listener \(port) 127.0.0.1\n")
            .replacingOccurrences(of: "log_dest syslog\n", with: "log_dest file \(state)/mosquitto.log\n")
        // What Debian's main mosquitto.conf adds around the conf.d file.
        conf = "persistence_location \(state)/\n" + conf
        #expect(conf.contains("listener \(port) 127.0.0.1\n"), "the shipped config's listener line changed")
        #expect(conf.contains("require_certificate true"))
        #expect(conf.contains("use_identity_as_username true"))
        #expect(conf.contains("persistence true"))
        #expect(conf.contains("max_queued_messages 500000"))
        if geteuid() == 0 { conf += "\nuser root\n" }
        let path = state + "/mosquitto.conf"
        try conf.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test("device A cannot publish on device B's topic; each device and the gateway get through with their certificates; no certificate, no connection")
    func aclKeepsDevicesOnTheirOwnTopics() async throws {
        let directory = TestSupport.temporaryDirectory("acl")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let pki = try WardPKI.make(in: directory + "/pki")
        try FileManager.default.createDirectory(atPath: directory + "/state", withIntermediateDirectories: true)
        let port = try FreePort.find()
        let configPath = try Self.brokerConfig(pki: pki, state: directory + "/state", port: port)
        let mosquitto = try #require(Executables.find("mosquitto", extra: ["/usr/sbin"]))
        let broker = try ChildProcess.spawn(mosquitto, arguments: ["-c", configPath])
        defer { broker.stop() }
        #expect(FreePort.waitUntilListening(port: port, timeout: 10), "mosquitto did not start: \((try? String(contentsOfFile: directory + "/state/mosquitto.log", encoding: .utf8)) ?? "")")

        // The gateway, with its own certificate, reads every device topic.
        let received = SharedList()
        let gateway = try MQTTClient(
            settings: MQTTSettings(host: "127.0.0.1", port: port, clientId: "wardgate-acl", tls: pki.tls("ward-7b"), cleanStart: true),
            subscriptions: ["wards/+/devices/+/#"], logger: TestSupport.quietLogger,
            onMessage: { message in
                received.append("\(message.topic) \(String(decoding: message.payload, as: UTF8.self))")
                return .stored
            })
        gateway.start()
        defer { gateway.stop() }
        #expect(await gateway.waitUntilReady(timeout: .seconds(60)), "the gateway did not get in with its certificate")

        // Device A publishes first on B's topic, then on its own, on one connection: messages
        // of one client reach a subscriber in order, so had the first passed the ACL it would
        // arrive before the second.
        let deviceA = try MQTTClient(settings: MQTTSettings(host: "127.0.0.1", port: port, clientId: "device-a", tls: pki.tls("device-a"), cleanStart: true), logger: TestSupport.quietLogger)
        deviceA.start()
        defer { deviceA.stop() }
        #expect(await deviceA.waitUntilReady(timeout: .seconds(60)))
        try deviceA.publish(topic: "wards/7b/devices/device-b/vitals", payload: Array("forged by a".utf8))
        try deviceA.publish(topic: "wards/7b/devices/device-a/vitals", payload: Array("from a".utf8))
        #expect(await deviceA.waitForPublishes(timeout: .seconds(60)))

        let deviceB = try MQTTClient(settings: MQTTSettings(host: "127.0.0.1", port: port, clientId: "device-b", tls: pki.tls("device-b"), cleanStart: true), logger: TestSupport.quietLogger)
        deviceB.start()
        defer { deviceB.stop() }
        #expect(await deviceB.waitUntilReady(timeout: .seconds(60)))
        try deviceB.publish(topic: "wards/7b/devices/device-b/vitals", payload: Array("from b".utf8))
        #expect(await deviceB.waitForPublishes(timeout: .seconds(60)))

        #expect(await TestSupport.eventually(timeout: .seconds(60)) { received.items.count >= 2 })
        let messages = received.items
        #expect(messages.contains("wards/7b/devices/device-a/vitals from a"), "\(messages)")
        #expect(messages.contains("wards/7b/devices/device-b/vitals from b"), "\(messages)")
        #expect(!messages.contains { $0.hasSuffix("forged by a") }, "device A published on device B's topic: \(messages)")
        #expect(messages.first == "wards/7b/devices/device-a/vitals from a", "\(messages)")

        // Without a client certificate the TLS handshake fails (mosquitto_pub exits non-zero).
        let pub = try #require(Executables.find("mosquitto_pub"))
        let anonymous = try ProcessRunner.run(pub, ["-h", "127.0.0.1", "-p", "\(port)", "--cafile", pki.path("ward-ca.pem"), "-t", "wards/7b/devices/x/vitals", "-m", "x", "-q", "1"])
        #expect(anonymous.status != 0, "\(anonymous.output)")
        // With one, the same tool gets through: the refusal above is about the certificate.
        let withCertificate = try ProcessRunner.run(pub, ["-h", "127.0.0.1", "-p", "\(port)", "--cafile", pki.path("ward-ca.pem"),
                                                 "--cert", pki.path("device-b.pem"), "--key", pki.path("device-b.key"),
                                                 "-i", "device-b-cli", "-t", "wards/7b/devices/device-b/vitals", "-m", "cli", "-q", "1"])
        #expect(withCertificate.status == 0, "\(withCertificate.output)")
        #expect(await TestSupport.eventually(timeout: .seconds(60)) { received.items.contains("wards/7b/devices/device-b/vitals cli") })
    }
}
