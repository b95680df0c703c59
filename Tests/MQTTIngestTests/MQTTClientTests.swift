import Foundation
import Logging
@testable import MQTTIngest
import Simulation
import Synchronization
import Testing
import Timing

@Suite("MQTT client over a real mosquitto")
struct MQTTClientTests {
    let logger = Logger(label: "test.mqtt")

    @Test("the socket has Nagle's algorithm off: a PUBACK or an 11073 reply is not held back for the previous one's ACK")
    func noDelay() async throws {
        let broker = try PrivateBroker.start()
        defer { broker.stop() }
        let client = try MQTTClient(settings: MQTTSettings(port: broker.port, clientId: "no-delay", cleanStart: true), logger: logger)
        #expect(client.socketHasNoDelay == nil, "no socket before the connection")
        client.start()
        defer { client.stop() }
        #expect(await client.waitUntilReady(timeout: .seconds(60)))
        #expect(client.socketHasNoDelay == true)
    }

    @Test("a message whose commit is refused is not acknowledged: the broker redelivers it")
    func refusedMessageIsRedelivered() async throws {
        let broker = try PrivateBroker.start()
        defer { broker.stop() }
        let deliveries = Mutex<[String]>([])
        let refuseFirst = Atomic<Int>(2)
        let settings = MQTTSettings(port: broker.port, clientId: "refusing-subscriber", reconnect: Backoff(initial: .milliseconds(20), maximum: .milliseconds(200), jitter: .half))
        let subscriber = try MQTTClient(settings: settings, subscriptions: ["t/#"], logger: logger) { message in
            let text = String(decoding: message.payload, as: UTF8.self)
            deliveries.withLock { $0.append(text) }
            // The first two deliveries fail to "commit", as a full disk would.
            if refuseFirst.subtract(1, ordering: .relaxed).newValue >= 0 { return .refused("simulated disk failure") }
            return .stored
        }
        subscriber.start()
        defer { subscriber.stop() }
        #expect(await subscriber.waitUntilReady(timeout: .seconds(60)))

        let publisher = try MQTTClient(settings: MQTTSettings(port: broker.port, clientId: "publisher", cleanStart: true), logger: logger)
        publisher.start()
        defer { publisher.stop() }
        #expect(await publisher.waitUntilReady(timeout: .seconds(60)))
        try publisher.publish(topic: "t/1", payload: Array("reading-1".utf8), qos: 1)
        #expect(await publisher.waitForPublishes(timeout: .seconds(60)))

        let deadline = ContinuousClock.now + .seconds(20)
        while ContinuousClock.now < deadline, subscriber.statistics.messagesReceived < 1 {
            try await Task.sleep(for: .milliseconds(20))
        }
        let seen = deliveries.withLock { $0 }
        // Refused twice, so delivered at least three times; stored exactly once.
        #expect(seen.count >= 3)
        #expect(Set(seen) == ["reading-1"])
        #expect(subscriber.statistics.messagesReceived == 1)
        #expect(subscriber.statistics.messagesRefused == 2)
        #expect(subscriber.statistics.connects >= 3)
    }

    @Test("messages that arrive together are committed together; a refused group is redelivered whole, none of it acknowledged")
    func groupCommit() async throws {
        let broker = try PrivateBroker.start()
        defer { broker.stop() }
        struct Seen { var calls = 0; var groups: [[String]] = []; var refused: [String] = [] }
        let seen = Mutex(Seen())
        let settings = MQTTSettings(port: broker.port, clientId: "grouping-subscriber", reconnect: Backoff(initial: .milliseconds(20), maximum: .milliseconds(200), jitter: .half))
        let subscriber = try MQTTClient.committingBatches(settings: settings, subscriptions: ["g/#"], logger: logger) { messages in
            let texts = messages.map { String(decoding: $0.payload, as: UTF8.self) }
            let call = seen.withLock { state -> Int in
                state.calls += 1
                return state.calls
            }
            // The first commit is slow (a busy disk): what the broker sends meanwhile piles up
            // in the socket and is read as one group.
            if call == 1 { usleep(300_000) }
            // The first group of more than one message fails to commit, as a full disk would.
            let refuse = seen.withLock { state -> Bool in
                if texts.count > 1, state.refused.isEmpty {
                    state.refused = texts
                    return true
                }
                state.groups.append(texts)
                return false
            }
            return refuse ? .refused("simulated disk failure") : .stored
        }
        subscriber.start()
        defer { subscriber.stop() }
        #expect(await subscriber.waitUntilReady(timeout: .seconds(60)))

        let publisher = try MQTTClient(settings: MQTTSettings(port: broker.port, clientId: "group-publisher", cleanStart: true), logger: logger)
        publisher.start()
        defer { publisher.stop() }
        #expect(await publisher.waitUntilReady(timeout: .seconds(60)))
        let published = (0..<200).map { "m\($0)" }
        for text in published { try publisher.publish(topic: "g/1", payload: Array(text.utf8), qos: 1) }
        #expect(await publisher.waitForPublishes(timeout: .seconds(60)))

        let deadline = ContinuousClock.now + .seconds(20)
        while ContinuousClock.now < deadline, Set(seen.withLock { $0.groups.flatMap { $0 } }).count < published.count {
            try await Task.sleep(for: .milliseconds(20))
        }
        let state = seen.withLock { $0 }
        let stored = state.groups.flatMap { $0 }
        #expect(Set(stored) == Set(published), "every message is stored")
        #expect(state.groups.contains { $0.count > 1 }, "no group of more than one message was ever committed: \(state.groups.map(\.count))")
        // Every message of the refused group came again: not one PUBACK of it left the client.
        #expect(state.refused.count > 1)
        #expect(Set(state.refused).isSubset(of: Set(stored)))
        #expect(subscriber.statistics.messagesRefused == state.refused.count)
        #expect(subscriber.statistics.messagesReceived == stored.count)
    }

    @Test("a persistent session keeps messages published while the subscriber is away", arguments: [MQTTSettings.ProtocolVersion.v5, .v311])
    func persistentSession(version: MQTTSettings.ProtocolVersion) async throws {
        let broker = try PrivateBroker.start()
        defer { broker.stop() }
        let received = Mutex<[String]>([])
        let settings = MQTTSettings(port: broker.port, clientId: "persistent-\(version.rawValue)", protocolVersion: version)
        func makeSubscriber() throws -> MQTTClient {
            try MQTTClient(settings: settings, subscriptions: ["p/+"], logger: logger) { message in
                received.withLock { $0.append(String(decoding: message.payload, as: UTF8.self)) }
                return .stored
            }
        }
        let first = try makeSubscriber()
        first.start()
        #expect(await first.waitUntilReady(timeout: .seconds(60)))
        first.stop()

        let publisher = try MQTTClient(settings: MQTTSettings(port: broker.port, clientId: "pub-\(version.rawValue)", protocolVersion: version, cleanStart: true), logger: logger)
        publisher.start()
        defer { publisher.stop() }
        #expect(await publisher.waitUntilReady(timeout: .seconds(60)))
        for i in 0..<50 { try publisher.publish(topic: "p/x", payload: Array("m\(i)".utf8)) }
        #expect(await publisher.waitForPublishes(timeout: .seconds(60)))

        let second = try makeSubscriber()
        second.start()
        defer { second.stop() }
        let deadline = ContinuousClock.now + .seconds(10)
        while ContinuousClock.now < deadline, received.withLock({ $0.count }) < 50 {
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(Set(received.withLock { $0 }) == Set((0..<50).map { "m\($0)" }))
    }

    @Test("the client reconnects and resubscribes after the broker restarts")
    func reconnectAfterBrokerRestart() async throws {
        let broker = try PrivateBroker.start()
        defer { broker.stop() }
        let received = Atomic<Int>(0)
        let settings = MQTTSettings(port: broker.port, clientId: "reconnecting", reconnect: Backoff(initial: .milliseconds(50), maximum: .milliseconds(500), jitter: .half))
        let subscriber = try MQTTClient(settings: settings, subscriptions: ["r/#"], logger: logger) { _ in
            received.add(1, ordering: .relaxed)
            return .stored
        }
        subscriber.start()
        defer { subscriber.stop() }
        #expect(await subscriber.waitUntilReady(timeout: .seconds(60)))
        try broker.restart()
        // After the restart the client must come back on its own, without a call from us.
        #expect(await subscriber.waitUntilReady(timeout: .seconds(60)))
        #expect(subscriber.statistics.connects >= 2)

        let publisher = try MQTTClient(settings: MQTTSettings(port: broker.port, clientId: "pub-r", cleanStart: true), logger: logger)
        publisher.start()
        defer { publisher.stop() }
        #expect(await publisher.waitUntilReady(timeout: .seconds(60)))
        try publisher.publish(topic: "r/1", payload: [1, 2, 3])
        let deadline = ContinuousClock.now + .seconds(10)
        while ContinuousClock.now < deadline, received.load(ordering: .relaxed) < 1 { try await Task.sleep(for: .milliseconds(20)) }
        #expect(received.load(ordering: .relaxed) == 1)
    }
}
