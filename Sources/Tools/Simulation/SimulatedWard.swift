import Foundation
import Logging
import MQTTIngest
import Timing

/// Many simulated devices publishing over one MQTT connection at a steady total rate.
public final class SimulatedWard: RoundPublisher {
    public let devices: [SimulatedDevice]
    private let client: MQTTClient

    public init(devices: [SimulatedDevice], brokerPort: Int, logger: Logger, clientId: String = "wardgate-sim-\(UUID().uuidString.prefix(6))") throws(MQTTError) {
        self.devices = devices
        client = try MQTTClient(
            settings: MQTTSettings(port: brokerPort, clientId: clientId, cleanStart: true, reconnect: Backoff(initial: .milliseconds(50), maximum: .seconds(1), jitter: .half)),
            logger: logger)
        client.start()
    }

    /// A ward of `count` devices, alternating JSON wearables (some in °F) and SenML sensors.
    public static func devices(count: Int, seed: UInt64 = 7) -> [SimulatedDevice] {
        (0..<count).map { i in
            let kind: SimulatedDevice.Kind = i % 3 == 2 ? .senml : .wearableJSON
            let id = String(format: "bed-%02d-%@", i + 1, kind == .senml ? "sensor" : "wrist")
            return SimulatedDevice(id: id, kind: kind, fahrenheit: i % 6 == 1, seed: seed &+ UInt64(i))
        }
    }

    public func waitUntilConnected(timeout: Duration) async -> Bool { await client.waitUntilReady(timeout: timeout) }

    /// Publishes one payload per device per round, `rounds` times, at `roundsPerSecond`.
    /// Device times advance by at least one millisecond per round so every payload is distinct;
    /// `onRound` runs after each round with its device time and the wall time it began.
    public func run(
        rounds: Int, roundsPerSecond: Double,
        onRound: @Sendable (_ round: Int, _ deviceTimeMs: Int64, _ startedAtMs: Double) -> Void = { _, _, _ in }
    ) async throws -> Int {
        var devices = self.devices
        var published = 0
        try await RoundPacer.run(rounds: rounds, roundsPerSecond: roundsPerSecond) { round, ms, started in
            let now = Date(timeIntervalSince1970: Double(ms) / 1000)
            for index in devices.indices {
                let payload = devices[index].nextPayload(at: now)
                try client.publish(topic: devices[index].topic, payload: payload, qos: 1)
                published += 1
            }
            onRound(round, ms, started)
        }
        return published
    }

    /// Publishes an arbitrary payload (for faults and tests).
    public func publish(topic: String, payload: [UInt8]) throws(MQTTError) {
        try client.publish(topic: topic, payload: payload, qos: 1)
    }

    public func waitForPublishes(timeout: Duration) async -> Bool { await client.waitForPublishes(timeout: timeout) }

    public func stop() { client.stop() }
}
