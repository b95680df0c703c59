import Processing

/// A reply publisher that is always ready and hands every reply to `send` (tests of the 11073
/// manager, without a broker).
public struct ImmediateReplyPublisher: ReplyPublisher {
    let send: @Sendable (String, [UInt8]) -> Void

    public init(_ send: @escaping @Sendable (String, [UInt8]) -> Void) {
        self.send = send
    }

    public var isReady: Bool { true }

    public func publish(topic: String, payload: [UInt8]) -> Bool {
        send(topic, payload)
        return true
    }
}

extension ReplyChannel {
    /// A channel whose replies all go to `send` at once.
    public convenience init(_ send: @escaping @Sendable (String, [UInt8]) -> Void) {
        self.init(publisher: ImmediateReplyPublisher(send))
    }
}
