import Foundation
import Hummingbird
import HummingbirdTLS
import HummingbirdTesting
import JSONDocument
import Journal
import Logging
import ServiceLifecycle
import StaffAPI
import Synchronization
import Testing
import WardgateTestSupport

/// The staff API over real sockets: a `StaffAPIServer` on 127.0.0.1 with a kernel-chosen port,
/// and Hummingbird's HTTP/1.1 test client connecting to it.
@Suite("Staff HTTP API")
struct StaffAPITests {
    @Test("/healthz answers 200 while the process runs")
    func health() async throws {
        try await withServer { client, _ in
            let response = try await client.get("/healthz")
            #expect(response.status == .ok)
            #expect(try json(response)["status"] == "alive")
        }
    }

    @Test("/readyz is 200 when every check passes and 503 with the failing checks' reasons otherwise")
    func readiness() async throws {
        let state = Box(Readiness(checks: [.init(name: "broker", ok: true), .init(name: "journal", ok: true), .init(name: "quota", ok: true)]))
        try await withServer(readiness: { state.withLock { $0 } }) { client, _ in
            var response = try await client.get("/readyz")
            #expect(response.status == .ok)
            #expect(try json(response)["status"] == "ready")

            state.withLock { $0.checks[0] = .init(name: "broker", ok: false, detail: "not connected to 127.0.0.1:1883") }
            response = try await client.get("/readyz")
            #expect(response.status == .serviceUnavailable)
            let body = try json(response)
            #expect(body["status"] == "not ready")
            #expect(body["reasons"] == ["broker: not connected to 127.0.0.1:1883"])

            state.withLock {
                $0.checks[0].ok = true
                $0.checks[2] = .init(name: "quota", ok: false, detail: "exhausted: 2048 of 1024 bytes used")
            }
            response = try await client.get("/readyz")
            #expect(response.status == .serviceUnavailable)
            #expect(try json(response)["reasons"] == ["quota: exhausted: 2048 of 1024 bytes used"])
        }
    }

    @Test("/metrics serves the exposition text it is given, as Prometheus text")
    func metrics() async throws {
        let text = "# TYPE wardgate_messages_received_total counter\nwardgate_messages_received_total 42\n"
        try await withServer(metrics: { text }) { client, _ in
            let response = try await client.get("/metrics")
            #expect(response.status == .ok)
            #expect(response.headers[.contentType]?.hasPrefix("text/plain; version=0.0.4") == true)
            #expect(body(response) == text)
        }
    }

    @Test("/v1/observations returns a FHIR searchset Bundle filtered by device, since and _count")
    func observationSearch() async throws {
        try await withServer { client, journal in
            // Nothing yet: total 0 and no entry element (FHIR JSON has no empty arrays).
            var bundle = try json(try await client.get("/v1/observations"))
            #expect(bundle["total"] == 0)
            #expect(bundle["entry"] == nil)
            try Fixture.store(journal, [
                ("dev-a", 1_000), ("dev-b", 2_000), ("dev-a", 3_000), ("dev-a", 4_000),
            ])
            bundle = try json(try await client.get("/v1/observations"))
            #expect(bundle["resourceType"] == "Bundle")
            #expect(bundle["type"] == "searchset")
            #expect(bundle["total"] == 4)
            let entries = try #require(bundle["entry"]?.arrayValue)
            #expect(entries.count == 4)
            for entry in entries {
                #expect(entry["search"]?["mode"] == "match")
                #expect(entry["fullUrl"]?.stringValue?.hasPrefix("urn:uuid:") == true)
                #expect(entry["resource"]?["resourceType"] == "Observation")
            }
            #expect(entries.first?["fullUrl"] == .string(ObservationSearch.defaultFullUrl(Fixture.id(0))))

            bundle = try json(try await client.get("/v1/observations?device=dev-a"))
            #expect(bundle["total"] == 3)
            #expect(bundle["entry"]?.arrayValue?.allSatisfy { $0["resource"]?["device"]?["identifier"]?["value"] == "dev-a" } == true)

            // since filters on the gateway receive time (issued), inclusive.
            bundle = try json(try await client.get("/v1/observations?since=1970-01-01T00:00:03Z"))
            #expect(bundle["total"] == 2)
            bundle = try json(try await client.get("/v1/observations?since=1970-01-01T01:00:02.5%2B01:00&device=dev-a"))
            #expect(bundle["total"] == 2)

            // A page cut at _count leaves total out and says so in an outcome entry.
            bundle = try json(try await client.get("/v1/observations?_count=2"))
            #expect(bundle["total"] == nil)
            let page = try #require(bundle["entry"]?.arrayValue)
            #expect(page.filter { $0["search"]?["mode"] == "match" }.count == 2)
            #expect(page.last?["search"]?["mode"] == "outcome")
            #expect(page.last?["resource"]?["resourceType"] == "OperationOutcome")
        }
    }

    @Test("search errors are 400 OperationOutcomes: bad since, bad _count, unknown parameters")
    func observationSearchErrors() async throws {
        try await withServer { client, _ in
            for query in ["since=yesterday", "since=2026-11-21T08:00:00", "_count=0", "_count=100000", "_count=x", "devcie=dev-a", "device=a&device=b"] {
                let response = try await client.get("/v1/observations?\(query)")
                #expect(response.status == .badRequest, "\(query)")
                #expect(response.headers[.contentType] == "application/fhir+json")
                #expect(try json(response)["resourceType"] == "OperationOutcome", "\(query)")
            }
        }
    }

    @Test("includes from the hook (the Provenance of signed Observations) come as search.mode include")
    func provenanceHook() async throws {
        let hooks = StaffAPIHooks(includes: { observations in
            observations.map { ["fullUrl": .string("urn:wardgate:provenance:\($0.id)"), "resource": ["resourceType": "Provenance", "target": [["reference": .string("Observation/\($0.id)")]]]] }
        })
        try await withServer(hooks: hooks) { client, journal in
            try Fixture.store(journal, [("dev-a", 1_000)])
            let entries = try #require(try json(try await client.get("/v1/observations"))["entry"]?.arrayValue)
            #expect(entries.map { $0["search"]?["mode"] } == ["match", "include"])
            #expect(entries[1]["resource"]?["resourceType"] == "Provenance")
        }
    }

    @Test("the Bundle is valid FHIR R4 for an independent checker (fhir.resources)")
    func bundleValidates() async throws {
        try await withServer { client, journal in
            try Fixture.store(journal, [("dev-a", 1_000), ("dev-b", 2_000)])
            let empty = body(try await client.get("/v1/observations?device=nobody"))
            let full = body(try await client.get("/v1/observations"))
            let cut = body(try await client.get("/v1/observations?_count=1"))
            let result = try Python.validateBundles([empty, full, cut])
            #expect(result.status == 0, "validate_bundle.py: \(result.output)")
            #expect(result.output.contains("validated 3 Bundles"))
        }
        // The checker is not a rubber stamp.
        let broken = try Python.validateBundles([#"{"resourceType":"Bundle","type":"searchset","entry":[{"search":{"mode":"sideways"}}]}"#])
        #expect(broken.status == 1)
    }

    @Test("proof and checkpoint routes answer 501 with a JSON reason without hooks, and serve what the hooks give")
    func notImplementedRoutes() async throws {
        try await withServer { client, _ in
            for path in ["/v1/observations/abc/proof", "/v1/checkpoints/latest"] {
                let response = try await client.get(path)
                #expect(response.status == .notImplemented)
                let reason = try json(response)["reason"]?.stringValue ?? ""
                #expect(reason.contains("Merkle log"))
            }
        }
        // With hooks they serve what the hooks give.
        let hooks = StaffAPIHooks(
            proof: { id in
                switch id {
                case "known": .bundle(["leafIndex": 3])
                case "fresh": .notYet("not yet checkpointed")
                default: .notFound("no such reading: \(id)")
                }
            },
            latestCheckpoint: { "example.org/log\n4\nAAAA\n" })
        try await withServer(hooks: hooks) { client, _ in
            let proof = try await client.get("/v1/observations/known/proof")
            #expect(try json(proof)["leafIndex"] == 3)
            #expect(try await client.get("/v1/observations/other/proof").status == .notFound)
            let fresh = try await client.get("/v1/observations/fresh/proof")
            #expect(fresh.status == .conflict)
            #expect(fresh.headers[.retryAfter] == "1")
            #expect(body(try await client.get("/v1/checkpoints/latest")) == "example.org/log\n4\nAAAA\n")
        }
    }

    @Test("with a bearer token: 401 without it or with a wrong one, 200 with it; /healthz stays open")
    func bearerToken() async throws {
        let token = "s3cret-token-0123456789"
        try await withServer(configure: { $0.bearerToken = token }) { client, _ in
            for headers: HTTPFields in [[:], [.authorization: "Bearer wrong-token-0123456789"], [.authorization: "Basic \(token)"], [.authorization: "Bearer \(token)x"]] {
                let response = try await client.get("/v1/observations", headers: headers)
                #expect(response.status == .unauthorized)
                #expect(response.headers[.wwwAuthenticate] == "Bearer realm=\"wardgate\"")
            }
            #expect(try await client.get("/metrics").status == .unauthorized)
            #expect(try await client.get("/readyz").status == .unauthorized)
            #expect(try await client.get("/v1/observations", headers: [.authorization: "Bearer \(token)"]).status == .ok)
            #expect(try await client.get("/metrics", headers: [.authorization: "bearer \(token)"]).status == .ok)
            #expect(try await client.get("/healthz").status == .ok)
        }
    }

    @Test("a non-loopback address without a token or mTLS is refused before anything listens")
    func nonLoopbackRefused() throws {
        let journal = try Fixture.journal()
        for host in ["0.0.0.0", "::", "192.0.2.10", "gateway.ward.example"] {
            let config = StaffAPIConfiguration(host: host, port: 0)
            #expect(throws: StaffAPIError.self) {
                _ = try StaffAPIServer(configuration: config, journal: journal, metricsText: { "" }, readiness: { Readiness(checks: []) }, logger: Logger(label: "t"))
            }
            #expect(config.problems().first?.contains("needs a bearer token") == true)
            var withToken = config
            withToken.bearerToken = "0123456789abcdef0123"
            #expect(withToken.problems().isEmpty)
        }
        for host in ["127.0.0.1", "127.1.2.3", "::1", "localhost"] {
            #expect(StaffAPIConfiguration(host: host, port: 0).problems().isEmpty, "\(host)")
        }
    }

    @Test("a client past its burst gets 429 with Retry-After; the limit is per client")
    func rateLimit() async throws {
        try await withServer(configure: { $0.rateLimit = .init(requestsPerSecond: 1.0 / 3600, burst: 3) }) { client, _ in
            for _ in 0..<3 { #expect(try await client.get("/readyz").status == .ok) }
            let limited = try await client.get("/readyz")
            #expect(limited.status == .tooManyRequests)
            let retryAfter = try #require(limited.headers[.retryAfter].flatMap { Int($0) })
            #expect(retryAfter > 0 && retryAfter <= 3600)
            #expect(try await client.get("/v1/observations").status == .tooManyRequests)
        }
        // The bucket itself, with explicit instants: refill, per-client keys, bounded table.
        let limiter = RateLimiter(requestsPerSecond: 2, burst: 2, maxClients: 3)
        let t0 = ContinuousClock.now
        #expect(limiter.take(client: "a", now: t0) == .allowed)
        #expect(limiter.take(client: "a", now: t0) == .allowed)
        #expect(limiter.take(client: "a", now: t0) == .limited(retryAfterSeconds: 1))
        #expect(limiter.take(client: "b", now: t0) == .allowed)
        #expect(limiter.take(client: "a", now: t0 + .milliseconds(500)) == .allowed)
        for i in 0..<10 { _ = limiter.take(client: "c\(i)", now: t0 + .seconds(10)) }
        #expect(limiter.trackedClients <= 3)
    }

    @Test("mTLS: a client without a certificate from the staff CA cannot connect; one with it can")
    func mutualTLS() async throws {
        let pki = try TestPKI.make()
        let tls = StaffAPIConfiguration.TLS(certFile: pki.path("server.pem"), keyFile: pki.path("server.key"), clientCAFile: pki.path("ca.pem"))
        let journal = try Fixture.journal()
        let server = try StaffAPIServer(
            configuration: StaffAPIConfiguration(host: "127.0.0.1", port: 0, tls: tls), journal: journal,
            metricsText: { "" }, readiness: { Readiness(checks: []) }, logger: Logger(label: "test.staffapi"))
        try await server.serving { port in try await checkMutualTLS(port: port, pki: pki) }
        // A listener on every address is accepted with mTLS alone.
        #expect(StaffAPIConfiguration(host: "0.0.0.0", port: 0, tls: tls).problems().isEmpty)
    }

    func checkMutualTLS(port: Int, pki: TestPKI) async throws {
        var trusting = TLSConfiguration.makeClientConfiguration()
        trusting.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(pki.path("ca.pem")))
        var withCertificate = trusting
        withCertificate.certificateChain = try NIOSSLCertificate.fromPEMFile(pki.path("staff.pem")).map { .certificate($0) }
        withCertificate.privateKey = .privateKey(try NIOSSLPrivateKey(file: pki.path("staff.key"), format: .pem))
        var foreignCertificate = trusting
        foreignCertificate.certificateChain = try NIOSSLCertificate.fromPEMFile(pki.path("foreign.pem")).map { .certificate($0) }
        foreignCertificate.privateKey = .privateKey(try NIOSSLPrivateKey(file: pki.path("foreign.key"), format: .pem))

        let ok = try await TestClient.withClient(host: "localhost", port: port, configuration: .init(tlsConfiguration: withCertificate, timeout: .seconds(60))) { client in
            try await client.get("/readyz").status
        }
        #expect(ok == .ok)
        for configuration in [trusting, foreignCertificate] {
            await #expect(throws: (any Error).self) {
                _ = try await TestClient.withClient(host: "localhost", port: port, configuration: .init(tlsConfiguration: configuration, timeout: .seconds(60))) { client in
                    try await client.get("/readyz")
                }
            }
        }
    }

    @Test("listen addresses parse as host:port, IPv6 in brackets")
    func listenParsing() {
        #expect(StaffAPIConfiguration.parseListen("127.0.0.1:8080")! == ("127.0.0.1", 8080))
        #expect(StaffAPIConfiguration.parseListen("[::1]:9000")! == ("::1", 9000))
        #expect(StaffAPIConfiguration.parseListen("localhost:0")! == ("localhost", 0))
        for bad in ["127.0.0.1", "::1:80", ":8080", "host:70000", "[::1]8080", "a b:80"] {
            #expect(StaffAPIConfiguration.parseListen(bad) == nil, "\(bad)")
        }
    }

    @Test("a port already taken is a clear error, not a silent non-start")
    func portInUse() async throws {
        let journal = try Fixture.journal()
        let first = try StaffAPIServer(
            configuration: StaffAPIConfiguration(host: "127.0.0.1", port: 0), journal: journal,
            metricsText: { "" }, readiness: { Readiness(checks: []) }, logger: Logger(label: "test.staffapi"))
        try await first.serving { port in
            let second = try StaffAPIServer(
                configuration: StaffAPIConfiguration(host: "127.0.0.1", port: port), journal: journal,
                metricsText: { "" }, readiness: { Readiness(checks: []) }, logger: Logger(label: "test.staffapi"))
            do {
                try await second.serving { _ in Issue.record("a second server started on port \(port)") }
            } catch let error as StaffAPIError {
                guard case .cannotListen(let reason) = error else {
                    Issue.record("unexpected error \(error)")
                    return
                }
                #expect(reason.contains("127.0.0.1:\(port)"))
            }
        }
    }

    @Test("the server stops listening when stopped")
    func stops() async throws {
        let journal = try Fixture.journal()
        let server = try StaffAPIServer(
            configuration: StaffAPIConfiguration(host: "127.0.0.1", port: 0), journal: journal,
            metricsText: { "" }, readiness: { Readiness(checks: []) }, logger: Logger(label: "test.staffapi"))
        let port = try await server.serving { port in
            #expect(await Sockets.healthAnswerOffPool(port: port)?.contains("\"alive\"") == true)
            return port
        }
        // Nothing answers as our API any more. (Another test's process may have been handed
        // the freed port in the meantime, so "nothing listens" would be the wrong check.)
        #expect(await Sockets.healthAnswerOffPool(port: port)?.contains("\"alive\"") != true)
    }
}

// MARK: Support

/// A value shared between a test and the closures it hands the server.
final class Box<T: Sendable>: Sendable {
    private let value: Mutex<T>
    init(_ value: T) { self.value = Mutex(value) }
    func withLock<R>(_ body: (inout T) -> R) -> R { value.withLock { body(&$0) } }
}

func withServer(
    configure: (inout StaffAPIConfiguration) -> Void = { _ in },
    metrics: @escaping @Sendable () -> String = { "" },
    readiness: @escaping @Sendable () async -> Readiness = { Readiness(checks: [.init(name: "broker", ok: true)]) },
    hooks: StaffAPIHooks = StaffAPIHooks(),
    _ body: @escaping @Sendable (TestClient, Journal) async throws -> Void
) async throws {
    try await withServer(configure: configure, metrics: metrics, readiness: readiness, hooks: hooks) { client, journal, _ in
        try await body(client, journal)
    }
}

/// The same, also handing the body the bound port (for raw-socket checks).
func withServer(
    configure: (inout StaffAPIConfiguration) -> Void = { _ in },
    metrics: @escaping @Sendable () -> String = { "" },
    readiness: @escaping @Sendable () async -> Readiness = { Readiness(checks: [.init(name: "broker", ok: true)]) },
    hooks: StaffAPIHooks = StaffAPIHooks(),
    _ body: @escaping @Sendable (TestClient, Journal, Int) async throws -> Void
) async throws {
    var configuration = StaffAPIConfiguration(host: "127.0.0.1", port: 0)
    configure(&configuration)
    let journal = try Fixture.journal()
    var logger = Logger(label: "test.staffapi")
    logger.logLevel = .error
    let server = try StaffAPIServer(configuration: configuration, journal: journal, metricsText: metrics, readiness: readiness, hooks: hooks, logger: logger)
    try await server.serving { port in
        try await TestClient.withClient(host: "127.0.0.1", port: port, configuration: .init(timeout: .seconds(60))) { client in try await body(client, journal, port) }
    }
}

extension StaffAPIServer {
    /// Runs the server in a service group of its own (the daemon runs it in its one group) while
    /// `body` gets the bound port; then shuts the group down gracefully.
    @discardableResult
    func serving<T: Sendable>(_ body: (Int) async throws -> T) async throws -> T {
        let group = ServiceGroup(configuration: .init(services: [self], logger: Logger(label: "test.staffapi")))
        let running = Task { try await group.run() }
        let outcome: Result<T, any Error>
        do {
            let port = try await waitUntilListening()
            outcome = .success(try await body(port))
        } catch {
            outcome = .failure(error)
        }
        await group.triggerGracefulShutdown()
        _ = await running.result
        return try outcome.get()
    }
}

func body(_ response: TestClient.Response) -> String {
    response.body.map { String(buffer: $0) } ?? ""
}

func json(_ response: TestClient.Response) throws -> JSONValue {
    try JSONParser.parse(body(response))
}

enum Fixture {
    static func journal() throws -> Journal {
        let directory = NSTemporaryDirectory() + "wardgate-staffapi-\(UUID().uuidString.prefix(8))"
        return try Journal(directory: directory)
    }

    static func id(_ n: Int) -> String { String(format: "%032x", n + 0xabc000) }

    /// One Observation per (device, receive time in ms since the epoch), in this order.
    static func store(_ journal: Journal, _ readings: [(device: String, issuedAtMs: Int64)]) throws {
        var entries: [ObservationEntry] = []
        var last: Int64 = 0
        for (n, reading) in readings.enumerated() {
            last = try journal.appendInbox(topic: "wards/7b/devices/\(reading.device)/vitals", payload: Array("{}".utf8), qos: 1,
                                           receivedAt: Date(timeIntervalSince1970: Double(reading.issuedAtMs) / 1000))
            let issued = ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: Double(reading.issuedAtMs) / 1000))
            let resource: JSONValue = [
                "resourceType": "Observation", "id": .string(id(n)), "status": "final",
                "category": [["coding": [["system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": "vital-signs"]]]],
                "code": ["coding": [["system": "http://loinc.org", "code": "8867-4", "display": "Heart rate"]]],
                "device": ["identifier": ["system": "urn:wardgate:device", "value": .string(reading.device)]],
                "effectiveDateTime": .string(issued), "issued": .string(issued),
                "valueQuantity": ["value": .number("72"), "unit": "/min", "system": "http://unitsofmeasure.org", "code": "/min"],
            ]
            entries.append(ObservationEntry(id: id(n), inboxSeq: last, deviceId: reading.device, metricCode: 147842,
                                            effectiveAtMs: reading.issuedAtMs, issuedAtMs: reading.issuedAtMs, implausible: false,
                                            resource: resource.serializedBytes))
        }
        _ = try journal.commitProcessed(upTo: last, observations: entries, deadLetters: [])
    }
}

enum Sockets {
    /// `healthAnswer` on a dispatch thread: the in-process server needs the concurrency pool.
    static func healthAnswerOffPool(port: Int) async -> String? {
        await withCheckedContinuation { continuation in
            DispatchQueue.global().async { continuation.resume(returning: healthAnswer(port: port)) }
        }
    }

    /// What `GET /healthz` on 127.0.0.1:port returns, raw; nil when nothing accepts the connection.
    static func healthAnswer(port: Int) -> String? {
        exchange(port: port, request: "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n", waitForClose: .seconds(60))?.response
    }
}

enum Python {
    static var script: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Resources/validate_bundle.py").path
    }

    /// Validates each document as a FHIR R4B Bundle with fhir.resources; missing tools fail.
    static func validateBundles(_ documents: [String]) throws -> ProcessResult {
        let directory = NSTemporaryDirectory() + "wardgate-bundles-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var paths: [String] = []
        for (i, document) in documents.enumerated() {
            let path = directory + "/bundle-\(i).json"
            try document.write(toFile: path, atomically: true, encoding: .utf8)
            paths.append(path)
        }
        let result = try ProcessRunner.runTool(["python3", script] + paths)
        #expect(result.status != 127, "python3 is not on PATH")
        #expect(result.status != 3, "fhir.resources is missing: \(result.output)")
        return result
    }
}

/// A throwaway PKI made with the openssl command: a staff CA, a server certificate for
/// localhost, a staff client certificate, and a client certificate from a foreign CA.
struct TestPKI {
    let directory: String

    func path(_ name: String) -> String { directory + "/" + name }

    static func make() throws -> TestPKI {
        let directory = NSTemporaryDirectory() + "wardgate-pki-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let pki = TestPKI(directory: directory)
        try pki.openssl(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=Test Staff CA"])
        try pki.openssl(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "foreign-ca.key", "-out", "foreign-ca.pem", "-days", "2", "-subj", "/CN=Foreign CA"])
        try "subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n".write(toFile: pki.path("server.ext"), atomically: true, encoding: .utf8)
        try "extendedKeyUsage=clientAuth\n".write(toFile: pki.path("client.ext"), atomically: true, encoding: .utf8)
        try pki.issue("server", subject: "/CN=localhost", ca: "ca", ext: "server.ext")
        try pki.issue("staff", subject: "/CN=staff-station-1", ca: "ca", ext: "client.ext")
        try pki.issue("foreign", subject: "/CN=intruder", ca: "foreign-ca", ext: "client.ext")
        return pki
    }

    func issue(_ name: String, subject: String, ca: String, ext: String) throws {
        try openssl(["req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "\(name).key", "-out", "\(name).csr", "-subj", subject])
        try openssl(["x509", "-req", "-in", "\(name).csr", "-CA", "\(ca).pem", "-CAkey", "\(ca).key", "-CAcreateserial", "-out", "\(name).pem", "-days", "2", "-extfile", ext])
    }

    func openssl(_ arguments: [String]) throws {
        let result = try ProcessRunner.run("/usr/bin/openssl", arguments, directory: directory)
        guard result.status == 0 else { throw PKIError(message: "openssl \(arguments.joined(separator: " ")): \(result.output)") }
    }

    struct PKIError: Error, CustomStringConvertible {
        let message: String
        var description: String { message }
    }
}
