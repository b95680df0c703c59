import Foundation
import Logging
import MQTTIngest
import Simulation
import Synchronization
import Testing
import Timing
import WardgateTestSupport

@Suite("MQTT over TLS and mTLS against a real mosquitto")
struct TLSTests {
    let logger = Logger(label: "test.tls")

    /// A CA, a server certificate for 127.0.0.1 and a client certificate, made with openssl.
    static func makeCertificates(in dir: String) throws {
        let script = """
            set -e
            cd '\(dir)'
            openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key -out ca.pem -days 2 -subj '/CN=Test Ward CA' 2>/dev/null
            openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout server.key -out server.csr -subj '/CN=127.0.0.1' 2>/dev/null
            printf 'subjectAltName=IP:127.0.0.1\\n' > server.ext
            openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem -days 2 -extfile server.ext 2>/dev/null
            openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout client.key -out client.csr -subj '/CN=wardgate-gateway' 2>/dev/null
            openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out client.pem -days 2 2>/dev/null
            chmod 600 *.key
            """
        guard try ProcessRunner.run("/bin/sh", ["-c", script]).status == 0 else { throw SimulationError.broker("openssl could not make the test certificates") }
    }

    @Test("with mTLS the client connects, subscribes and receives; without its certificate the broker refuses it")
    func mutualTLS() async throws {
        let dir = NSTemporaryDirectory() + "wardgate-tls-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try TLSTests.makeCertificates(in: dir)
        let tlsPort = try FreePort.find()
        // The plain listener stays for the publisher; the TLS listener requires a client certificate.
        let broker = try PrivateBroker.start(directory: dir + "/broker", extraConfig: """
            listener \(tlsPort) 127.0.0.1
            cafile \(dir)/ca.pem
            certfile \(dir)/server.pem
            keyfile \(dir)/server.key
            require_certificate true
            """)
        defer { broker.stop() }
        #expect(FreePort.waitUntilListening(port: tlsPort, timeout: 10))

        let received = Atomic<Int>(0)
        let tls = MQTTSettings.TLS(caFile: dir + "/ca.pem", certFile: dir + "/client.pem", keyFile: dir + "/client.key")
        let subscriber = try MQTTClient(
            settings: MQTTSettings(port: tlsPort, clientId: "tls-subscriber", tls: tls), subscriptions: ["secure/#"], logger: logger
        ) { _ in
            received.add(1, ordering: .relaxed)
            return .stored
        }
        subscriber.start()
        defer { subscriber.stop() }
        #expect(await subscriber.waitUntilReady(timeout: .seconds(60)))

        let publisher = try MQTTClient(settings: MQTTSettings(port: broker.port, clientId: "plain-publisher", cleanStart: true), logger: logger)
        publisher.start()
        defer { publisher.stop() }
        #expect(await publisher.waitUntilReady(timeout: .seconds(60)))
        for i in 0..<20 { try publisher.publish(topic: "secure/\(i)", payload: [UInt8(i)]) }
        let all = await TestWait.until(timeout: .seconds(60)) { received.load(ordering: .relaxed) == 20 }
        #expect(all)

        // No client certificate: the TLS handshake is refused, the client never becomes ready.
        let anonymous = try MQTTClient(
            settings: MQTTSettings(port: tlsPort, clientId: "no-cert", tls: MQTTSettings.TLS(caFile: dir + "/ca.pem"),
                                   reconnect: Backoff(initial: .milliseconds(100), maximum: .milliseconds(500), jitter: .half)),
            subscriptions: ["secure/#"], logger: logger)
        anonymous.start()
        defer { anonymous.stop() }
        #expect(await anonymous.waitUntilReady(timeout: .seconds(3)) == false)
        #expect(anonymous.statistics.connects == 0)
    }
}

enum TestWait {
    static func until(timeout: Duration, _ condition: @Sendable () -> Bool) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if condition() { return true }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return condition()
    }
}
