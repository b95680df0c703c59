import Foundation
import IEEE11073
import Logging
import MQTTIngest
import Synchronization
import Timing

/// Many simulated IEEE 11073-20601 agents sharing one MQTT connection: each publishes its APDUs
/// on `phd/<system id>/agent`, and the manager's replies on `phd/+/manager` are routed back to
/// the agent they name. Used where one connection per agent would cost more than the gateway
/// under test (the bench).
public final class SimulatedPersonalHealthWard: RoundPublisher {
    /// The agents' System-Ids, in publishing order.
    public let systemIds: [SystemId]
    private let agents: AgentTable
    private let client: MQTTClient

    /// `count` agents, alternating pulse oximeters (0x0190) and blood-pressure cuffs (0x02BC):
    /// standard configurations, so they operate right after the association.
    public static func agents(count: Int, seed: UInt64 = 11) throws -> [SimulatedAgent] {
        try (0..<count).map { i in
            let specialization: AgentSpecialization = i % 2 == 0 ? .pulseOximeter : .bloodPressure
            // A locally administered EUI-64 range, one per agent.
            return try SimulatedAgent(specialization: specialization, systemId: SystemId(0x02AA_BB00_0000_0000 | UInt64(i + 1)),
                                      utcOffsetSeconds: TimeZone.current.secondsFromGMT(), seed: seed &+ UInt64(i))
        }
    }

    public init(agents: [SimulatedAgent], brokerPort: Int, logger: Logger, clientId: String) throws(MQTTError) {
        systemIds = agents.map(\.systemId)
        let table = AgentTable(agents)
        self.agents = table
        client = try MQTTClient(
            settings: MQTTSettings(port: brokerPort, clientId: clientId, cleanStart: true, reconnect: Backoff(initial: .milliseconds(50), maximum: .seconds(1), jitter: .half)),
            subscriptions: ["phd/+/manager"], logger: logger
        ) { message in
            table.deliver(message)
            return .stored
        }
        table.connect(client)
        client.start()
    }

    public var deviceIds: [String] { systemIds.map(PHDDeviceIdentifier.value(for:)) }

    public static func agentTopic(_ systemId: SystemId) -> String { "phd/\(systemId.hex)/agent" }

    /// Connects and associates every agent with the manager; true once all of them operate.
    public func associate(timeout: Duration) async throws -> Bool {
        guard await client.waitUntilReady(timeout: .seconds(60)) else { return false }
        for systemId in systemIds {
            let aarq = try agents.withAgent(systemId) { agent, now throws(EncodeError) in try agent.associationRequest(now: now) }
            try client.publish(topic: Self.agentTopic(systemId), payload: aarq, qos: 1)
        }
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if agents.operating == systemIds.count { return true }
            try await Task.sleep(for: .milliseconds(20))
        }
        return agents.operating == systemIds.count
    }

    /// Associates every agent with an in-process manager instead of the gateway, so the same
    /// scan reports can be published where no manager listens (a plain-subscriber baseline).
    public func associateWithoutManager() async throws -> Bool {
        guard await client.waitUntilReady(timeout: .seconds(60)) else { return false }
        for systemId in systemIds {
            try agents.withAgent(systemId) { agent, now throws(EncodeError) in
                let aarq = try agent.associationRequest(now: now)
                let answers = OfflineDecoder.decode(apdus: [aarq], configId: nil, offsetRule: .fixed(seconds: agent.utcOffsetSeconds))
                for response in answers.flatMap(\.responses) { _ = agent.receive(response, now: now) }
            }
        }
        return agents.operating == systemIds.count
    }

    /// One confirmed scan report per agent per round, `rounds` times, at `roundsPerSecond`.
    ///
    /// AbsoluteTime counts hundredths of a second, so device times advance by at least 10 ms per
    /// round; above 100 rounds/s they run ahead of the clock.
    public func run(
        rounds: Int, roundsPerSecond: Double,
        onRound: @Sendable (_ round: Int, _ deviceTimeMs: Int64, _ startedAtMs: Double) -> Void = { _, _, _ in }
    ) async throws -> Int {
        var published = 0
        try await RoundPacer.run(rounds: rounds, roundsPerSecond: roundsPerSecond, resolutionMs: 10) { round, ms, started in
            let time = Date(timeIntervalSince1970: Double(ms) / 1000)
            for systemId in systemIds {
                let report = try agents.withAgent(systemId) { agent, now throws(EncodeError) in try agent.measurement(wallClock: time, now: now) }
                try client.publish(topic: Self.agentTopic(systemId), payload: report.apdu, qos: 1)
                published += 1
            }
            onRound(round, ms, started)
        }
        return published
    }

    /// Reports the manager confirmed, over all agents.
    public var confirmedReports: Int { agents.confirmedReports }

    /// Everything the agents heard besides confirmations (refusals, aborts, unexpected APDUs):
    /// how many, and the first few.
    public var problems: (count: Int, first: [String]) { agents.problems }

    public func waitForPublishes(timeout: Duration) async -> Bool { await client.waitForPublishes(timeout: timeout) }

    public func stop() { client.stop() }
}

/// The agents' state, shared with the MQTT callback by reference.
private final class AgentTable: Sendable {
    private struct State {
        var agents: [String: SimulatedAgent]
        var confirmed = 0
        var problems: [String] = []
        var problemCount = 0

        /// Keeps the first few: a misbehaving run must not grow the simulator's memory.
        mutating func problem(_ text: String) {
            problemCount += 1
            if problems.count < 20 { problems.append(text) }
        }
    }

    private let state: Mutex<State>
    private let sender = Mutex<MQTTClient?>(nil)
    private let origin = ContinuousClock.now

    init(_ agents: [SimulatedAgent]) {
        state = Mutex(State(agents: Dictionary(uniqueKeysWithValues: agents.map { ($0.systemId.hex, $0) })))
    }

    func connect(_ client: MQTTClient) { sender.withLock { $0 = client } }

    private var now: Duration { ContinuousClock.now - origin }

    func withAgent<T>(_ systemId: SystemId, _ body: (inout SimulatedAgent, Duration) throws(EncodeError) -> T) throws(EncodeError) -> T {
        let now = self.now
        return try state.withLock { state throws(EncodeError) -> T in
            guard var agent = state.agents[systemId.hex] else { throw EncodeError("no simulated agent \(systemId.hex)") }
            defer { state.agents[systemId.hex] = agent }
            return try body(&agent, now)
        }
    }

    var operating: Int { state.withLock { $0.agents.values.filter { $0.state == .operating }.count } }
    var confirmedReports: Int { state.withLock { $0.confirmed } }
    var problems: (count: Int, first: [String]) { state.withLock { ($0.problemCount, $0.problems) } }

    /// A manager reply on `phd/<system id>/manager`, handed to the agent it names.
    func deliver(_ message: IncomingMessage) {
        let parts = message.topic.split(separator: "/")
        guard parts.count == 3, let systemId = SystemId(hex: String(parts[1])) else { return }
        let now = self.now
        let outgoing = state.withLock { state -> [[UInt8]] in
            guard var agent = state.agents[systemId.hex] else {
                state.problem("reply for unknown agent \(systemId.hex)")
                return []
            }
            let step = agent.receive(message.payload, now: now)
            state.agents[systemId.hex] = agent
            for event in step.events {
                switch event {
                case .reportConfirmed: state.confirmed += 1
                case .associated, .configurationAccepted, .mdsAttributesSent: break
                default: state.problem("\(systemId.hex): \(event)")
                }
            }
            return step.outgoing
        }
        let client = sender.withLock { $0 }
        for apdu in outgoing { _ = try? client?.publish(topic: SimulatedPersonalHealthWard.agentTopic(systemId), payload: apdu, qos: 1) }
    }
}
