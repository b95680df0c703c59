import Foundation
import IEEE11073
import Logging
import MQTTIngest
import Observations
import Synchronization

/// A simulated IEEE 11073-20601 agent speaking to the gateway over MQTT: it publishes its APDUs
/// on `phd/<topic device>/agent` and reacts to the manager's replies on `phd/<topic device>/manager`.
///
/// The topic device is the System-Id in hex (`0011223344556677`) unless given. Behind the shipped
/// broker ACL an agent authenticates with its device certificate (`tls`), whose CN is its
/// enrolled device id (`00-11-22-33-44-55-66-77`), and may use only the topics of that CN: pass
/// the device id as `topicDevice` then.
public final class MQTTPersonalHealthAgent: Sendable {
    public let systemId: SystemId
    public let agentTopic: String
    public let managerTopic: String
    private let box: AgentBox
    private let client: MQTTClient
    private let origin = ContinuousClock.now

    public var deviceId: String { PHDDeviceIdentifier.value(for: systemId) }

    public init(specialization: AgentSpecialization, systemId: SystemId, brokerPort: Int, logger: Logger, seed: UInt64 = 1,
                tls: MQTTSettings.TLS? = nil, topicDevice: String? = nil) throws {
        self.systemId = systemId
        let box = AgentBox(try SimulatedAgent(specialization: specialization, systemId: systemId,
                                              utcOffsetSeconds: TimeZone.current.secondsFromGMT(), seed: seed))
        self.box = box
        let origin = self.origin
        let topic = "phd/\(topicDevice ?? systemId.hex)/agent"
        let replyTopic = "phd/\(topicDevice ?? systemId.hex)/manager"
        agentTopic = topic
        managerTopic = replyTopic
        client = try MQTTClient(
            settings: MQTTSettings(port: brokerPort, clientId: "phd-agent-\(systemId.hex)", tls: tls, cleanStart: true),
            subscriptions: [replyTopic], logger: logger
        ) { message in
            let step = box.agent.withLock { $0.receive(message.payload, now: ContinuousClock.now - origin) }
            box.events.withLock { $0 += step.events }
            // The agent's answers (its configuration report after accepted-unknown-config).
            let sender = box.outbox.withLock { $0 }
            for apdu in step.outgoing { _ = try? sender?.publish(topic: topic, payload: apdu, qos: 1) }
            return .stored
        }
        box.outbox.withLock { $0 = client }
        client.start()
    }

    private var now: Duration { ContinuousClock.now - origin }

    public var state: SimulatedAgent.State { box.agent.withLock { $0.state } }
    public var confirmedReports: Int { box.agent.withLock { $0.confirmedReports } }
    /// Scan reports published so far (`sendMeasurement`).
    public var sentReports: Int { box.sent.load(ordering: .relaxed) }
    public var receivedEvents: [SimulatedAgent.Event] { box.events.withLock { $0 } }

    /// Associates (sending the configuration if the manager asks for it); true once operating.
    public func associate(timeout: Duration = .seconds(60)) async throws -> Bool {
        guard await client.waitUntilReady(timeout: .seconds(60)) else { return false }
        let aarq = try box.agent.withLock { agent throws(EncodeError) in try agent.associationRequest(now: now) }
        try client.publish(topic: agentTopic, payload: aarq, qos: 1)
        return await wait(timeout: timeout) { self.state == .operating }
    }

    /// Sends one confirmed scan report with current values; returns the readings a correct
    /// manager must produce from it.
    public func sendMeasurement(at time: Date = Date()) throws -> [Reading] {
        let measurement = try box.agent.withLock { agent throws(EncodeError) in try agent.measurement(wallClock: time, now: now) }
        try client.publish(topic: agentTopic, payload: measurement.apdu, qos: 1)
        box.sent.add(1, ordering: .relaxed)
        return measurement.expectedReadings
    }

    /// Waits until `count` reports were confirmed by the manager.
    public func waitForConfirmations(_ count: Int, timeout: Duration) async -> Bool {
        await wait(timeout: timeout) { self.confirmedReports >= count }
    }

    public func release(timeout: Duration = .seconds(60)) async throws -> Bool {
        let rlrq = try box.agent.withLock { agent throws(EncodeError) in try agent.releaseRequest(now: now) }
        try client.publish(topic: agentTopic, payload: rlrq, qos: 1)
        return await wait(timeout: timeout) { self.state == .unassociated }
    }

    /// Publishes raw bytes on the agent topic (fault injection).
    public func publishRaw(_ bytes: [UInt8]) throws { try client.publish(topic: agentTopic, payload: bytes, qos: 1) }

    public func stop() { client.stop() }

    private func wait(timeout: Duration, _ condition: @Sendable () -> Bool) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if condition() { return true }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return condition()
    }
}

/// The simulated agent's state, shared with the MQTT callback by reference.
private final class AgentBox: Sendable {
    let agent: Mutex<SimulatedAgent>
    let events = Mutex<[SimulatedAgent.Event]>([])
    let outbox = Mutex<MQTTClient?>(nil)
    let sent = Atomic<Int>(0)

    init(_ agent: SimulatedAgent) { self.agent = Mutex(agent) }
}
