import EmbeddedLedger
import FabricLedger
import Foundation
import Gateway
import Ledger
import Logging
import WardgateTestSupport

/// Where `wardgate demo` and `wardgate bench` anchor: the embedded ledger, or the Fabric peer
/// test double.
public enum ToolLedgerKind: String, Sendable, CaseIterable {
    case embedded
    case fabric
}

/// Makes the ledger of `kind`, configuring the gateway for it: the embedded one, or the Fabric
/// double (whose gateway certificate registration follows the configuration's `transparencyLog` section).
func makeToolLedger(_ kind: ToolLedgerKind, config: inout GatewayConfig, logger: Logger, fabricCommitDelayMs: Int = 300) throws -> any ToolLedger {
    switch kind {
    case .embedded:
        return try EmbeddedToolLedger(config: config, logger: logger)
    case .fabric:
        guard let log = config.log else { throw ToolLedgerError("anchoring needs the transparencyLog section: without a gateway key nothing is signed") }
        let fabric = try FabricDoubleLedger(origin: log.origin, gatewayCertificate: log.gatewayCertificate, commitDelayMs: fabricCommitDelayMs)
        fabric.configure(&config)
        return fabric
    }
}

/// The demo's and the bench's ledger: how the gateway is configured for it, how the tool cuts it
/// off for a while (the demo's outage, the bench's backlog), and what the summary says of it.
protocol ToolLedger: Sendable {
    /// The ledger the gateway uses instead of the configured one, if any.
    var override: (any LedgerClient)? { get }
    /// One line for the start of the demo.
    var description: String { get }
    func setDown(_ down: Bool) async throws
    /// What the ledger holds, and whether it is consistent.
    func summary() throws -> (anchors: UInt64, intact: Bool, what: String)
    func stop()
}

/// The real embedded ledger, wrapped so the tool can simulate an outage and show the outbox
/// holding batches and draining them in order when it returns.
struct EmbeddedToolLedger: ToolLedger {
    let embedded: EmbeddedLedger
    let outage: OutageSimulatingLedger

    init(config: GatewayConfig, logger: Logger) throws {
        embedded = try Gateway.embeddedLedger(config: config, logger: logger)
        outage = OutageSimulatingLedger(wrapping: embedded)
    }

    var override: (any LedgerClient)? { outage }
    var description: String { "embedded ledger at \(embedded.path) (key id \(embedded.keyID))" }
    func setDown(_ down: Bool) { outage.isDown = down }

    func summary() throws -> (anchors: UInt64, intact: Bool, what: String) {
        let chain = try embedded.verifyChain()
        return (chain.blocks, chain.isIntact, "ledger blocks")
    }

    func stop() {}
}

/// The Fabric peer test double (Python, `WardgateTestSupport/Fabric/fabric_test_peer.py`; needs
/// `scripts/install-deps`), with its own test CAs, over mutual TLS; the gateway builds its real
/// `FabricLedger` from the configuration. An outage is the double killed, then restarted with
/// its world state.
final class FabricDoubleLedger: ToolLedger, @unchecked Sendable {
    // @unchecked: the one mutable member, `peer`, is only read and replaced under `lock`.
    private let lock = NSLock()
    private let fixture: FabricFixture
    private let gatewayCertificate: String
    private let commitDelayMs: Int
    private var peer: FabricTestPeer?
    let port: Int
    private var statePath: String { fixture.directory.file("channel-state.json") }

    init(origin: String, gatewayCertificate: String, commitDelayMs: Int = 300) throws {
        guard FileManager.default.fileExists(atPath: FabricTestPeer.script) else {
            throw ToolLedgerError("the Fabric peer test double is not at \(FabricTestPeer.script): demo --ledger fabric runs from a source checkout")
        }
        let probe = try ProcessRunner.run("/usr/bin/env", ["python3", "-c", "import grpc, fabric_protos"])
        guard probe.status == 0 else {
            throw ToolLedgerError("the Fabric peer test double needs Python grpcio and hyperledger-fabric-protos (scripts/install-deps): \(probe.stderr)")
        }
        fixture = try FabricFixture(origin: origin)
        self.gatewayCertificate = gatewayCertificate
        self.commitDelayMs = commitDelayMs
        let first = try FabricTestPeer(arguments: Self.arguments(fixture, gatewayCertificate, statePath: fixture.directory.file("channel-state.json"), commitDelayMs),
                                       in: fixture.directory)
        peer = first
        port = first.port
    }

    private static func arguments(_ fixture: FabricFixture, _ certificate: String, statePath: String, _ delay: Int) -> [String] {
        fixture.peerArguments(state: statePath, tls: true, mutualTLS: true, gatewayCertificate: certificate, extra: ["--commit-delay-ms", "\(delay)"])
    }

    /// `ledger.kind: fabric`, as an operator would write it, pointing at the double.
    func configure(_ config: inout GatewayConfig) {
        let files = fixture.directory
        config.ledger.kind = .fabric
        config.ledger.fabric = FabricSettings(
            endpoint: "127.0.0.1:\(port)", mspID: FabricFixture.wardMSP, certificatePath: files.file("client.pem"), keyPath: files.file("client.key"),
            channel: "wards", chaincode: "wardgate-anchor",
            tls: .init(caFile: files.file("tls-ca.pem"), certFile: files.file("tls-client.pem"), keyFile: files.file("tls-client.key")),
            timeouts: .init(call: .seconds(10), commitStatusCall: .seconds(5), commit: .seconds(20)))
        config.ledger.retryMaximum = .seconds(2)
        config.ledger.healthProbe = .milliseconds(250)
    }

    var override: (any LedgerClient)? { nil }
    var description: String {
        "Fabric peer TEST DOUBLE on 127.0.0.1:\(port) (mutual TLS, channel wards, chaincode wardgate-anchor, \(commitDelayMs) ms commits; endorsements by \(FabricFixture.peerMSP), whose CA is \(fixture.directory.file("peer-ca.pem")))"
    }

    /// Kills or restarts the double. Starting it waits for its READY line, so it runs on a thread of
    /// its own rather than holding one of the few the gateway's tasks share.
    func setDown(_ down: Bool) async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            Thread.detachNewThread {
                continuation.resume(with: Result { try self.switchPeer(down: down) })
            }
        }
    }

    private func switchPeer(down: Bool) throws {
        try lock.withLock {
            if down {
                peer?.kill()
                peer = nil
            } else if peer == nil {
                peer = try FabricTestPeer(arguments: Self.arguments(fixture, gatewayCertificate, statePath: statePath, commitDelayMs), in: fixture.directory, port: port)
            }
        }
    }

    func summary() throws -> (anchors: UInt64, intact: Bool, what: String) {
        let channel = try FabricDoubleState(path: statePath, origin: fixture.origin)
        return (UInt64(channel.anchors.count), channel.chainProblem == nil, "Fabric anchor transactions")
    }

    func stop() { lock.withLock { peer?.kill() } }
}

struct ToolLedgerError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
