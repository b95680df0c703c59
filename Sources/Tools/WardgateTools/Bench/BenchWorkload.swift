import Foundation
import Gateway
import IEEE11073
import Logging
import Simulation

/// The simulated devices of a bench run: how they connect and publish, and how the bench finds
/// their readings in the journal afterwards.
protocol BenchWorkload: Sendable {
    /// Each device's `Reading.deviceId` (what the observation table holds), in publishing order.
    var deviceIds: [String] { get }
    /// The identities to enroll so the gateway signs for them.
    var enrolledIds: [String] { get }
    /// Observations one reading (one published payload) yields.
    var observationsPerReading: Int { get }
    /// What a plain subscriber subscribes to for the transport baseline.
    var topicFilter: String { get }
    /// The finest step of the device time the payloads carry.
    var deviceTimeResolutionMs: Int64 { get }
    /// The devices' connection: one payload per device per round.
    var publisher: any RoundPublisher { get }
    /// Connects, and for 11073 agents associates; true when every device can publish.
    func connect(timeout: Duration) async throws -> Bool
    /// Anything the devices saw that a correct run never produces, once `published` readings
    /// were processed; empty when all is well.
    func problems(published: Int) async -> [String]
    /// The reading an inbox record carries, or nil for a record that is not one (an AARQ).
    func readingKey(topic: String, payload: [UInt8]) -> PublishLog.Key?
}

extension BenchWorkload {
    func run(rounds: Int, roundsPerSecond: Double, onRound: @Sendable (Int, Int64, Double) -> Void) async throws -> Int {
        try await publisher.run(rounds: rounds, roundsPerSecond: roundsPerSecond, onRound: onRound)
    }

    func waitForPublishes(timeout: Duration) async -> Bool { await publisher.waitForPublishes(timeout: timeout) }

    func stop() { publisher.stop() }
}

/// JSON wearables or SenML sensors on one connection (`--payload json|senml`).
struct ProfilePayloadWorkload: BenchWorkload {
    let devices: [SimulatedDevice]
    let ward: SimulatedWard

    init(kind: SimulatedDevice.Kind, count: Int, brokerPort: Int, logger: Logger, clientId: String) throws {
        devices = (0..<count).map { i in
            SimulatedDevice(id: String(format: "bench-%04d", i + 1), kind: kind, seed: 1000 &+ UInt64(i))
        }
        ward = try SimulatedWard(devices: devices, brokerPort: brokerPort, logger: logger, clientId: clientId)
    }

    var publisher: any RoundPublisher { ward }
    var deviceIds: [String] { devices.map(\.id) }
    var enrolledIds: [String] { deviceIds }
    var observationsPerReading: Int { devices.first?.readingsPerPayload ?? 5 }
    var topicFilter: String { "wards/#" }
    var deviceTimeResolutionMs: Int64 { 1 }
    func problems(published: Int) async -> [String] { [] }

    func connect(timeout: Duration) async throws -> Bool { await ward.waitUntilConnected(timeout: timeout) }

    func readingKey(topic: String, payload: [UInt8]) -> PublishLog.Key? {
        let parts = topic.split(separator: "/")
        guard parts.count >= 4, let kind = devices.first?.kind, let ms = Self.deviceTimeMs(payload, kind: kind) else { return nil }
        return PublishLog.Key(deviceId: String(parts[3]), deviceTimeMs: ms)
    }

    /// The device time the simulator wrote: JSON `"ts"` (ms) or SenML `"bt"` (s, 3 decimals).
    static func deviceTimeMs(_ bytes: [UInt8], kind: SimulatedDevice.Kind) -> Int64? {
        let key = Array((kind == .senml ? "\"bt\":" : "\"ts\":").utf8)
        guard bytes.count >= key.count else { return nil }
        var i = 0
        while i + key.count <= bytes.count {
            if bytes[i] == key[0], Array(bytes[i..<(i + key.count)]) == key { break }
            i += 1
        }
        guard i + key.count <= bytes.count else { return nil }
        var j = i + key.count
        while j < bytes.count, bytes[j] == 0x20 || bytes[j] == 0x22 { j += 1 }
        var text = ""
        while j < bytes.count, (bytes[j] >= 0x30 && bytes[j] <= 0x39) || bytes[j] == 0x2E {
            text.append(Character(UnicodeScalar(bytes[j])))
            j += 1
        }
        guard let value = Double(text) else { return nil }
        return kind == .senml ? Int64((value * 1000).rounded()) : Int64(value)
    }
}

/// IEEE 11073-20601 pulse oximeters and blood-pressure cuffs (`--payload ieee11073`): each
/// associates with the gateway, its manager, then sends confirmed fixed-format scan reports.
struct PersonalHealthWorkload: BenchWorkload {
    let ward: SimulatedPersonalHealthWard
    /// Associate with an in-process manager instead of the gateway (the subscriber baseline).
    let withoutManager: Bool
    private let configIds: [String: UInt16]

    init(count: Int, brokerPort: Int, logger: Logger, clientId: String, withoutManager: Bool = false) throws {
        let agents = try SimulatedPersonalHealthWard.agents(count: count)
        configIds = Dictionary(uniqueKeysWithValues: agents.map { ($0.systemId.hex, $0.specialization.configId) })
        ward = try SimulatedPersonalHealthWard(agents: agents, brokerPort: brokerPort, logger: logger, clientId: clientId)
        self.withoutManager = withoutManager
    }

    var publisher: any RoundPublisher { ward }
    var deviceIds: [String] { ward.deviceIds }
    var enrolledIds: [String] { ward.deviceIds }
    /// Both specializations report two numerics: SpO2 and pulse rate, or the blood-pressure panel and pulse rate.
    var observationsPerReading: Int { 2 }
    var topicFilter: String { "phd/+/agent" }
    /// AbsoluteTime counts hundredths of a second.
    var deviceTimeResolutionMs: Int64 { 10 }

    /// Refusals and unexpected APDUs the agents heard, and reports the manager never confirmed
    /// (it confirms each one after its commit, so all of them should be by now).
    func problems(published: Int) async -> [String] {
        var notes: [String] = []
        let deadline = ContinuousClock.now + .seconds(10)
        while ward.confirmedReports < published, ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(50)) }
        if ward.confirmedReports != published {
            notes.append("the manager confirmed \(ward.confirmedReports) of the \(published) scan reports")
        }
        let problems = ward.problems
        if problems.count > 0 {
            notes.append("the 11073 agents heard \(problems.count) refusals or unexpected APDUs, first: " + problems.first.joined(separator: "; "))
        }
        return notes
    }

    func connect(timeout: Duration) async throws -> Bool {
        withoutManager ? try await ward.associateWithoutManager() : try await ward.associate(timeout: timeout)
    }

    /// Decodes a scan report with the agent's standard configuration, as the manager did.
    func readingKey(topic: String, payload: [UInt8]) -> PublishLog.Key? {
        let parts = topic.split(separator: "/")
        guard parts.count == 3, let systemId = SystemId(hex: String(parts[1])), let configId = configIds[systemId.hex] else { return nil }
        let decoded = OfflineDecoder.decode(apdus: [payload], configId: configId, offsetRule: .timeZone(TimeZone.current), systemId: systemId)
        guard let reading = decoded.first?.readings.first, let time = reading.deviceTime else { return nil }
        return PublishLog.Key(deviceId: reading.deviceId, deviceTimeMs: Int64((time.instant.timeIntervalSince1970 * 1000).rounded()))
    }
}
