import Foundation
import Synchronization

/// Where the 11073 manager's replies are published (the gateway's MQTT client).
public protocol ReplyPublisher: Sendable {
    /// Whether a reply can go out now (the client is connected).
    var isReady: Bool { get }
    /// Publishes one reply; returns whether it went out.
    func publish(topic: String, payload: [UInt8]) -> Bool
}

/// Where the 11073 manager's replies go: its publisher, while that is ready.
///
/// A reply that cannot go out now (the broker is away, or not connected yet after a restart
/// while the processor catches up) is held for as long as its agent may still wait for it
/// (`CutOffReply.decision`), and sent by `flush()` once the publisher is ready again; past that
/// it is dropped, because the agent has aborted by then.
public final class ReplyChannel: Sendable {
    struct HeldReply: Sendable {
        let topic: String
        let payload: [UInt8]
        let deadline: ContinuousClock.Instant
    }

    private let publisher: any ReplyPublisher
    private let held = Mutex<[HeldReply]>([])
    /// More than this many held replies (a long broker outage with many devices) drops the oldest.
    static let maximumHeld = 100_000

    public init(publisher: any ReplyPublisher) {
        self.publisher = publisher
    }

    public enum Delivery: Sendable, Equatable {
        case sent, held, dropped
    }

    /// Sends a reply now, or holds it for `window` (nil: not held, the reply is dropped when it
    /// cannot go out now).
    @discardableResult
    public func send(topic: String, payload: [UInt8], holdingFor window: Duration? = nil) -> Delivery {
        if publisher.isReady, publisher.publish(topic: topic, payload: payload) { return .sent }
        guard let window else { return .dropped }
        hold(HeldReply(topic: topic, payload: payload, deadline: .now + window))
        return .held
    }

    /// Holds a reply to send once the publisher is ready, until `deadline`.
    func hold(topic: String, payload: [UInt8], until deadline: ContinuousClock.Instant) {
        hold(HeldReply(topic: topic, payload: payload, deadline: deadline))
    }

    private func hold(_ reply: HeldReply) {
        held.withLock { held in
            if held.count >= ReplyChannel.maximumHeld { held.removeFirst(held.count - ReplyChannel.maximumHeld + 1) }
            held.append(reply)
        }
    }

    /// Sends the held replies whose agents may still wait for them, oldest first, if the
    /// publisher is ready; drops those past their window. Returns how many went out and how many expired.
    @discardableResult
    public func flush(now: ContinuousClock.Instant = .now) -> (sent: Int, expired: Int) {
        guard heldCount > 0 else { return (0, 0) }
        guard publisher.isReady else { return (0, dropExpired(now: now)) }
        let pending = held.withLock { held in
            defer { held.removeAll() }
            return held
        }
        var sent = 0, expired = 0
        var failed: [HeldReply] = []
        for reply in pending {
            if reply.deadline <= now {
                expired += 1
            } else if publisher.publish(topic: reply.topic, payload: reply.payload) {
                sent += 1
            } else {
                failed.append(reply)
            }
        }
        if !failed.isEmpty { held.withLock { $0.insert(contentsOf: failed, at: 0) } }
        return (sent, expired)
    }

    private func dropExpired(now: ContinuousClock.Instant) -> Int {
        held.withLock { held in
            let before = held.count
            held.removeAll { $0.deadline <= now }
            return before - held.count
        }
    }

    /// Replies waiting for the publisher.
    public var heldCount: Int { held.withLock { $0.count } }
}
