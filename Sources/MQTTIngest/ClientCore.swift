import CMosquitto
import Foundation
import Logging
import Synchronization
import Timing

#if canImport(Glibc)
import Glibc
#endif

/// The libmosquitto handle. libmosquitto in threaded mode guards its own queues with mutexes,
/// so `publish`, `subscribe`, `unsubscribe` and `disconnect` may be called from any thread;
/// the loop, connect and destroy calls are made only by the network thread or after it ended.
struct MosquittoHandle: @unchecked Sendable {
    let raw: OpaquePointer
}

struct ConnectionStatus: Sendable {
    var isConnected = false
    var isSubscribed = false
    var pendingSubscribeMids: Set<Int32> = []
    var subscriptions: [String]
    var pendingPublishes: Set<Int32> = []
    var statistics = ClientStatistics()
}

/// Everything the C callbacks reach through libmosquitto's userdata pointer.
final class ClientCore: Sendable {
    let settings: MQTTSettings
    let logger: Logger
    let onMessages: MQTTClient.BatchHandler
    let onEvent: MQTTClient.EventHandler
    let handle: MosquittoHandle
    private let state: Mutex<ConnectionStatus>
    /// Messages read in the current read phase, not yet handed to `onMessages`.
    private let pending = Mutex<[IncomingMessage]>([])
    /// Wakes the network loop's `poll` when another thread queued a packet (libmosquitto's own
    /// wake-up pipe is private to `mosquitto_loop`, which this client does not use).
    private let wakePipe: WakePipe
    private let stopping = Atomic<Bool>(false)
    private let disconnectQueued = Atomic<Bool>(false)
    private let started = Atomic<Bool>(false)
    /// Whether the broker resumed our session on the current connection (CONNACK session
    /// present): only then can a message be a redelivery of one we already had.
    private let sessionResumed = Atomic<Bool>(false)
    private let wake = DispatchSemaphore(value: 0)
    private let finished = DispatchSemaphore(value: 0)

    var status: ConnectionStatus { state.withLock { $0 } }

    init(settings: MQTTSettings, subscriptions: [String], logger: Logger,
         onMessages: @escaping MQTTClient.BatchHandler, onEvent: @escaping MQTTClient.EventHandler) throws(MQTTError) {
        self.settings = settings
        self.logger = logger
        self.onMessages = onMessages
        guard let wakePipe = WakePipe() else { throw .setup("cannot create the network loop's wake-up pipe: \(String(cString: strerror(errno)))") }
        self.wakePipe = wakePipe
        self.onEvent = onEvent
        self.state = Mutex(ConnectionStatus(subscriptions: subscriptions))
        guard let raw = mosquitto_new(settings.clientId, settings.cleanStart, nil) else {
            // deinit does not run for an object whose init failed.
            wakePipe.close()
            throw .setup("mosquitto_new failed for client id \"\(settings.clientId)\"")
        }
        handle = MosquittoHandle(raw: raw)
        try configure()
    }

    private func configure() throws(MQTTError) {
        let mosq = handle.raw
        mosquitto_user_data_set(mosq, Unmanaged.passUnretained(self).toOpaque())
        try check(mosquitto_int_option(mosq, MOSQ_OPT_PROTOCOL_VERSION, Int32(settings.protocolVersion.rawValue)), "protocol version")
        try check(mosquitto_threaded_set(mosq, true), "threaded mode")
        // Nagle's algorithm holds a small packet (a PUBACK, an 11073 confirmation) back until the
        // previous one is acknowledged; the broker's in-flight window then waits on our PUBACKs.
        try check(mosquitto_int_option(mosq, MOSQ_OPT_TCP_NODELAY, 1), "TCP_NODELAY")
        if let tls = settings.tls {
            try check(mosquitto_tls_set(mosq, tls.caFile, nil, tls.certFile, tls.keyFile, nil), "TLS files (ca \(tls.caFile))")
            try check(mosquitto_tls_opts_set(mosq, 1, nil, nil), "TLS peer verification")
        }
        if let username = settings.username {
            try check(mosquitto_username_pw_set(mosq, username, settings.password), "credentials")
        }
        mosquitto_connect_v5_callback_set(mosq) { _, userdata, rc, flags, _ in
            ClientCore.from(userdata)?.handleConnect(rc: rc, flags: flags)
        }
        mosquitto_disconnect_v5_callback_set(mosq) { _, userdata, rc, _ in
            ClientCore.from(userdata)?.handleDisconnect(rc: rc)
        }
        mosquitto_subscribe_v5_callback_set(mosq) { _, userdata, mid, count, granted, _ in
            ClientCore.from(userdata)?.handleSubscribe(mid: mid, granted: Array(UnsafeBufferPointer(start: granted, count: Int(count))))
        }
        mosquitto_publish_v5_callback_set(mosq) { _, userdata, mid, _, _ in
            ClientCore.from(userdata)?.handlePublished(mid: mid)
        }
        mosquitto_message_v5_callback_set(mosq) { _, userdata, message, _ in
            guard let message else { return }
            ClientCore.from(userdata)?.handleMessage(message.pointee)
        }
    }

    private static func from(_ userdata: UnsafeMutableRawPointer?) -> ClientCore? {
        userdata.map { Unmanaged<ClientCore>.fromOpaque($0).takeUnretainedValue() }
    }

    private func check(_ rc: Int32, _ what: String) throws(MQTTError) {
        guard rc == MOSQ_ERR_SUCCESS.rawValue else {
            throw .setup("\(what): \(String(cString: mosquitto_strerror(rc)))")
        }
    }

    // MARK: Lifecycle

    func start() {
        guard !started.exchange(true, ordering: .acquiringAndReleasing) else { return }
        let thread = Thread { [self] in
            runLoop()
            finished.signal()
        }
        thread.name = "mqtt-\(settings.clientId)"
        thread.start()
    }

    func stop() {
        guard !stopping.exchange(true, ordering: .acquiringAndReleasing) else { return }
        if started.load(ordering: .acquiring) {
            mosquitto_disconnect(handle.raw)
            disconnectQueued.store(true, ordering: .releasing)
            wakePipe.poke()
            wake.signal()
            finished.wait()
        }
        mosquitto_destroy(handle.raw)
    }

    deinit { wakePipe.close() }

    private var isStopping: Bool { stopping.load(ordering: .acquiring) }

    private var disconnectWritten: Bool {
        disconnectQueued.load(ordering: .acquiring) && !mosquitto_want_write(handle.raw)
    }

    /// Whether the connection's socket has Nagle's algorithm off; nil while there is no socket.
    var socketHasNoDelay: Bool? {
        let socket = mosquitto_socket(handle.raw)
        guard socket >= 0 else { return nil }
        var value: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        guard getsockopt(socket, Int32(IPPROTO_TCP), TCP_NODELAY, &value, &length) == 0 else { return nil }
        return value != 0
    }

    /// Packets read before one commit, so one burst cannot hold every PUBACK back for long.
    static let maxPacketsPerCommit = 256

    /// One pass of the network loop: wait for the socket, read every packet already waiting,
    /// hand the messages they carried to the handler in one call (one journal commit), and only
    /// then write: the PUBACKs libmosquitto queued while reading go out after the commit.
    private func loopOnce() -> Int32 {
        let mosq = handle.raw
        let socket = mosquitto_socket(mosq)
        guard socket >= 0 else { return Int32(MOSQ_ERR_NO_CONN.rawValue) }
        var fds = [
            pollfd(fd: socket, events: Int16(POLLIN) | (mosquitto_want_write(mosq) ? Int16(POLLOUT) : 0), revents: 0),
            pollfd(fd: wakePipe.readEnd, events: Int16(POLLIN), revents: 0),
        ]
        // At least once a second for keepalive (mosquitto_loop_misc).
        if poll(&fds, 2, 1000) < 0, errno != EINTR { return Int32(MOSQ_ERR_ERRNO.rawValue) }
        if fds[1].revents != 0 { wakePipe.drain() }
        if fds[0].revents & Int16(POLLIN | POLLHUP | POLLERR) != 0 {
            var rc = MOSQ_ERR_SUCCESS.rawValue
            var packets = 0
            repeat {
                rc = mosquitto_loop_read(mosq, 1)
                packets += 1
            } while rc == MOSQ_ERR_SUCCESS.rawValue && packets < ClientCore.maxPacketsPerCommit && ClientCore.isReadable(socket)
            // Even when the connection broke mid-burst: what arrived is journaled (its PUBACKs
            // are lost with the socket, so the broker redelivers it and the journal recognises the copy).
            commitPending()
            guard rc == MOSQ_ERR_SUCCESS.rawValue else { return rc }
        }
        if mosquitto_want_write(mosq) {
            let rc = mosquitto_loop_write(mosq, 1)
            guard rc == MOSQ_ERR_SUCCESS.rawValue else { return rc }
        }
        return mosquitto_loop_misc(mosq)
    }

    private static func isReadable(_ socket: Int32) -> Bool {
        var fd = pollfd(fd: socket, events: Int16(POLLIN), revents: 0)
        return poll(&fd, 1, 0) > 0 && fd.revents & Int16(POLLIN) != 0
    }

    private func runLoop() {
        var generator = SystemRandomNumberGenerator()
        var failures = 0
        while !isStopping {
            let rc = connect()
            if rc == MOSQ_ERR_SUCCESS.rawValue {
                var loopRC = MOSQ_ERR_SUCCESS.rawValue
                var stopDeadline: ContinuousClock.Instant?
                while loopRC == MOSQ_ERR_SUCCESS.rawValue {
                    if isStopping {
                        // Write the DISCONNECT that stop() queues, but do not wait on a stuck broker.
                        let deadline = stopDeadline ?? ContinuousClock.now + .seconds(2)
                        stopDeadline = deadline
                        if disconnectWritten || ContinuousClock.now > deadline { break }
                    }
                    loopRC = loopOnce()
                }
                if isStopping { break }
                let wasConnected = markDisconnected()
                if wasConnected { failures = 0 }
                logger.warning("MQTT connection lost", metadata: ["broker": "\(settings.host):\(settings.port)", "reason": "\(String(cString: mosquitto_strerror(loopRC)))"])
            } else {
                logger.warning("MQTT connect failed", metadata: ["broker": "\(settings.host):\(settings.port)", "reason": "\(String(cString: mosquitto_strerror(rc)))"])
                onEvent(.disconnected(reason: String(cString: mosquitto_strerror(rc))))
            }
            failures += 1
            let delay = settings.reconnect.delay(failures: failures, using: &generator)
            _ = wake.wait(timeout: .now() + .nanoseconds(Int(delay.inNanoseconds)))
        }
        markDisconnected()
    }

    private func connect() -> Int32 {
        var properties: OpaquePointer? = nil
        defer { mosquitto_property_free_all(&properties) }
        if settings.protocolVersion == .v5 {
            mosquitto_property_add_int32(&properties, Int32(MQTT_PROP_SESSION_EXPIRY_INTERVAL.rawValue), settings.sessionExpirySeconds)
        }
        return mosquitto_connect_bind_v5(handle.raw, settings.host, Int32(settings.port), Int32(settings.keepAliveSeconds), nil, properties)
    }

    @discardableResult
    private func markDisconnected() -> Bool {
        state.withLock { s in
            let was = s.isConnected
            s.isConnected = false
            s.isSubscribed = false
            s.pendingSubscribeMids = []
            return was
        }
    }

    // MARK: Callbacks (network thread)

    private func handleConnect(rc: Int32, flags: Int32) {
        guard rc == 0 else {
            let reason = String(cString: mosquitto_reason_string(rc))
            logger.error("MQTT broker refused the connection", metadata: ["reason": "\(reason)"])
            onEvent(.refused(reason: reason))
            return
        }
        let sessionPresent = flags & 1 == 1
        sessionResumed.store(sessionPresent, ordering: .relaxed)
        let filters = state.withLock { s in
            s.isConnected = true
            s.statistics.connects += 1
            return s.subscriptions
        }
        logger.info("MQTT connected", metadata: ["broker": "\(settings.host):\(settings.port)", "sessionPresent": "\(sessionPresent)"])
        onEvent(.connected(sessionPresent: sessionPresent))
        subscribe(filters)
    }

    private func subscribe(_ filters: [String]) {
        guard !filters.isEmpty else {
            state.withLock { $0.isSubscribed = true }
            onEvent(.subscribed(filters: []))
            return
        }
        let rc = withCStrings(filters) { pointers in
            // Under the lock, so a SUBACK handled on the network thread finds the mid registered.
            state.withLock { s -> Int32 in
                var mid: Int32 = 0
                let rc = mosquitto_subscribe_multiple(handle.raw, &mid, Int32(filters.count), pointers, 1, 0, nil)
                if rc == MOSQ_ERR_SUCCESS.rawValue { s.pendingSubscribeMids.insert(mid) }
                return rc
            }
        }
        if rc != MOSQ_ERR_SUCCESS.rawValue {
            logger.error("MQTT subscribe failed", metadata: ["reason": "\(String(cString: mosquitto_strerror(rc)))"])
        }
    }

    private func handleSubscribe(mid: Int32, granted: [Int32]) {
        let refused = granted.filter { $0 > 2 }
        if !refused.isEmpty {
            logger.error("MQTT broker refused a subscription", metadata: ["codes": "\(refused)"])
        }
        let (done, filters) = state.withLock { s -> (Bool, [String]) in
            s.pendingSubscribeMids.remove(mid)
            let done = s.pendingSubscribeMids.isEmpty && s.isConnected && refused.isEmpty
            if done { s.isSubscribed = true }
            return (done, s.subscriptions)
        }
        if done { onEvent(.subscribed(filters: filters)) }
    }

    private func handleDisconnect(rc: Int32) {
        state.withLock { $0.statistics.disconnects += 1 }
        markDisconnected()
        onEvent(.disconnected(reason: rc == 0 ? "clean disconnect" : String(cString: mosquitto_strerror(rc))))
    }

    private func handlePublished(mid: Int32) {
        state.withLock { s in
            if s.pendingPublishes.remove(mid) != nil { s.statistics.publishesAcknowledged += 1 }
        }
    }

    private func handleMessage(_ message: mosquitto_message) {
        let receivedAt = Date()
        let topic = message.topic.map { String(cString: $0) } ?? ""
        let length = Int(max(0, message.payloadlen))
        let payload = message.payload.map { Array(UnsafeRawBufferPointer(start: $0, count: length)) } ?? []
        let incoming = IncomingMessage(
            topic: topic, payload: payload, qos: Int(message.qos), retained: message.retain, receivedAt: receivedAt,
            packetId: message.qos > 0 ? Int(message.mid) : nil, sessionResumed: sessionResumed.load(ordering: .relaxed))
        pending.withLock { $0.append(incoming) }
    }

    /// Hands the read phase's messages to the handler; runs before the write phase.
    private func commitPending() {
        let messages = pending.withLock { batch in
            defer { batch = [] }
            return batch
        }
        guard !messages.isEmpty else { return }
        switch onMessages(messages) {
        case .stored:
            state.withLock { $0.statistics.messagesReceived += messages.count }
        case .refused(let reason):
            state.withLock { $0.statistics.messagesRefused += messages.count }
            logger.error("messages not stored; dropping the connection so the broker keeps them", metadata: [
                "messages": "\(messages.count)", "topic": "\(messages[0].topic)", "reason": "\(reason)",
            ])
            // Shut the socket before the write phase sends the queued PUBACKs.
            let fd = mosquitto_socket(handle.raw)
            if fd >= 0 { shutdown(fd, Int32(SHUT_RDWR)) }
        }
    }

    // MARK: Calls from other threads

    func publish(topic: String, payload: [UInt8], qos: Int, retain: Bool) throws(MQTTError) -> Int32 {
        var mid: Int32 = 0
        let rc = payload.withUnsafeBytes { bytes in
            state.withLock { s -> Int32 in
                // Registered under the lock so the acknowledgement cannot race the bookkeeping.
                let rc = mosquitto_publish_v5(handle.raw, &mid, topic, Int32(bytes.count), bytes.baseAddress, Int32(qos), retain, nil)
                if rc == MOSQ_ERR_SUCCESS.rawValue {
                    wakePipe.poke()
                    s.statistics.publishesSent += 1
                    if qos > 0 { s.pendingPublishes.insert(mid) } else { s.statistics.publishesAcknowledged += 1 }
                }
                return rc
            }
        }
        guard rc == MOSQ_ERR_SUCCESS.rawValue else {
            throw .publish("\(topic): \(String(cString: mosquitto_strerror(rc)))")
        }
        return mid
    }

    func updateSubscriptions(_ filters: [String]) {
        let (old, connected) = state.withLock { s -> ([String], Bool) in
            let old = s.subscriptions
            s.subscriptions = filters
            return (old, s.isConnected)
        }
        guard connected else { return }
        let removed = old.filter { !filters.contains($0) }
        let added = filters.filter { !old.contains($0) }
        for filter in removed { mosquitto_unsubscribe(handle.raw, nil, filter) }
        if !added.isEmpty { subscribe(added) }
        wakePipe.poke()
    }
}

/// Calls `body` with a C array of C strings that live for the duration of the call.
func withCStrings<R>(_ strings: [String], _ body: (UnsafePointer<UnsafeMutablePointer<CChar>?>) -> R) -> R {
    let pointers = strings.map { strdup($0) }
    defer { pointers.forEach { free($0) } }
    return pointers.withUnsafeBufferPointer { body($0.baseAddress!) }
}

/// A non-blocking pipe that wakes the network loop's `poll` from other threads.
struct WakePipe: Sendable {
    let readEnd: Int32
    let writeEnd: Int32

    init?() {
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { return nil }
        for fd in fds {
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        }
        readEnd = fds[0]
        writeEnd = fds[1]
    }

    /// A full pipe already means "wake up", so a failed write needs no handling.
    func poke() {
        var byte: UInt8 = 1
        _ = write(writeEnd, &byte, 1)
    }

    func drain() {
        var buffer = [UInt8](repeating: 0, count: 256)
        while read(readEnd, &buffer, buffer.count) > 0 {}
    }

    func close() {
        _ = Glibc.close(readEnd)
        _ = Glibc.close(writeEnd)
    }
}
