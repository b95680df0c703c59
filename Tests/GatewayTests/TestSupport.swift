import GRDB
import Foundation
import Gateway
import Journal
import Logging
import MQTTIngest
import Simulation
import Timing
import WardgateTools

/// Paths and helpers shared by the gateway tests.
enum TestSupport {
    static let packageRoot: String = {
        var url = URL(fileURLWithPath: #filePath)
        while url.path != "/" {
            url.deleteLastPathComponent()
            if FileManager.default.fileExists(atPath: url.appendingPathComponent("Package.swift").path) { return url.path }
        }
        fatalError("package root not found above \(#filePath)")
    }()

    static var shippedProfiles: String { packageRoot + "/DeviceProfiles" }

    /// The `wardgate` executable built beside the test bundle (`WARDGATE_BINARY` replaces it, to
    /// run the process tests against another build, such as one from before a fix).
    static var wardgateBinary: String {
        if let other = ProcessInfo.processInfo.environment["WARDGATE_BINARY"] { return other }
        let exe = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        var directory = exe.deletingLastPathComponent()
        for _ in 0..<3 {
            let candidate = directory.appendingPathComponent("wardgate").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            directory.deleteLastPathComponent()
        }
        return packageRoot + "/.build/debug/wardgate"
    }

    static func temporaryDirectory(_ name: String) -> String {
        let path = NSTemporaryDirectory() + "wardgate-test-\(name)-\(UUID().uuidString.prefix(8))"
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    /// Opens a gateway's journal as the daemon does, with every module's tables.
    static func openJournal(_ directory: String) throws -> Journal {
        try Journal(directory: directory, tables: Gateway.journalTables)
    }

    static let quietLogger: Logger = {
        var logger = Logger(label: "test.gateway")
        logger.logLevel = .error
        return logger
    }()

    static func config(directory: String, brokerPort: Int, clientId: String = "wardgate-test", maxBytes: Int64 = GatewayConfig.defaultMaxJournalBytes) -> GatewayConfig {
        GatewayConfig(
            gatewayId: "test-ward", stateDirectory: directory + "/state",
            mqtt: MQTTSettings(port: brokerPort, clientId: clientId, reconnect: Backoff(initial: .milliseconds(50), maximum: .milliseconds(500), jitter: .half)),
            profilesDirectory: shippedProfiles, maxJournalBytes: maxBytes)
    }

    static func writeConfigFile(directory: String, brokerPort: Int, clientId: String) throws -> String {
        let yaml = """
            gateway: {id: test-ward, stateDirectory: \(directory)/state}
            mqtt: {host: 127.0.0.1, port: \(brokerPort), clientId: \(clientId), protocol: 5,
                   reconnect: {initial: 50ms, maximum: 500ms}}
            profiles: {directory: \(shippedProfiles)}
            journal: {durability: process, maxBytes: 1GiB}
            logging: {level: info}
            """
        let path = directory + "/wardgate.yml"
        try yaml.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// Polls until `condition` holds or `timeout` passes; returns whether it held.
    static func eventually(timeout: Duration, _ condition: () throws -> Bool) async rethrows -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if try condition() { return true }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return try condition()
    }
}

/// What a simulated ward published, to check against the journal afterwards.
struct PublishedReading: Hashable {
    let deviceId: String
    let deviceTimeMs: Int64
}

extension Journal {
    /// (device, effective time) → how many Observations the journal holds for it.
    func observationCountsByDeviceAndTime() throws -> [PublishedReading: Int] {
        var counts: [PublishedReading: Int] = [:]
        for (reading, count) in try observationCountsByReading() {
            counts[PublishedReading(deviceId: reading.deviceId, deviceTimeMs: reading.effectiveAtMs)] = count
        }
        return counts
    }
}

/// A private broker and a started, subscribed gateway in a temporary directory, for one test.
/// The broker process stops when this is released, even if the test throws.
final class TestWard {
    let directory: String
    let broker: PrivateBroker
    let gateway: Gateway

    init(_ name: String, configure: (inout GatewayConfig) -> Void = { _ in }) async throws {
        directory = TestSupport.temporaryDirectory(name)
        broker = try PrivateBroker.start(directory: directory + "/broker")
        var config = TestSupport.config(directory: directory, brokerPort: broker.port)
        configure(&config)
        gateway = try Gateway(config: config, logger: TestSupport.quietLogger)
        gateway.start()
        guard await gateway.waitUntilReady(timeout: .seconds(60)) else {
            throw SimulationError.broker("the gateway did not subscribe on the test broker")
        }
    }

    /// A QoS 1 publisher on the ward's broker, connected.
    func sender(_ clientId: String) async throws -> MQTTClient {
        let client = try MQTTClient(settings: MQTTSettings(port: broker.port, clientId: clientId, cleanStart: true), logger: TestSupport.quietLogger)
        client.start()
        guard await client.waitUntilReady(timeout: .seconds(60)) else { throw SimulationError.broker("\(clientId) could not connect") }
        return client
    }

    func finish() async {
        await gateway.stop()
        broker.stop()
        try? FileManager.default.removeItem(atPath: directory)
    }
}
