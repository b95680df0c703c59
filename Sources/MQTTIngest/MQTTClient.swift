import CMosquitto
import Foundation
import Logging
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// A libmosquitto client that acknowledges a message only after its handler stored it.
///
/// libmosquitto 2.0 in threaded mode queues the PUBACK of an incoming QoS 1 message before
/// `on_message` and writes queued packets only in the loop's write phase. The client runs that
/// loop itself: it reads every packet already waiting on the socket, hands the messages they
/// carried to the handler *in one call* (one journal commit for a burst), and only then writes.
/// When the handler cannot store them, the socket is shut down before the write phase, the
/// queued PUBACKs are discarded on reconnect, and the broker redelivers the messages on our
/// persistent session.
public final class MQTTClient: Sendable {
    public typealias MessageHandler = @Sendable (IncomingMessage) -> MessageDisposition
    /// Gets the messages of one read phase, oldest first; `.stored` means all of them are durable.
    public typealias BatchHandler = @Sendable ([IncomingMessage]) -> MessageDisposition
    public typealias EventHandler = @Sendable (ConnectionEvent) -> Void

    private let core: ClientCore

    /// A client whose handler takes one message at a time (a refusal refuses the rest of the
    /// read phase too: none of it is acknowledged).
    ///
    /// - Parameters:
    ///   - subscriptions: topic filters subscribed at QoS 1 on every (re)connect.
    ///   - onMessage: runs on the client's network thread; must return only once the message
    ///     is durable (or refused).
    public convenience init(
        settings: MQTTSettings, subscriptions: [String] = [], logger: Logger,
        onMessage: @escaping MessageHandler = { _ in .stored }, onEvent: @escaping EventHandler = { _ in }
    ) throws(MQTTError) {
        try self.init(settings: settings, subscriptions: subscriptions, logger: logger, onEvent: onEvent, batches: { messages in
            for message in messages {
                if case .refused(let reason) = onMessage(message) { return .refused(reason) }
            }
            return .stored
        })
    }

    /// A client whose handler gets the messages of one read phase at once, so a burst costs
    /// one durable commit.
    ///
    /// - Parameter onMessages: runs on the client's network thread; must return only once all
    ///   of the messages are durable (or refused).
    public static func committingBatches(
        settings: MQTTSettings, subscriptions: [String] = [], logger: Logger,
        onEvent: @escaping EventHandler = { _ in }, onMessages: @escaping BatchHandler
    ) throws(MQTTError) -> MQTTClient {
        try MQTTClient(settings: settings, subscriptions: subscriptions, logger: logger, onEvent: onEvent, batches: onMessages)
    }

    private init(
        settings: MQTTSettings, subscriptions: [String], logger: Logger, onEvent: @escaping EventHandler, batches: @escaping BatchHandler
    ) throws(MQTTError) {
        LibraryInit.ensure()
        core = try ClientCore(settings: settings, subscriptions: subscriptions, logger: logger, onMessages: batches, onEvent: onEvent)
    }

    deinit { core.stop() }

    /// Starts the network thread; it connects, and reconnects with backoff until `stop()`.
    public func start() { core.start() }

    /// Disconnects cleanly and waits for the network thread to finish.
    public func stop() { core.stop() }

    public var isConnected: Bool { core.status.isConnected }
    /// True once every filter of the current connection has been acknowledged by the broker.
    public var isSubscribed: Bool { core.status.isSubscribed }
    public var statistics: ClientStatistics { core.status.statistics }

    /// Replaces the subscriptions without dropping the session (used on reload).
    public func updateSubscriptions(_ filters: [String]) { core.updateSubscriptions(filters) }

    /// Publishes; thread-safe. QoS 1 publishes are tracked until the broker acknowledges them.
    @discardableResult
    public func publish(topic: String, payload: [UInt8], qos: Int = 1, retain: Bool = false) throws(MQTTError) -> Int32 {
        try core.publish(topic: topic, payload: payload, qos: qos, retain: retain)
    }

    /// Whether the connection's socket has Nagle's algorithm off (nil while not connected).
    var socketHasNoDelay: Bool? { core.socketHasNoDelay }

    /// Publishes not yet acknowledged by the broker.
    public var unacknowledgedPublishes: Int { core.status.statistics.publishesOutstanding }

    /// Waits (polling) until the client is connected and subscribed, or the timeout passes.
    public func waitUntilReady(timeout: Duration) async -> Bool {
        await poll(timeout: timeout) { self.isConnected && self.isSubscribed }
    }

    /// Waits until every publish so far was acknowledged, or the timeout passes.
    public func waitForPublishes(timeout: Duration) async -> Bool {
        await poll(timeout: timeout) { self.unacknowledgedPublishes == 0 }
    }

    private func poll(timeout: Duration, _ condition: @Sendable () -> Bool) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if condition() { return true }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return condition()
    }
}

public struct ClientStatistics: Sendable, Equatable {
    public var messagesReceived = 0
    public var messagesRefused = 0
    public var connects = 0
    public var disconnects = 0
    public var publishesSent = 0
    public var publishesAcknowledged = 0
    public var publishesOutstanding: Int { publishesSent - publishesAcknowledged }
}

public enum MQTTError: Error, Sendable, CustomStringConvertible {
    case setup(String)
    case publish(String)

    public var description: String {
        switch self {
        case .setup(let reason): "MQTT setup failed: \(reason)"
        case .publish(let reason): "MQTT publish failed: \(reason)"
        }
    }
}

enum LibraryInit {
    private static let once: Void = {
        mosquitto_lib_init()
        // A peer closing the socket must be an error code, not a process-killing signal.
        signal(SIGPIPE, SIG_IGN)
    }()

    static func ensure() { once }
}
