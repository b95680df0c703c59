import DeviceIdentity
import EmbeddedLedger
import Foundation
@testable import Gateway
import GRDB
import Journal
import Ledger
import Simulation
import Testing

/// A ward whose simulated devices are all enrolled, and a gateway key, so every reading is
/// signed, logged, batched and anchored.
struct LedgerWard {
    static let origin = "wardgate/test.example/ward"
    let directory: String
    let ca: CertificateAuthority
    let keystore: Keystore
    let devices: Int
    let seed: UInt64

    init(_ name: String, devices: Int, seed: UInt64 = 99) throws {
        directory = TestSupport.temporaryDirectory(name)
        ca = try CertificateAuthority.create(directory: directory + "/ca", name: "Ledger Test CA", validityDays: 30, now: Date().addingTimeInterval(-86400))
        keystore = Keystore(directory: directory + "/keys")
        for device in SimulatedWard.devices(count: devices, seed: seed) {
            _ = try Enrollment.enroll(kind: .device, id: device.id, ca: ca, keystore: keystore, validityDays: 30)
        }
        _ = try Enrollment.enroll(kind: .gateway, id: "test-ward", ca: ca, keystore: keystore, validityDays: 30)
        self.devices = devices
        self.seed = seed
    }

    var ledgerPath: String { directory + "/state/ledger.sqlite" }

    func config(brokerPort: Int, clientId: String = "wardgate-ledger-test", maxBytes: Int64 = GatewayConfig.defaultMaxJournalBytes) -> GatewayConfig {
        var config = TestSupport.config(directory: directory, brokerPort: brokerPort, clientId: clientId, maxBytes: maxBytes)
        config.identity = .init(keystore: keystore.directory, caCertificate: ca.certificatePath)
        config.log = .init(origin: LedgerWard.origin, gatewayCertificate: keystore.certificatePath(kind: .gateway, id: "test-ward"),
                           gatewayKey: keystore.keyPath(kind: .gateway, id: "test-ward"))
        config.batch = .init(maxLeaves: 200, maxAge: .milliseconds(200))
        config.ledger = .init(path: ledgerPath, retryInitial: .milliseconds(50), retryMaximum: .seconds(1), healthProbe: .milliseconds(100))
        return config
    }

    /// The same gateway as a configuration file, for `wardgate run` and `wardgate ledger`; with
    /// `httpPort`, the staff API listens on it.
    func writeConfigFile(brokerPort: Int, clientId: String, httpPort: Int? = nil) throws -> String {
        var yaml = """
            gateway: {id: test-ward, stateDirectory: \(directory)/state}
            mqtt: {host: 127.0.0.1, port: \(brokerPort), clientId: \(clientId), protocol: 5, reconnect: {initial: 50ms, maximum: 500ms}}
            profiles: {directory: \(TestSupport.shippedProfiles)}
            journal: {durability: process, maxBytes: 1GiB}
            identity: {keystore: \(keystore.directory), caCertificate: \(ca.certificatePath)}
            transparencyLog: {origin: \(LedgerWard.origin), gatewayCertificate: \(keystore.certificatePath(kind: .gateway, id: "test-ward")),
                  gatewayKey: \(keystore.keyPath(kind: .gateway, id: "test-ward"))}
            batch: {maxLeaves: 200, maxAge: 200ms}
            ledger: {kind: embedded, path: \(ledgerPath), retry: {initial: 50ms, maximum: 1s}, healthProbe: 100ms}
            logging: {level: info}

            """
        if let httpPort { yaml += "http: {listen: 127.0.0.1:\(httpPort)}\n" }
        let path = directory + "/wardgate.yml"
        try yaml.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// An embedded ledger on the configured file that trusts this ward's gateway key.
    func embeddedLedger() throws -> EmbeddedLedger {
        try Gateway.embeddedLedger(config: config(brokerPort: 1), logger: TestSupport.quietLogger)
    }

    /// Waits until the ledger file's last anchored checkpoint has `size` leaves; it looks only
    /// once the daemon created the file (opening a missing one would create it).
    func waitUntilLedgerHolds(size: UInt64) async -> Bool {
        await TestSupport.eventually(timeout: .seconds(60)) {
            FileManager.default.fileExists(atPath: ledgerPath) && (try? LedgerContents(path: ledgerPath).anchoredSizes.last) == size
        }
    }

    /// One clean run of the daemon: subscribed, `rounds` from every device of the ward (5 readings each) published
    /// and anchored, then stopped with SIGTERM, so the journal holds everything and the WAL is empty.
    func runAnchoredAndStop(configPath: String, logPath: String, brokerPort: Int, rounds: Int = 10) async throws {
        let daemon = try GatewayProcess(configPath: configPath, logPath: logPath)
        #expect(await daemon.waitUntilSubscribed())
        try await PublishRecorder().publish(port: brokerPort, devices: devices, rounds: rounds, seed: seed)
        #expect(await waitUntilLedgerHolds(size: UInt64(devices * rounds * 5)))
        #expect(daemon.terminate() == 0)
    }

    func remove() { try? FileManager.default.removeItem(atPath: directory) }
}

/// What the ledger file says it anchored, read straight from its tables.
struct LedgerContents {
    /// Anchored tree sizes in block order.
    let anchoredSizes: [UInt64]
    let blocks: Int

    init(path: String) throws {
        let queue = try DatabaseQueue(path: path)
        defer { try? queue.close() }
        (anchoredSizes, blocks) = try queue.read { db in
            (try Int64.fetchAll(db, sql: "SELECT tree_size FROM block_entry ORDER BY height, idx").map { UInt64($0) },
             try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM block") ?? 0)
        }
    }
}

/// The end-to-end account of one fault test: every published reading checked against the
/// journal, the log and the ledger.
struct AnchoringAccount: CustomStringConvertible {
    let published: Int
    let acknowledged: Int
    let readings: Int
    let leaves: Int
    let anchoredLeaves: UInt64
    let lost: Int
    let duplicated: Int
    let unanchored: Int
    let batches: [OutboxBatch]
    /// The embedded ledger's file, when the ward anchors there.
    let ledger: LedgerContents?

    init(journal: Journal, ledgerPath: String?, published: Set<PublishedReading>, readingsPerPayload: Int = 5) throws {
        let counts = try journal.observationCountsByDeviceAndTime()
        self.published = published.count * readingsPerPayload
        acknowledged = try journal.statistics().inboxRecords
        readings = counts.values.reduce(0, +)
        lost = published.reduce(0) { $0 + max(0, readingsPerPayload - (counts[$1] ?? 0)) }
        duplicated = counts.values.reduce(0) { $0 + max(0, $1 - readingsPerPayload) } + counts.keys.filter { !published.contains($0) }.count
        let (leaves, unlogged, distinctLeaves) = try journal.read { transaction in
            let db = transaction.database
            return (try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM observation WHERE leaf_index IS NOT NULL") ?? 0,
             try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM observation WHERE leaf_index IS NULL") ?? 0,
             try Int.fetchOne(db, sql: "SELECT COUNT(DISTINCT leaf_index) FROM observation WHERE leaf_index IS NOT NULL") ?? 0)
        }
        #expect(unlogged == 0, "every reading of an enrolled device is signed and logged")
        #expect(distinctLeaves == leaves)
        self.leaves = leaves
        let outbox = try Outbox(journal: journal)
        let status = try outbox.status()
        anchoredLeaves = status.anchoredSize
        unanchored = leaves - Int(min(UInt64(leaves), status.anchoredSize))
        batches = try outbox.batches()
        ledger = try ledgerPath.map { try LedgerContents(path: $0) }
    }

    /// Every batch anchored exactly once, in order: the ledger's anchors are the outbox's
    /// batches, one block each, with strictly increasing sizes, covering the whole log.
    func expectAnchoredExactlyOnceInOrder(sourceLocation: SourceLocation = #_sourceLocation) {
        guard let ledger else {
            Issue.record("no embedded ledger file to compare with", sourceLocation: sourceLocation)
            return
        }
        let anchoredBatches = batches.filter { $0.state == .anchored }.map(\.treeSize)
        #expect(batches.allSatisfy { $0.state == .anchored }, "batches not anchored: \(batches.filter { $0.state != .anchored }.map(\.treeSize))", sourceLocation: sourceLocation)
        #expect(ledger.anchoredSizes == anchoredBatches, sourceLocation: sourceLocation)
        #expect(ledger.blocks == anchoredBatches.count, sourceLocation: sourceLocation)
        #expect(zip(ledger.anchoredSizes, ledger.anchoredSizes.dropFirst()).allSatisfy { $0 < $1 }, sourceLocation: sourceLocation)
        #expect(ledger.anchoredSizes.last == UInt64(leaves), sourceLocation: sourceLocation)
        #expect(unanchored == 0, sourceLocation: sourceLocation)
    }

    var description: String {
        "published \(published) readings; acknowledged \(acknowledged) messages; \(readings) readings journaled, \(leaves) logged, \(anchoredLeaves) anchored\(ledger.map { " in \($0.blocks) blocks" } ?? ""); lost \(lost), duplicated \(duplicated)"
    }
}
