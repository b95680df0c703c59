import FabricProtos
import GRPCCore
internal import GRPCNIOTransportHTTP2Posix

/// The gRPC channel to one Gateway peer, plaintext or (m)TLS.
final class GatewayConnection: Sendable {
    let client: GRPCClient<HTTP2ClientTransport.Posix>
    let gateway: Gateway_Gateway.Client<HTTP2ClientTransport.Posix>

    init(settings: FabricSettings) throws(FabricLedgerError) {
        let target = try Self.target(settings.endpoint)
        let security: HTTP2ClientTransport.Posix.TransportSecurity
        if let tls = settings.tls {
            switch (tls.certFile, tls.keyFile) {
            case (let cert?, let key?):
                security = .mTLS(certificateChain: [.file(path: cert, format: .pem)], privateKey: .file(path: key, format: .pem)) { config in
                    if let ca = tls.caFile { config.trustRoots = .certificates([.file(path: ca, format: .pem)]) }
                }
            case (nil, nil):
                security = .tls { config in
                    if let ca = tls.caFile { config.trustRoots = .certificates([.file(path: ca, format: .pem)]) }
                }
            default:
                throw .configuration("ledger.fabric.tls: certFile and keyFile go together (mutual TLS) or not at all")
            }
        } else {
            security = .plaintext
        }
        let transport: HTTP2ClientTransport.Posix
        do {
            transport = try HTTP2ClientTransport.Posix(target: target, transportSecurity: security, config: .defaults { config in
                config.backoff = Self.reconnect
            })
        } catch {
            throw .configuration("cannot set up the connection to \(settings.endpoint): \(error)")
        }
        client = GRPCClient(transport: transport)
        gateway = Gateway_Gateway.Client(wrapping: client)
    }

    /// Reconnecting to a peer that went away: capped at 5 s rather than gRPC's default 2 minutes,
    /// so a peer that returns is used within seconds (how often batches are retried meanwhile is
    /// the forwarder's backoff, `ledger.retry`).
    static let reconnect = HTTP2ClientTransport.Config.Backoff(initial: .milliseconds(250), max: .seconds(5), multiplier: 1.6, jitter: 0.2)

    /// `host:port`, `a.b.c.d:port` or `[v6]:port`.
    static func target(_ endpoint: String) throws(FabricLedgerError) -> any ResolvableTarget {
        guard let colon = endpoint.lastIndex(of: ":"), let port = Int(endpoint[endpoint.index(after: colon)...]), (1...65535).contains(port) else {
            throw .configuration("ledger.fabric.endpoint \"\(endpoint)\" is not host:port")
        }
        var host = String(endpoint[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") {
            host = String(host.dropFirst().dropLast())
            return .ipv6(address: host, port: port)
        }
        guard !host.isEmpty else { throw .configuration("ledger.fabric.endpoint \"\(endpoint)\" has no host") }
        let isIPv4 = host.split(separator: ".").count == 4 && host.split(separator: ".").allSatisfy { UInt8($0) != nil }
        return isIPv4 ? .ipv4(address: host, port: port) : .dns(host: host, port: port)
    }
}

/// Why the Fabric adapter cannot start.
public enum FabricLedgerError: Error, Sendable, CustomStringConvertible {
    case configuration(String)

    public var description: String {
        switch self {
        case .configuration(let reason): "Fabric ledger: \(reason)"
        }
    }
}
