/// Where and as whom the adapter talks to a Fabric Gateway peer. The configuration keys
/// (`ledger.fabric`, docs/ledger-fabric.md) map one to one.
public struct FabricSettings: Sendable, Hashable {
    /// `host:port` of a peer running the Gateway service (Fabric ≥ 2.4).
    public var endpoint: String
    public var mspID: String
    /// The client certificate from the organization's CA and its P-256 key: each the path of a
    /// PEM file, or PEM text itself (`isInlinePEM`).
    public var certificatePath: String
    public var keyPath: String
    public var channel: String
    public var chaincode: String
    /// Without it the connection is plaintext (for tests on loopback only).
    public var tls: TLS?
    /// Organizations whose peers must endorse; empty lets the gateway choose by policy.
    public var endorsingOrganizations: [String]
    public var timeouts: Timeouts

    public struct TLS: Sendable, Hashable {
        /// The CA that signed the peer's TLS certificate; nil trusts the system roots.
        public var caFile: String?
        /// The client TLS certificate and key, for mutual TLS.
        public var certFile: String?
        public var keyFile: String?

        public init(caFile: String? = nil, certFile: String? = nil, keyFile: String? = nil) {
            self.caFile = caFile
            self.certFile = certFile
            self.keyFile = keyFile
        }
    }

    public struct Timeouts: Sendable, Hashable {
        /// Each Endorse, Submit and Evaluate call.
        public var call: Duration
        /// One CommitStatus call (it blocks until the block commits); it is repeated on expiry.
        public var commitStatusCall: Duration
        /// How long a submitted transaction may take to commit before the batch counts as a
        /// retryable failure (the chaincode's idempotency makes the resend safe).
        public var commit: Duration

        public init(call: Duration = .seconds(30), commitStatusCall: Duration = .seconds(10), commit: Duration = .seconds(120)) {
            self.call = call
            self.commitStatusCall = commitStatusCall
            self.commit = commit
        }
    }

    public init(endpoint: String, mspID: String, certificatePath: String, keyPath: String, channel: String, chaincode: String = "wardgate-anchor",
                tls: TLS? = nil, endorsingOrganizations: [String] = [], timeouts: Timeouts = Timeouts()) {
        self.endpoint = endpoint
        self.mspID = mspID
        self.certificatePath = certificatePath
        self.keyPath = keyPath
        self.channel = channel
        self.chaincode = chaincode
        self.tls = tls
        self.endorsingOrganizations = endorsingOrganizations
        self.timeouts = timeouts
    }

    /// PEM text rather than the path of a PEM file.
    public static func isInlinePEM(_ value: String) -> Bool { value.hasPrefix("-----BEGIN ") }

    /// Why `endpoint` is not a `host:port` the adapter can dial; nil when it is.
    public static func endpointProblem(_ endpoint: String) -> String? {
        do {
            _ = try GatewayConnection.target(endpoint)
            return nil
        } catch {
            return "expected host:port such as peer0.hospital.example:7051, 10.0.0.5:7051 or [::1]:7051, found \"\(endpoint)\""
        }
    }

    /// Fabric's channel name rule (`core/config/configtx`): `[a-z][a-z0-9.-]*`, under 250 characters.
    public static func channelNameProblem(_ name: String) -> String? {
        let allowed = name.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "." || $0 == "-" }
        guard let first = name.unicodeScalars.first, ("a"..."z").contains(first), allowed, name.count < 250 else {
            return "a Fabric channel name is lower-case letters, digits, '.' and '-', starting with a letter, found \"\(name)\""
        }
        return nil
    }

    /// Fabric's chaincode name rule (`core/chaincode/lifecycle`): `[a-zA-Z0-9]+([-_][a-zA-Z0-9]+)*`.
    public static func chaincodeNameProblem(_ name: String) -> String? {
        let parts = name.split(separator: "-", omittingEmptySubsequences: false).flatMap { $0.split(separator: "_", omittingEmptySubsequences: false) }
        let valid = parts.allSatisfy { part in !part.isEmpty && part.unicodeScalars.allSatisfy { $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0)) } }
        return valid ? nil : "a chaincode name is letters and digits, joined by single '-' or '_', found \"\(name)\""
    }
}
