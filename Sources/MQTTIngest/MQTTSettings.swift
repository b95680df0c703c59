import Timing

/// How to reach the broker. Mirrors the `mqtt:` section of the configuration. `reconnect` is
/// half-jittered: each delay lies in [½·ceiling, ceiling].
public struct MQTTSettings: Sendable, Hashable {
    public enum ProtocolVersion: Int, Sendable, Hashable {
        case v311 = 4
        case v5 = 5
    }

    public struct TLS: Sendable, Hashable {
        /// CA bundle that signs the broker's certificate.
        public var caFile: String
        /// Client certificate and key for mTLS; both or neither.
        public var certFile: String?
        public var keyFile: String?

        public init(caFile: String, certFile: String? = nil, keyFile: String? = nil) {
            self.caFile = caFile
            self.certFile = certFile
            self.keyFile = keyFile
        }
    }

    public var host: String
    public var port: Int
    public var clientId: String
    public var protocolVersion: ProtocolVersion
    public var tls: TLS?
    public var username: String?
    public var password: String?
    public var keepAliveSeconds: Int
    /// MQTT 5 session expiry: how long the broker keeps our subscriptions and queued
    /// messages while we are away. MQTT 3.1.1 keeps a persistent session until cleaned.
    public var sessionExpirySeconds: UInt32
    /// A persistent session (clean start off) is what makes the broker redeliver after a crash.
    public var cleanStart: Bool
    public var reconnect: Backoff

    public init(
        host: String = "127.0.0.1", port: Int = 1883, clientId: String, protocolVersion: ProtocolVersion = .v5,
        tls: TLS? = nil, username: String? = nil, password: String? = nil, keepAliveSeconds: Int = 30,
        sessionExpirySeconds: UInt32 = 7 * 24 * 3600, cleanStart: Bool = false, reconnect: Backoff = Backoff(jitter: .half)
    ) {
        self.host = host
        self.port = port
        self.clientId = clientId
        self.protocolVersion = protocolVersion
        self.tls = tls
        self.username = username
        self.password = password
        self.keepAliveSeconds = keepAliveSeconds
        self.sessionExpirySeconds = sessionExpirySeconds
        self.cleanStart = cleanStart
        self.reconnect = reconnect
    }
}
