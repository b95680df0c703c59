import Foundation
@testable import Gateway
import Journal
import Ledger
import Simulation
import Testing
import WardgateTestSupport
import WardgateTools

/// A ward (enrolled devices, a gateway key) anchoring into the Fabric peer test double
/// (`WardgateTestSupport/Fabric/fabric_test_peer.py`) over real gRPC with mutual TLS, the
/// double keeping its world state in a file so it can be killed and restarted like a peer.
struct FabricWard {
    let ward: LedgerWard
    let fabric: FabricFixture

    init(_ name: String, devices: Int) throws {
        ward = try LedgerWard(name, devices: devices)
        fabric = try FabricFixture(origin: LedgerWard.origin)
    }

    var statePath: String { ward.directory + "/fabric-state.json" }
    var gatewayCertificate: String { ward.keystore.certificatePath(kind: .gateway, id: "test-ward") }
    var peerCA: String { fabric.directory.file("peer-ca.pem") }

    func startPeer(port: Int = 0, commitDelayMs: Int) throws -> FabricTestPeer {
        try FabricTestPeer(
            arguments: fabric.peerArguments(state: statePath, tls: true, mutualTLS: true, gatewayCertificate: gatewayCertificate,
                                            extra: ["--commit-delay-ms", "\(commitDelayMs)"]),
            in: fabric.directory, port: port)
    }

    /// The gateway's configuration file with `ledger.kind: fabric`, exactly as an operator writes it.
    func writeConfigFile(brokerPort: Int, peerPort: Int, clientId: String) throws -> String {
        let files = fabric.directory
        let yaml = """
            gateway: {id: test-ward, stateDirectory: \(ward.directory)/state}
            mqtt: {host: 127.0.0.1, port: \(brokerPort), clientId: \(clientId), protocol: 5, reconnect: {initial: 50ms, maximum: 500ms}}
            profiles: {directory: \(TestSupport.shippedProfiles)}
            journal: {durability: process, maxBytes: 1GiB}
            identity: {keystore: \(ward.keystore.directory), caCertificate: \(ward.ca.certificatePath)}
            transparencyLog: {origin: \(LedgerWard.origin), gatewayCertificate: \(gatewayCertificate),
                  gatewayKey: \(ward.keystore.keyPath(kind: .gateway, id: "test-ward"))}
            batch: {maxLeaves: 200, maxAge: 200ms}
            ledger:
              kind: fabric
              fabric:
                endpoint: "127.0.0.1:\(peerPort)"
                mspId: \(FabricFixture.wardMSP)
                certificate: \(files.file("client.pem"))
                key: \(files.file("client.key"))
                channel: wards
                chaincode: wardgate-anchor
                tls: {caFile: \(files.file("tls-ca.pem")), certFile: \(files.file("tls-client.pem")), keyFile: \(files.file("tls-client.key"))}
                timeouts: {call: 10s, commitStatusCall: 5s, commit: 20s}
              retry: {initial: 50ms, maximum: 1s}
              healthProbe: 100ms
            logging: {level: info}
            """
        let path = ward.directory + "/wardgate.yml"
        try yaml.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// What the double's channel holds, checked against the gateway's outbox: one chain of
    /// anchors from 0 to every leaf (no gap, no fork, no leaf twice), each a VALID transaction,
    /// and exactly the outbox's self-anchored batches.
    func expectAnchoredExactlyOnce(_ account: AnchoringAccount, sourceLocation: SourceLocation = #_sourceLocation) throws -> FabricDoubleState {
        let channel = try FabricDoubleState(path: statePath, origin: LedgerWard.origin)
        #expect(channel.chainProblem == nil, "\(channel.chainProblem ?? "")", sourceLocation: sourceLocation)
        #expect(channel.headSize == UInt64(account.leaves), sourceLocation: sourceLocation)
        #expect(channel.anchors.allSatisfy { channel.validationCodes[$0.transactionID] == 0 }, "every anchor record was written by a VALID transaction", sourceLocation: sourceLocation)
        #expect(account.batches.allSatisfy { $0.state == .anchored }, sourceLocation: sourceLocation)
        let ownAnchors = account.batches.filter { $0.anchoredBy == nil }.map(\.treeSize)
        #expect(ownAnchors == channel.anchors.map(\.treeSize), "the outbox's receipts are the channel's anchors", sourceLocation: sourceLocation)
        #expect(account.batches.allSatisfy { batch in batch.anchoredBy.map { by in ownAnchors.contains(by) && by > batch.treeSize } ?? true },
                sourceLocation: sourceLocation)
        #expect(account.unanchored == 0, sourceLocation: sourceLocation)
        return channel
    }

    func remove() { ward.remove() }
}

@Suite("Fabric anchoring with a real broker and the Fabric peer double: outage, crash loop, proofs", .serialized)
struct FabricAnchoringTests {
    @Test("ledger.kind fabric over mTLS: readings anchor; a peer outage loses nothing and the backlog drains in coalesced anchors; proof and verify --fabric-ca end to end")
    func anchorsThroughAnOutageAndVerifies() async throws {
        let ward = try FabricWard("fabric-outage", devices: 6)
        defer { ward.remove() }
        let broker = try PrivateBroker.start(directory: ward.ward.directory + "/broker")
        defer { broker.stop() }
        var peer = try ward.startPeer(commitDelayMs: 200)
        let configPath = try ward.writeConfigFile(brokerPort: broker.port, peerPort: peer.port, clientId: "wardgate-fabric-outage")
        let gateway = try Gateway(config: try GatewayConfig.load(path: configPath), logger: TestSupport.quietLogger)
        #expect(gateway.ledger?.kind == "fabric")
        gateway.start()
        #expect(await gateway.waitUntilReady(timeout: .seconds(60)))

        let recorder = PublishRecorder()
        try await recorder.publish(port: broker.port, devices: 6, rounds: 20, seed: ward.ward.seed)
        #expect(await TestSupport.eventually(timeout: .seconds(60)) { (try? gateway.outboxStatus().anchoredSize) == 600 }, "\(peer.log.suffix(1500))")

        // The peer dies (SIGKILL) while devices keep publishing: everything is journaled, signed,
        // logged and cut into batches that wait in the outbox.
        peer.kill()
        try await recorder.publish(port: broker.port, devices: 6, rounds: 60, seed: ward.ward.seed + 1)
        let expected = UInt64(recorder.published.count * 5)
        let backlog = await TestSupport.eventually(timeout: .seconds(60)) {
            gateway.logTreeSize == expected && ((try? gateway.outboxStatus().pendingBatches) ?? 0) >= 3
                && gateway.metrics.snapshot()["wardgate_ledger_available"] == 0
        }
        #expect(backlog, "batches wait while the peer is down")
        let down = gateway.metrics.snapshot()
        #expect(down["wardgate_ledger_fabric_failures_total{reason=\"unavailable\"}"] >= 1, "the failure is counted by its FabricFailure label")
        #expect(down["wardgate_ledger_submit_failures_total{kind=\"retryable\"}"] >= 1)
        #expect(down["wardgate_ledger_submit_failures_total{kind=\"permanent\"}"] == 0)
        #expect(try gateway.journal.statistics().inboxRecords == recorder.published.count, "every message was acknowledged after its durable commit")

        // The peer comes back with its world state: the backlog drains.
        peer = try ward.startPeer(port: peer.port, commitDelayMs: 200)
        let drained = await TestSupport.eventually(timeout: .seconds(60)) {
            (try? gateway.outboxStatus()).map { $0.pendingBatches == 0 && $0.anchoredSize == expected } ?? false
        }
        #expect(drained, "\(peer.log.suffix(1500))")
        // The forwarder stores the receipt before it reports the ledger available again.
        #expect(await TestSupport.eventually(timeout: .seconds(60)) { gateway.metrics.snapshot()["wardgate_ledger_available"] == 1 })
        await gateway.stop()

        let journal = try TestSupport.openJournal(ward.ward.directory + "/state")
        let account = try AnchoringAccount(journal: journal, ledgerPath: nil, published: recorder.published)
        print("fabric outage: \(account)")
        #expect(account.lost == 0 && account.duplicated == 0)
        let channel = try ward.expectAnchoredExactlyOnce(account)
        #expect(channel.anchors.count < account.batches.count, "the backlog went in fewer anchors than batches (\(channel.anchors.count) for \(account.batches.count))")
        // A leaf of a batch anchored by a later batch's checkpoint is proven with that checkpoint.
        let coalesced = try #require(account.batches.first { $0.anchoredBy != nil })
        try journal.close()

        try Self.expectProofsVerify(ward: ward, configPath: configPath, leaves: [5, coalesced.firstLeaf, expected - 1])
    }

    /// `wardgate proof` writes the Fabric receipt into the bundle; `wardgate verify --fabric-ca`
    /// passes with the endorsing organization's CA, and fails naming the check with the wrong CA,
    /// without one, and with a tampered endorsement.
    static func expectProofsVerify(ward: FabricWard, configPath: String, leaves: [UInt64]) throws {
        let base = ["--ca", ward.ward.ca.certificatePath, "--gateway-cert", ward.gatewayCertificate]
        for leaf in leaves {
            let proof = try ProcessRunner.run(TestSupport.wardgateBinary, ["proof", "--config", configPath, "--leaf-index", "\(leaf)"])
            #expect(proof.status == 0, "\(proof.stderr)")
            let bundlePath = ward.ward.directory + "/bundle-\(leaf).json"
            try proof.stdout.write(toFile: bundlePath, atomically: true, encoding: .utf8)
            let bundle = try #require(try JSONSerialization.jsonObject(with: Data(proof.stdout.utf8)) as? [String: Any])
            let receipt = try #require(bundle["ledgerReceipt"] as? [String: Any])
            #expect(receipt["ledger"] as? String == "fabric" && receipt["channel"] as? String == "wards")

            let verified = try ProcessRunner.run(TestSupport.wardgateBinary, ["verify", bundlePath] + base + ["--fabric-ca", ward.peerCA])
            #expect(verified.status == 0, "\(verified.output)")
            for check in ["receipt", "fabric-endorsements", "fabric-endorser-chain", "fabric-write-set", "fabric-covers-leaf"] {
                #expect(verified.stdout.contains("passed  \(check):"), "\(check) in \(verified.stdout)")
            }
            let wrongCA = try ProcessRunner.run(TestSupport.wardgateBinary, ["verify", bundlePath] + base + ["--fabric-ca", ward.fabric.directory.file("tls-ca.pem")])
            #expect(wrongCA.status == 1 && wrongCA.stderr.contains("verification failed at check \"fabric-endorser-chain\""), "\(wrongCA.output)")
            let noCA = try ProcessRunner.run(TestSupport.wardgateBinary, ["verify", bundlePath] + base)
            #expect(noCA.status == 1 && noCA.output.contains("--fabric-ca"), "\(noCA.output)")

            var tampered = bundle
            var tamperedReceipt = receipt
            var endorsements = try #require(receipt["endorsements"] as? [[String: Any]])
            let encoded = try #require(endorsements[0]["signature"] as? String)
            var signature = try #require(Data(base64Encoded: encoded))
            signature[signature.count - 1] ^= 0x01
            endorsements[0]["signature"] = signature.base64EncodedString()
            tamperedReceipt["endorsements"] = endorsements
            tampered["ledgerReceipt"] = tamperedReceipt
            let tamperedPath = ward.ward.directory + "/tampered-\(leaf).json"
            try JSONSerialization.data(withJSONObject: tampered).write(to: URL(fileURLWithPath: tamperedPath))
            let refused = try ProcessRunner.run(TestSupport.wardgateBinary, ["verify", tamperedPath] + base + ["--fabric-ca", ward.peerCA])
            #expect(refused.status == 1 && refused.stderr.contains("verification failed at check \"fabric-endorsements\""), "\(refused.output)")
        }
    }

    @Test("crash loop: 6 SIGKILLs of wardgate run while 1,000 readings/s flow and anchors are in flight; every leaf anchored exactly once, no fork, no gap")
    func crashLoopWithAnchorsInFlight() async throws {
        #expect(FileManager.default.isExecutableFile(atPath: TestSupport.wardgateBinary), "build the wardgate executable first")
        let ward = try FabricWard("fabric-crash-loop", devices: 10)
        defer { ward.remove() }
        let broker = try PrivateBroker.start(directory: ward.ward.directory + "/broker", maxQueuedMessages: 1_000_000)
        defer { broker.stop() }
        // A commit delay long enough that most kills land with a transaction submitted and not committed.
        let peer = try ward.startPeer(commitDelayMs: 400)
        let configPath = try ward.writeConfigFile(brokerPort: broker.port, peerPort: peer.port, clientId: "wardgate-fabric-crash")
        let logPath = ward.ward.directory + "/gateway.log"

        let first = try GatewayProcess(configPath: configPath, logPath: logPath)
        #expect(await first.waitUntilSubscribed())
        let recorder = PublishRecorder()
        // 10 devices × 20 payloads/s × 5 readings = 1,000 readings/s for 6 s.
        let seed = ward.ward.seed, port = broker.port
        let publishing = Task { try await recorder.publish(port: port, devices: 10, rounds: 120, roundsPerSecond: 20, seed: seed) }
        var generator = SystemRandomNumberGenerator()
        try await Task.sleep(for: .milliseconds(Int.random(in: 600...1200, using: &generator)))
        first.kill()
        for _ in 1..<6 {
            let process = try GatewayProcess(configPath: configPath, logPath: logPath)
            try await Task.sleep(for: .milliseconds(Int.random(in: 500...1200, using: &generator)))
            process.kill()
            #expect(process.process.terminationReason == .uncaughtSignal)
        }
        try await publishing.value

        // The earlier runs may have anchored everything already: without this wait the SIGTERM
        // below can reach the new process before it has started (exit by signal 15, not 0). The
        // log is shared by every run, so the new run's connection is the next one counted.
        let connectionsBefore = ((try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "").components(separatedBy: "MQTT connected").count - 1
        let last = try GatewayProcess(configPath: configPath, logPath: logPath)
        #expect(await last.waitUntilSubscribed(connectNumber: connectionsBefore + 1), "log tail:\n\(last.log.suffix(2000))")
        let journal = try TestSupport.openJournal(ward.ward.directory + "/state")
        let expected = UInt64(recorder.published.count * 5)
        let settled = try await TestSupport.eventually(timeout: .seconds(120)) {
            let status = try Outbox(journal: journal).status()
            return status.anchoredSize >= expected && status.pendingBatches == 0
        }
        #expect(settled, "the final run anchored every reading; log tail:\n\(last.log.suffix(2000))")
        #expect(last.terminate() == 0, "log tail:\n\(last.log.suffix(3000))")

        let account = try AnchoringAccount(journal: journal, ledgerPath: nil, published: recorder.published)
        print("fabric crash loop (6 SIGKILLs): \(account)")
        #expect(account.lost == 0 && account.duplicated == 0)
        _ = try ward.expectAnchoredExactlyOnce(account)

        // The outbox commands read a Fabric gateway's state; the embedded ledger's refuse it, and no
        // embedded ledger file is made behind the operator's back.
        let status = try ProcessRunner.run(TestSupport.wardgateBinary, ["ledger", "status", "--config", configPath])
        #expect(status.status == 0 && status.stdout.contains("anchored up to leaf \(expected)"), "\(status.output)")
        let key = try ProcessRunner.run(TestSupport.wardgateBinary, ["ledger", "key", "--config", configPath])
        #expect(key.status == 1 && key.stderr.contains("ledger.kind: fabric"), "\(key.output)")
        #expect(!FileManager.default.fileExists(atPath: ward.ward.ledgerPath))
    }

    @Test("wardgate demo --ledger fabric runs against the Fabric peer double: the double is killed and restarted mid-run, and every leaf ends anchored in an intact chain")
    func demoAgainstTheDouble() throws {
        let demo = try ProcessRunner.run(TestSupport.wardgateBinary, ["demo", "--ledger", "fabric", "--duration", "10", "--devices", "3", "--rate", "2"])
        #expect(demo.status == 0, "\(demo.output.suffix(3000))")
        #expect(demo.stdout.contains("Fabric peer TEST DOUBLE on 127.0.0.1:"))
        #expect(demo.stdout.contains("the Fabric peer double is killed") && demo.stdout.contains("--- ledger is back"))
        let lines = demo.stdout.split(separator: "\n").map(String.init)
        func figure(_ label: String) -> Int? {
            lines.first { $0.contains(label) }.flatMap { line in line.split(separator: ":").last?.split(separator: " ").first.flatMap { Int($0) } }
        }
        let logged = try #require(figure("log leaves:"))
        #expect(logged > 0 && figure("anchored in the ledger:") == logged, "\(demo.stdout.suffix(800))")
        #expect(lines.contains { $0.contains("Fabric anchor transactions:") && $0.hasSuffix("chain intact") }, "\(demo.stdout.suffix(800))")
    }
}
