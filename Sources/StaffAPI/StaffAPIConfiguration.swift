import Foundation

/// How the staff HTTP API listens and whom it lets in.
///
/// Loopback by default. A non-loopback address needs a bearer token or mTLS (client
/// certificates verified against `tls.clientCAFile`); without either the server refuses to start.
public struct StaffAPIConfiguration: Sendable, Hashable {
    public struct TLS: Sendable, Hashable {
        /// The server's certificate chain (PEM).
        public var certFile: String
        /// The server's private key (PEM).
        public var keyFile: String
        /// When set, every client must present a certificate issued by this CA (mTLS): the TLS
        /// handshake fails without one.
        public var clientCAFile: String?

        public init(certFile: String, keyFile: String, clientCAFile: String? = nil) {
            self.certFile = certFile
            self.keyFile = keyFile
            self.clientCAFile = clientCAFile
        }
    }

    /// A token bucket per client address: `burst` requests at once, refilled at `requestsPerSecond`.
    public struct RateLimit: Sendable, Hashable {
        public var requestsPerSecond: Double
        public var burst: Int

        public init(requestsPerSecond: Double = 20, burst: Int = 40) {
            self.requestsPerSecond = requestsPerSecond
            self.burst = burst
        }
    }

    public var host: String
    /// 0 asks the kernel for a free port (tests); the bound port is returned by `start()`.
    public var port: Int
    /// Required as `Authorization: Bearer <token>` on every route but `/healthz` when set.
    public var bearerToken: String?
    public var tls: TLS?
    public var rateLimit: RateLimit
    /// The largest `_count` a search may ask for.
    public var maxPageSize: Int
    /// The page size when a search gives no `_count`.
    public var defaultPageSize: Int
    /// A connection that carries no request for this long is closed: before its first request
    /// (a client that connects and says nothing, or sends half a request head), and between
    /// keep-alive requests. `http.idleTimeout`.
    public var idleTimeout: Duration
    public static let defaultIdleTimeout: Duration = .seconds(60)

    public init(host: String = "127.0.0.1", port: Int = 8080, bearerToken: String? = nil, tls: TLS? = nil,
                rateLimit: RateLimit = RateLimit(), maxPageSize: Int = 1000, defaultPageSize: Int = 100,
                idleTimeout: Duration = StaffAPIConfiguration.defaultIdleTimeout) {
        self.host = host
        self.port = port
        self.bearerToken = bearerToken
        self.tls = tls
        self.rateLimit = rateLimit
        self.maxPageSize = maxPageSize
        self.defaultPageSize = defaultPageSize
        self.idleTimeout = idleTimeout
    }

    /// `127.0.0.1:8080`, `[::1]:8080`, `localhost:8080`, `0.0.0.0:8443`. Returns nil when the
    /// text is not host:port with a port in 0–65535.
    public static func parseListen(_ text: String) -> (host: String, port: Int)? {
        let host: Substring
        let portText: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]"), text[text.index(after: close)...].hasPrefix(":") else { return nil }
            host = text[text.index(after: text.startIndex)..<close]
            portText = text[text.index(close, offsetBy: 2)...]
        } else {
            guard let colon = text.lastIndex(of: ":"), !text[..<colon].contains(":") else { return nil }
            host = text[..<colon]
            portText = text[text.index(after: colon)...]
        }
        guard !host.isEmpty, !host.contains(where: \.isWhitespace), let port = Int(portText), (0...65535).contains(port) else { return nil }
        return (String(host), port)
    }

    /// Whether `host` can only be reached from this machine.
    public static func isLoopback(_ host: String) -> Bool {
        let h = host.lowercased()
        if h == "localhost" || h == "::1" || h == "0:0:0:0:0:0:0:1" { return true }
        let parts = h.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4 && parts[0] == "127" && parts.allSatisfy { UInt8($0) != nil }
    }

    public var isLoopback: Bool { StaffAPIConfiguration.isLoopback(host) }

    /// Whether requests are authenticated at all (token or client certificate).
    public var authenticates: Bool { bearerToken != nil || tls?.clientCAFile != nil }

    /// Every reason this configuration must not be served; empty when it may.
    public func problems() -> [String] {
        var problems: [String] = []
        if !isLoopback && !authenticates {
            problems.append("listening on \(host), which is not loopback, needs a bearer token (bearerTokenFile) or mTLS (tls.clientCAFile)")
        }
        if let token = bearerToken, token.count < 16 {
            problems.append("the bearer token must be at least 16 characters")
        }
        if !(rateLimit.requestsPerSecond > 0) || !rateLimit.requestsPerSecond.isFinite {
            problems.append("rateLimit.requestsPerSecond must be a positive number")
        }
        if rateLimit.burst < 1 { problems.append("rateLimit.burst must be at least 1") }
        if maxPageSize < 1 { problems.append("maxPageSize must be at least 1") }
        if !(1...max(1, maxPageSize)).contains(defaultPageSize) { problems.append("defaultPageSize must be 1–maxPageSize") }
        if idleTimeout <= .zero { problems.append("idleTimeout must be longer than 0 s") }
        return problems
    }
}

public enum StaffAPIError: Error, Sendable, CustomStringConvertible, Equatable {
    /// The configuration would expose the API without authentication, or is inconsistent.
    case refused([String])
    /// The TLS certificate, key or client CA could not be loaded.
    case tls(String)
    /// The address could not be bound.
    case cannotListen(String)

    public var description: String {
        switch self {
        case .refused(let problems): "HTTP API refused to start: " + problems.joined(separator: "; ")
        case .tls(let reason): "HTTP API TLS: \(reason)"
        case .cannotListen(let reason): "HTTP API cannot listen: \(reason)"
        }
    }
}
