import Crypto
import DeviceIdentity
import EmbeddedLedger
import Evidence
import Foundation
import GRDB
@testable import Gateway
import Journal
import Ledger
import MQTTIngest
import Simulation
import Synchronization
import Testing
import WardgateTestSupport
import TransparencyLog

#if canImport(Glibc)
import Glibc
import WardgateTools
#endif

@Suite("Ledger faults with a real broker: outage, quota, broker restart, crash loop, tampering", .serialized)
struct LedgerFaultTests {
    @Test("ledger outage: readings keep being acknowledged, signed and logged; on recovery every batch is anchored once, in order, without waiting out the backoff")
    func ledgerOutage() async throws {
        let ward = try LedgerWard("ledger-outage", devices: 6)
        defer { ward.remove() }
        let broker = try PrivateBroker.start(directory: ward.directory + "/broker")
        defer { broker.stop() }
        var config = ward.config(brokerPort: broker.port)
        // A backoff far longer than the test may take: only the health probe can end it in time.
        config.ledger.retryInitial = .seconds(600)
        config.ledger.retryMaximum = .seconds(600)
        let ledger = OutageSimulatingLedger(wrapping: try ward.embeddedLedger())
        let gateway = try Gateway(config: config, logger: TestSupport.quietLogger, components: GatewayComponents(ledger: ledger))
        gateway.start()
        #expect(await gateway.waitUntilReady(timeout: .seconds(60)))

        // Anchoring works, then the ledger goes away while devices keep publishing.
        let recorder = PublishRecorder()
        try await recorder.publish(port: broker.port, devices: 6, rounds: 20, seed: ward.seed)
        #expect(await TestSupport.eventually(timeout: .seconds(30)) { (try? gateway.outboxStatus().anchoredSize) == 600 })
        ledger.isDown = true
        try await recorder.publish(port: broker.port, devices: 6, rounds: 80, seed: ward.seed + 1)
        let expectedLeaves = UInt64(recorder.published.count * 5)
        let backlogBuilt = await TestSupport.eventually(timeout: .seconds(60)) {
            gateway.logTreeSize == expectedLeaves && ((try? gateway.outboxStatus().pendingBatches) ?? 0) >= 2
                && gateway.metrics.snapshot()["wardgate_ledger_available"] == 0
        }
        #expect(backlogBuilt, "every reading is signed and logged while the ledger is down")
        let during = try gateway.outboxStatus()
        #expect(during.anchoredSize == 600)
        // What waits in the outbox is exactly the log's leaves: each entry hashes to its leaf.
        let waiting = try #require(try gateway.outbox.nextPendingBatch())
        let entries = try #require(try gateway.outbox.entries(ofBatch: waiting.treeSize))
        #expect(entries.map(\.leafIndex) == Array(waiting.firstLeaf..<waiting.treeSize))
        for entry in entries {
            #expect(RFC9162.leafHash(entry.leafData) == (try gateway.log.tree.leafHash(at: entry.leafIndex)))
        }
        #expect(ledger.refused >= 1)
        let snapshot = gateway.metrics.snapshot()
        #expect(snapshot["wardgate_ledger_available"] == 0)
        #expect(snapshot["wardgate_ledger_submit_failures_total{kind=\"retryable\"}"] >= 1)
        #expect(snapshot["wardgate_ledger_submit_failures_total{kind=\"permanent\"}"] == 0)
        #expect(try gateway.journal.statistics().inboxRecords == recorder.published.count, "every message was acknowledged after its durable commit")

        ledger.isDown = false
        // Generous for a loaded CI machine, and still far inside the 600 s backoff.
        let drained = await TestSupport.eventually(timeout: .seconds(120)) {
            (try? gateway.outboxStatus()).map { $0.pendingBatches == 0 && $0.anchoredSize == expectedLeaves } ?? false
        }
        #expect(drained, "the health probe resumed forwarding long before the 600 s backoff")
        // The forwarder stores the receipt before it reports the ledger available again.
        #expect(await TestSupport.eventually(timeout: .seconds(60)) { gateway.metrics.snapshot()["wardgate_ledger_available"] == 1 })
        await gateway.stop()

        let journal = try TestSupport.openJournal(config.stateDirectory)
        let account = try AnchoringAccount(journal: journal, ledgerPath: ward.ledgerPath, published: recorder.published)
        print("ledger outage: \(account)")
        #expect(account.lost == 0 && account.duplicated == 0)
        account.expectAnchoredExactlyOnceInOrder()
        #expect(try ward.embeddedLedger().verifyChain().isIntact)
    }

    @Test("quota with the ledger down: acknowledgements stop, the broker holds the messages, and after the ledger returns everything arrives and is anchored")
    func quotaWithLedgerDown() async throws {
        let ward = try LedgerWard("ledger-quota", devices: 4)
        defer { ward.remove() }
        let broker = try PrivateBroker.start(directory: ward.directory + "/broker")
        defer { broker.stop() }
        let recorder = PublishRecorder()

        // Measure what a first stretch of readings occupies while the ledger is down (large
        // enough that its outbox copy, freed on anchoring, outweighs the WAL's fluctuation)…
        var config = ward.config(brokerPort: broker.port)
        let first = OutageSimulatingLedger(wrapping: try ward.embeddedLedger())
        first.isDown = true
        var gateway = try Gateway(config: config, logger: TestSupport.quietLogger, components: GatewayComponents(ledger: first))
        gateway.start()
        #expect(await gateway.waitUntilReady(timeout: .seconds(60)))
        try await recorder.publish(port: broker.port, devices: 4, rounds: 500, seed: ward.seed)
        #expect(await TestSupport.eventually(timeout: .seconds(120)) { gateway.logTreeSize == 10_000 })
        try gateway.batcher.cutDueBatches(force: true)
        await gateway.stop()
        let used = try TestSupport.openJournal(config.stateDirectory).usedBytes()

        // …and restart with a quota just above it, the ledger still down.
        config.maxJournalBytes = used + 128 * 1024
        let ledger = OutageSimulatingLedger(wrapping: try ward.embeddedLedger())
        ledger.isDown = true
        gateway = try Gateway(config: config, logger: TestSupport.quietLogger, components: GatewayComponents(ledger: ledger))
        gateway.start()
        #expect(await gateway.waitUntilReady(timeout: .seconds(60)))
        // Paced, so processing (not just the small inbox rows) fills the journal as messages arrive.
        try await recorder.publish(port: broker.port, devices: 4, rounds: 60, roundsPerSecond: 20, seed: ward.seed + 1)
        let refused = await TestSupport.eventually(timeout: .seconds(30)) {
            gateway.metrics.snapshot()["wardgate_messages_refused_total{reason=\"quota\"}"] >= 1
        }
        #expect(refused, "the quota stops acknowledgements")
        let journaledWhileFull = try gateway.journal.statistics().inboxRecords
        #expect(journaledWhileFull < recorder.published.count, "the broker holds what the gateway did not acknowledge")

        // The ledger returns: anchored batches free their copy of the leaves, space returns,
        // acknowledgements resume and the broker delivers the rest.
        ledger.isDown = false
        let expectedLeaves = UInt64(recorder.published.count * 5)
        let arrived = await TestSupport.eventually(timeout: .seconds(90)) {
            (try? gateway.outboxStatus()).map { $0.anchoredSize == expectedLeaves && $0.pendingBatches == 0 } ?? false
        }
        #expect(arrived, "everything arrives and is anchored once the ledger is back")
        await gateway.stop()

        let journal = try TestSupport.openJournal(config.stateDirectory)
        let account = try AnchoringAccount(journal: journal, ledgerPath: ward.ledgerPath, published: recorder.published)
        print("quota with ledger down (quota \(config.maxJournalBytes) bytes, \(journaledWhileFull) messages journaled while full): \(account)")
        #expect(account.lost == 0 && account.duplicated == 0)
        account.expectAnchoredExactlyOnceInOrder()
        #expect(journal.usedBytes() <= config.maxJournalBytes + 1024 * 1024)
    }

    @Test("broker restart while the gateway runs: it reconnects and resubscribes, and no reading is lost or anchored twice")
    func brokerRestart() async throws {
        let ward = try LedgerWard("ledger-broker-restart", devices: 5)
        defer { ward.remove() }
        let broker = try PrivateBroker.start(directory: ward.directory + "/broker")
        defer { broker.stop() }
        let config = ward.config(brokerPort: broker.port)
        let gateway = try Gateway(config: config, logger: TestSupport.quietLogger)
        gateway.start()
        #expect(await gateway.waitUntilReady(timeout: .seconds(60)))

        let recorder = PublishRecorder()
        try await recorder.publish(port: broker.port, devices: 5, rounds: 300, seed: ward.seed)
        // Restart at once: part of the gateway's queue is still in the broker, which saves it.
        try broker.restart()
        #expect(await gateway.waitUntilReady(timeout: .seconds(60)), "reconnected and resubscribed")
        try await recorder.publish(port: broker.port, devices: 5, rounds: 100, seed: ward.seed + 1)
        let expectedLeaves = UInt64(recorder.published.count * 5)
        let anchored = await TestSupport.eventually(timeout: .seconds(60)) {
            (try? gateway.outboxStatus()).map { $0.anchoredSize == expectedLeaves && $0.pendingBatches == 0 } ?? false
        }
        #expect(anchored)
        await gateway.stop()
        let account = try AnchoringAccount(journal: try TestSupport.openJournal(config.stateDirectory), ledgerPath: ward.ledgerPath, published: recorder.published)
        print("broker restart: \(account)")
        #expect(account.lost == 0 && account.duplicated == 0)
        account.expectAnchoredExactlyOnceInOrder()
    }

    @Test("a tampered ledger file: wardgate ledger verify exits 0 before, and 1 naming the changed block after")
    func tamperedLedgerFile() async throws {
        let ward = try LedgerWard("ledger-tamper", devices: 3)
        defer { ward.remove() }
        let broker = try PrivateBroker.start(directory: ward.directory + "/broker")
        defer { broker.stop() }
        let configPath = try ward.writeConfigFile(brokerPort: broker.port, clientId: "wardgate-tamper")
        let gateway = try Gateway(config: try GatewayConfig.load(path: configPath), logger: TestSupport.quietLogger)
        gateway.start()
        #expect(await gateway.waitUntilReady(timeout: .seconds(60)))
        let recorder = PublishRecorder()
        try await recorder.publish(port: broker.port, devices: 3, rounds: 200, seed: ward.seed)
        #expect(await TestSupport.eventually(timeout: .seconds(60)) { (try? gateway.outboxStatus().anchoredSize) == 3000 })
        await gateway.stop()
        let blocks = try LedgerContents(path: ward.ledgerPath).blocks
        #expect(blocks >= 3)

        let key = try ProcessRunner.run(TestSupport.wardgateBinary, ["ledger", "key", "--config", configPath])
        #expect(key.status == 0 && key.output.hasPrefix("-----BEGIN PUBLIC KEY-----"))
        let intact = try ProcessRunner.run(TestSupport.wardgateBinary, ["ledger", "verify", "--config", configPath])
        #expect(intact.status == 0, "\(intact.output)")
        #expect(intact.output.contains("intact: \(blocks) blocks"))
        let status = try ProcessRunner.run(TestSupport.wardgateBinary, ["ledger", "status", "--config", configPath])
        #expect(status.status == 0 && status.output.contains("anchored up to leaf 3000"), "\(status.output)")

        // Change one byte of block 2's signature, as a disk editor would.
        let queue = try DatabaseQueue(path: ward.ledgerPath)
        try await queue.write { db in
            var signature = Array(try Data.fetchOne(db, sql: "SELECT signature FROM block WHERE height = 2") ?? Data())
            signature[signature.count / 2] ^= 0x01
            try db.execute(sql: "UPDATE block SET signature = ? WHERE height = 2", arguments: [Data(signature)])
        }
        try queue.close()
        let tampered = try ProcessRunner.run(TestSupport.wardgateBinary, ["ledger", "verify", "--config", configPath])
        #expect(tampered.status == 1)
        #expect(tampered.output.contains("block 2:"), "\(tampered.output)")
    }

    @Test("crash loop: 20 SIGKILLs at random moments while devices publish 2,000 readings/s; every delivered reading is one leaf, anchored exactly once")
    func crashLoop() async throws {
        #expect(FileManager.default.isExecutableFile(atPath: TestSupport.wardgateBinary), "build the wardgate executable first")
        let ward = try LedgerWard("ledger-crash-loop", devices: 20)
        defer { ward.remove() }
        let broker = try PrivateBroker.start(directory: ward.directory + "/broker", maxQueuedMessages: 1_000_000)
        defer { broker.stop() }
        let configPath = try ward.writeConfigFile(brokerPort: broker.port, clientId: "wardgate-crash-loop")
        let logPath = ward.directory + "/gateway.log"

        // 20 devices × 20 payloads/s × 5 readings = 2,000 readings/s, for 20 s; the kills run
        // meanwhile (and go on, if need be, while the backlog drains).
        // The first run creates the persistent session; from then on the broker queues for it.
        let first = try GatewayProcess(configPath: configPath, logPath: logPath)
        #expect(await first.waitUntilSubscribed())
        let recorder = PublishRecorder()
        let publishing = Task {
            try await recorder.publish(port: broker.port, devices: 20, rounds: 400, roundsPerSecond: 20, seed: ward.seed)
        }
        var generator = SystemRandomNumberGenerator()
        try await Task.sleep(for: .milliseconds(Int.random(in: 100...1200, using: &generator)))
        first.kill()
        var kills = 1
        var connects = 1
        while kills < 20 {
            let process = try GatewayProcess(configPath: configPath, logPath: logPath)
            // Kill at a random moment: sometimes during start-up, mostly while messages flow.
            if Bool.random(using: &generator) {
                connects += 1
                _ = await process.waitUntilSubscribed(connectNumber: connects)
            }
            try await Task.sleep(for: .milliseconds(Int.random(in: 100...1200, using: &generator)))
            process.kill()
            #expect(process.process.terminationReason == .uncaughtSignal)
            kills += 1
            connects = process.log.components(separatedBy: "MQTT connected").count - 1
        }
        try await publishing.value
        let published = recorder.published
        #expect(published.count * 5 >= 2000 * 10, "at least ten seconds of 2,000 readings/s were published during the kills")

        // A final, clean run drains the broker's queue, the inbox and the outbox.
        let last = try GatewayProcess(configPath: configPath, logPath: logPath)
        let journal = try TestSupport.openJournal(ward.directory + "/state")
        let expected = UInt64(published.count * 5)
        let settled = try await TestSupport.eventually(timeout: .seconds(300)) {
            let status = try Outbox(journal: journal).status()
            return status.anchoredSize >= expected && status.pendingBatches == 0
        }
        #expect(settled, "the final run anchored every reading; log tail:\n\(last.log.suffix(2000))")
        #expect(last.terminate() == 0)

        let account = try AnchoringAccount(journal: journal, ledgerPath: ward.ledgerPath, published: published)
        print("crash loop (\(kills) SIGKILLs): \(account)")
        #expect(account.lost == 0 && account.duplicated == 0)
        account.expectAnchoredExactlyOnceInOrder()
        let intact = try ProcessRunner.run(TestSupport.wardgateBinary, ["ledger", "verify", "--config", configPath])
        #expect(intact.status == 0, "\(intact.output)")
    }

    @Test("retention: anchored readings past it are pruned, and a bundle exported before still verifies offline, receipt included")
    func retentionKeepsExportedProofsCheckable() async throws {
        let ward = try LedgerWard("ledger-retention", devices: 3)
        defer { ward.remove() }
        let broker = try PrivateBroker.start(directory: ward.directory + "/broker")
        defer { broker.stop() }
        var config = ward.config(brokerPort: broker.port)
        config.retention = .seconds(3600)  // the loop's first pass prunes nothing; the test prunes by hand
        let gateway = try Gateway(config: config, logger: TestSupport.quietLogger)
        gateway.start()
        #expect(await gateway.waitUntilReady(timeout: .seconds(60)))
        let recorder = PublishRecorder()
        try await recorder.publish(port: broker.port, devices: 3, rounds: 20, seed: ward.seed)
        #expect(await TestSupport.eventually(timeout: .seconds(30)) { (try? gateway.outboxStatus().anchoredSize) == 300 })
        let bundle = try ProofBundle.build(.leafIndex(17), journal: gateway.journal, keystore: ward.keystore)
        let ledgerKey = try P256.Signing.PublicKey(pemRepresentation: try #require(gateway.ledger as? EmbeddedLedger).publicKeyPEM)

        // Two hours later by the wall clock alone, nothing goes: the monotonic measure says seconds.
        #expect(try gateway.pruneExpired(now: Date().addingTimeInterval(7200)) == .pruned(.init(observations: 0, inboxRecords: 0)))
        // Two hours later by both clocks, with a one-hour retention, every anchored reading goes.
        guard case .pruned(let pruned) = try gateway.pruneExpired(now: Date().addingTimeInterval(7200), uptime: gateway.clock.uptime + .seconds(7200)) else {
            Issue.record("retention did not prune")
            return
        }
        #expect(pruned.observations == 300)
        #expect(try gateway.log.leafIndex.observation(leafIndex: 17) == nil)
        // The tree, its checkpoints and receipts stay: proofs can still be made and checked.
        let proof = try gateway.log.tree.inclusionProof(leafIndex: 17, treeSize: 300)
        #expect(!proof.hashes.isEmpty)
        #expect(try gateway.outbox.anchoringBatch(forLeaf: 17)?.receipt != nil)
        await gateway.stop()
        let checks = await ProofVerification.verify(
            bundle: bundle, ca: try CertificateCoding.loadCertificate(ward.ca.certificatePath),
            gatewayCertificate: try CertificateCoding.loadCertificate(ward.keystore.certificatePath(kind: .gateway, id: "test-ward")), ledgerKey: ledgerKey)
        #expect(checks.allSatisfy { $0.passed }, "\(checks)")
    }
}
