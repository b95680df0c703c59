import Foundation
import Gateway
import GRDB
import Journal
import Simulation
import Testing
import WardgateTestSupport

/// A journal written by the release before the compact observation table (Resources/journal-cd5be8c,
/// made by its make-fixture.sh with `wardgate` built from cd5be8c) is migrated at the first start,
/// and afterwards every read path prints byte for byte what cd5be8c printed for it.
@Suite("A journal written by cd5be8c migrates to compact rows and reads back byte for byte", .serialized)
struct JournalMigrationTests {
    static let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Resources/journal-cd5be8c").path

    struct Setup {
        let directory: String
        let config: String
        var expected: String { directory + "/expected" }

        func expected(_ name: String) throws -> String { try String(contentsOfFile: expected + "/" + name, encoding: .utf8) }
        func remove() { try? FileManager.default.removeItem(atPath: directory) }
    }

    /// A copy of the fixture (its keys private again: git keeps no file modes) with a
    /// configuration naming it, migrated as `wardgate run` migrates at start.
    static func migratedCopy(brokerPort: Int = 1, httpPort: Int? = nil) throws -> Setup {
        let directory = TestSupport.temporaryDirectory("migration")
        try FileManager.default.copyItem(atPath: fixture, toPath: directory)
        let files = FileManager.default.enumerator(atPath: directory + "/keys")?.compactMap { $0 as? String } ?? []
        for file in files.map({ directory + "/keys/" + $0 }) {
            var isDirectory: ObjCBool = false
            _ = FileManager.default.fileExists(atPath: file, isDirectory: &isDirectory)
            try FileManager.default.setAttributes([.posixPermissions: isDirectory.boolValue ? 0o700 : 0o600], ofItemAtPath: file)
        }
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: directory + "/state/ledger.key")
        let config = """
            gateway: {id: fixture-ward, stateDirectory: \(directory)/state}
            mqtt: {host: 127.0.0.1, port: \(brokerPort), clientId: fixture-ward, protocol: 5}
            profiles: {directory: \(TestSupport.shippedProfiles)}
            journal: {durability: process, retention: forever}
            identity: {keystore: \(directory)/keys, caCertificate: \(directory)/ca.pem}
            transparencyLog: {origin: wardgate/fixture.example/fixture-ward, gatewayCertificate: \(directory)/keys/gateways/fixture-ward/cert.pem, gatewayKey: \(directory)/keys/gateways/fixture-ward/key.pem}
            batch: {maxLeaves: 10, maxAge: 200ms}
            ledger: {kind: embedded}
            logging: {level: info}

            """ + (httpPort.map { "http: {listen: 127.0.0.1:\($0)}\n" } ?? "")
        try config.write(toFile: directory + "/wardgate.yml", atomically: true, encoding: .utf8)
        let journal = try TestSupport.openJournal(directory + "/state")
        try journal.close()
        return Setup(directory: directory, config: directory + "/wardgate.yml")
    }

    @Test("every row is compact after the migration: a header reference, iat and r‖s, one header per signing certificate, 16-byte ids")
    func rowsAreCompact() throws {
        let setup = try Self.migratedCopy()
        defer { setup.remove() }
        let journal = try TestSupport.openJournal(setup.directory + "/state")
        defer { try? journal.close() }
        let counts = try journal.read { transaction in
            let db = transaction.database
            return try Row.fetchOne(db, sql: """
                SELECT COUNT(*) AS rows, COUNT(jws) AS texts, COUNT(signature) AS raw, SUM(length(signature) = 64) AS raw64,
                  SUM(typeof(id) = 'blob' AND length(id) = 16) AS keys, (SELECT COUNT(*) FROM jws_header) AS headers
                FROM observation
                """)
        }
        let row = try #require(counts)
        // 10 readings of 2 enrolled devices and 1 of an unenrolled one, 5 Observations each.
        let rows: Int = row["rows"], keys: Int = row["keys"], texts: Int = row["texts"], raw: Int = row["raw"], raw64: Int = row["raw64"]
        let headers: Int = row["headers"]
        #expect(rows == 55 && keys == 55)
        #expect(texts == 0, "every JWS cd5be8c wrote rebuilds from its parts")
        #expect(raw == 50 && raw64 == 50)
        #expect(headers == 2)
        let stats = try journal.statistics()
        #expect(stats.observations == 55 && stats.signed == 50 && stats.quarantined == 5)
    }

    @Test("export, proof, verify, quarantine list and ledger status print what cd5be8c printed")
    func commandLineReadsAreIdentical() throws {
        let setup = try Self.migratedCopy()
        defer { setup.remove() }
        let first = try setup.expected("first-observation-id").trimmingCharacters(in: .whitespacesAndNewlines)
        let commands: [(String, [String])] = [
            ("export-all.ndjson", ["export", "--config", setup.config]),
            ("export-observations.ndjson", ["export", "--config", setup.config, "--resources", "observation"]),
            // Every reading was received after 2000: the `since` query gives them all.
            ("export-all.ndjson", ["export", "--config", setup.config, "--since", "2000-01-01T00:00:00Z"]),
            ("quarantine-list.txt", ["quarantine", "list", "--config", setup.config]),
            ("proof-observation.json", ["proof", "--config", setup.config, "--observation", first]),
            ("proof-leaf-42.json", ["proof", "--config", setup.config, "--leaf-index", "42"]),
            ("verify.txt", ["verify", setup.expected + "/proof-leaf-42.json", "--ca", setup.directory + "/ca.pem",
                            "--gateway-cert", setup.directory + "/keys/gateways/fixture-ward/cert.pem", "--ledger-key", setup.directory + "/ledger.pub"]),
            ("ledger-status.txt", ["ledger", "status", "--config", setup.config]),
        ]
        for (name, arguments) in commands {
            let run = try ProcessRunner.run(TestSupport.wardgateBinary, arguments)
            #expect(run.status == 0, "\(name): \(run.output.suffix(1000))")
            let printed = run.stdout.replacingOccurrences(of: setup.directory, with: "@WORK@")
            #expect(printed == (try setup.expected(name)), "\(name) differs from what cd5be8c printed")
        }
    }

    @Test("the staff API serves the search, the proof and the checkpoint cd5be8c served")
    func apiReadsAreIdentical() async throws {
        let broker = try PrivateBroker.start()
        defer { broker.stop() }
        let httpPort = try FreePort.find()
        let setup = try Self.migratedCopy(brokerPort: broker.port, httpPort: httpPort)
        defer { setup.remove() }
        let daemon = try GatewayProcess(configPath: setup.config, logPath: setup.directory + "/gateway.log")
        defer { _ = daemon.terminate() }
        #expect(await daemon.waitUntilSubscribed(), "\(daemon.log.suffix(2000))")
        // The API listens in a service of its own, which may come up after the subscriptions.
        let listening = await TestSupport.eventuallyAsync(timeout: .seconds(60)) { (try? await PlainHTTP.get(port: httpPort, path: "/healthz"))?.status == 200 }
        #expect(listening, "\(daemon.log.suffix(2000))")
        let first = try setup.expected("first-observation-id").trimmingCharacters(in: .whitespacesAndNewlines)
        let paths = [
            ("api-search-all.json", "/v1/observations?_count=100"), ("api-search-bed-02.json", "/v1/observations?device=bed-02-wrist"),
            ("api-proof.json", "/v1/observations/\(first)/proof"), ("api-checkpoint.txt", "/v1/checkpoints/latest"),
        ]
        for (name, path) in paths {
            let response = try await PlainHTTP.get(port: httpPort, path: path)
            #expect(response.status == 200, "\(path): \(response.body.prefix(500))")
            // A search Bundle says when it was made; all else must be the same bytes.
            #expect(Self.withoutTimestamp(response.body) == Self.withoutTimestamp(try setup.expected(name)), "\(path) differs from what cd5be8c served")
        }
    }

    static func withoutTimestamp(_ text: String) -> String {
        text.replacingOccurrences(of: #""timestamp":"[^"]*""#, with: #""timestamp":"""#, options: .regularExpression)
    }
}
