import Evidence
import Foundation
import Gateway
import JSONDocument
import Journal
import Logging
import MQTTIngest
import Simulation
import StaffAPI
import StrictYAML
import Testing
import WardgateTools

/// The service pieces on their own: progress tracking, the notify client, watchdog settings,
/// the log format, the configuration sections, and readiness of an in-process gateway.
@Suite("Service: components")
struct ServiceComponentTests {
    // MARK: Wedged vs slow

    @Test("a backlog whose head keeps moving is healthy however slowly it drains; a head that stands still past the limit is stalled")
    func progressVerdicts() {
        var progress = PipelineProgress(stallLimit: .seconds(30))
        let t0 = ContinuousClock.now
        #expect(progress.observe(oldestPending: nil, at: t0) == .idle)
        #expect(progress.observe(oldestPending: 10, at: t0) == .progressing)
        // Slow: the same head for 29 s, then it moves; again and again for an hour.
        var now = t0
        var head: Int64 = 10
        for _ in 0..<120 {
            now += .seconds(29)
            #expect(progress.observe(oldestPending: head, at: now).isHealthy)
            head += 1
            now += .seconds(1)
            #expect(progress.observe(oldestPending: head, at: now) == .progressing)
        }
        // Wedged: the head stands still.
        #expect(progress.observe(oldestPending: head, at: now + .seconds(30)) == .slow(.seconds(30)))
        #expect(progress.observe(oldestPending: head, at: now + .seconds(31)) == .stalled(.seconds(31)))
        #expect(!progress.observe(oldestPending: head, at: now + .seconds(300)).isHealthy)
        // Draining completely, or the head moving again, recovers at once.
        #expect(progress.observe(oldestPending: head + 1, at: now + .seconds(301)) == .progressing)
        #expect(progress.observe(oldestPending: head + 1, at: now + .seconds(400)) == .stalled(.seconds(99)))
        #expect(progress.observe(oldestPending: nil, at: now + .seconds(401)) == .idle)
    }

    @Test("WATCHDOG_USEC/WATCHDOG_PID: the interval is ours only without a pid or with our pid; pings at half of it")
    func watchdogEnvironment() {
        #expect(WatchdogSettings.fromEnvironment([:], pid: 42) == nil)
        #expect(WatchdogSettings.fromEnvironment(["WATCHDOG_USEC": "0"], pid: 42) == nil)
        #expect(WatchdogSettings.fromEnvironment(["WATCHDOG_USEC": "abc"], pid: 42) == nil)
        let own = WatchdogSettings.fromEnvironment(["WATCHDOG_USEC": "30000000"], pid: 42)
        #expect(own?.interval == .seconds(30))
        #expect(own?.pingInterval == .seconds(15))
        #expect(WatchdogSettings.fromEnvironment(["WATCHDOG_USEC": "30000000", "WATCHDOG_PID": "42"], pid: 42) != nil)
        #expect(WatchdogSettings.fromEnvironment(["WATCHDOG_USEC": "30000000", "WATCHDOG_PID": "43"], pid: 42) == nil)
    }

    @Test("sd_notify datagrams reach a path socket and an abstract one; without NOTIFY_SOCKET nothing is sent")
    func notifier() async throws {
        for abstract in [false, true] {
            let listener = try NotifyListener(abstract: abstract)
            defer { listener.close() }
            let notifier = SystemdNotifier(environment: ["NOTIFY_SOCKET": listener.path])
            #expect(notifier.isEnabled)
            notifier.ready(status: "ready; backlog 0\nmessages")
            notifier.watchdog()
            notifier.reloading()
            notifier.stopping()
            #expect(await listener.wait { $0.count == 4 })
            let messages = listener.messages
            #expect(messages[0] == "READY=1\nSTATUS=ready; backlog 0 messages")
            #expect(messages[1] == "WATCHDOG=1")
            #expect(messages[2].hasPrefix("RELOADING=1\nMONOTONIC_USEC="))
            #expect(UInt64(messages[2].split(separator: "=").last ?? "") != nil)
            #expect(messages[3] == "STOPPING=1")
        }
        let disabled = SystemdNotifier(environment: [:])
        #expect(!disabled.isEnabled)
        #expect(!disabled.send([.ready]))
        #expect(!SystemdNotifier(environment: ["NOTIFY_SOCKET": "relative/path"]).isEnabled)
    }

    // MARK: Logging

    @Test("log lines: one line each, syslog priority prefix for journald, escaped control characters, quoted values")
    func logFormat() {
        let date = Date(timeIntervalSince1970: 1_763_719_200.25)
        let journald = ServiceLogHandler.line(level: .error, label: "wardgate", message: "message not stored\nsecond line",
                                              metadata: ["topic": "wards/7b/devices/w-1/vitals", "reason": "disk I/O error", "device": "w-1"],
                                              format: .journald, now: date)
        #expect(journald == "<3>error wardgate: message not stored\\nsecond line device=w-1 reason=\"disk I/O error\" topic=wards/7b/devices/w-1/vitals\n")
        let text = ServiceLogHandler.line(level: .info, label: "wardgate", message: "MQTT connected", metadata: ["broker": "127.0.0.1:1883"], format: .text, now: date)
        #expect(text == "2025-11-21T10:00:00.250Z info wardgate: MQTT connected broker=127.0.0.1:1883\n")
        #expect(ServiceLogHandler.syslogPriority(.warning) == 4)
        #expect(ServiceLogHandler.syslogPriority(.debug) == 7)
        #expect(LogFormat.auto.resolved(environment: ["JOURNAL_STREAM": "8:12345"]) == .journald)
        #expect(LogFormat.auto.resolved(environment: [:]) == .text)
    }

    @Test("values, payloads and patient identifiers in metadata are redacted at info and above, kept at debug")
    func logRedaction() {
        let sink = LogSink.capture()
        var logger = Logger(label: "wardgate") { ServiceLogHandler(label: $0, level: .debug, format: .journald, sink: sink) }
        logger.logLevel = .debug
        logger.warning("payload dead-lettered", metadata: ["device": "w-1", "payload": "{\"hr\": 72}", "patient": "MRN-0012", "value": "72"])
        logger.debug("decoded", metadata: ["value": "72"])
        logger.trace("not at this level")
        let lines = sink.captured
        #expect(lines.count == 2)
        #expect(lines[0] == "<4>warning wardgate: payload dead-lettered device=w-1 patient=<redacted> payload=<redacted> value=<redacted>\n")
        #expect(lines[1] == "<7>debug wardgate: decoded value=72\n")
    }

    // MARK: Configuration

    /// `files` are written 0600, as secrets must be; `modes` overrides that per file.
    static func parse(_ yaml: String, files: [String: String] = [:], modes: [String: Int] = [:]) throws(YAMLIssues) -> GatewayConfig {
        let directory = TestSupport.temporaryDirectory("svcconfig")
        for (name, content) in files {
            let path = directory + "/" + name
            try? content.write(toFile: path, atomically: true, encoding: .utf8)
            try? FileManager.default.setAttributes([.posixPermissions: modes[name] ?? 0o600], ofItemAtPath: path)
        }
        return try GatewayConfig.parse("gateway: {id: t}\n" + yaml, file: "wardgate.yml", baseDirectory: directory)
    }

    @Test("a bearer-token file that group or others may access is refused, as a key file is, naming the file and the chmod")
    func bearerTokenFileModes() throws {
        let yaml = "http: {listen: 127.0.0.1:8080, bearerTokenFile: ./token}\n"
        let token = "abcdefghijklmnopqrstuvwxyz\n"
        for mode in [0o644, 0o640, 0o604, 0o620, 0o602, 0o610, 0o601] {
            do {
                _ = try Self.parse(yaml, files: ["token": token], modes: ["token": mode])
                Issue.record("a token file of mode \(String(mode, radix: 8)) was accepted")
            } catch {
                let text = error.description
                #expect(text.contains("http.bearerTokenFile: "), "\(text)")
                #expect(text.contains("/token: bearer token file has mode \(String(mode, radix: 8)); it must not be accessible by group or others (chmod 600 "), "\(text)")
            }
        }
        for mode in [0o600, 0o400] {
            #expect(try Self.parse(yaml, files: ["token": token], modes: ["token": mode]).http?.bearerToken == "abcdefghijklmnopqrstuvwxyz")
        }
    }

    @Test("the http section: listen, token file, rate limit; absent means off")
    func httpSection() throws {
        #expect(try Self.parse("").http == nil)
        let config = try Self.parse("""
            http:
              listen: 0.0.0.0:8443
              bearerTokenFile: ./token
              rateLimit: {requestsPerSecond: 0.5, burst: 5}
              maxPageSize: 50
              idleTimeout: 15s
            logging: {level: warning, format: journald}
            """, files: ["token": "abcdefghijklmnopqrstuvwxyz\n"])
        let http = try #require(config.http)
        #expect(http.host == "0.0.0.0" && http.port == 8443)
        #expect(http.bearerToken == "abcdefghijklmnopqrstuvwxyz")
        #expect(http.rateLimit == .init(requestsPerSecond: 0.5, burst: 5))
        #expect(http.maxPageSize == 50 && http.defaultPageSize == 50)
        #expect(http.idleTimeout == .seconds(15))
        #expect(try Self.parse("http: {listen: 127.0.0.1:8080}").http?.idleTimeout == .seconds(60))
        #expect(config.logFormat == .journald)
        #expect(config.logLevel == .warning)
        #expect(try Self.parse("http: {listen: \"[::1]:8080\"}").http?.host == "::1")
    }

    @Test("the http section refuses a non-loopback address without authentication, bad addresses and unknown keys")
    func httpSectionErrors() {
        func issues(_ yaml: String) -> String {
            do {
                _ = try Self.parse(yaml)
                return ""
            } catch {
                return error.description
            }
        }
        #expect(issues("http: {listen: 0.0.0.0:8080}").contains("wardgate.yml: http: listening on 0.0.0.0, which is not loopback, needs a bearer token"))
        #expect(issues("http: {listen: localhost}").contains("http.listen: expected host:port"))
        #expect(issues("http: {listen: 127.0.0.1:8080, bearerTokenFile: ./missing}").contains("http.bearerTokenFile: cannot read a token"))
        #expect(issues("http: {listen: 127.0.0.1:8080, rateLimit: {requestsPerSecond: -1}}").contains("http.rateLimit.requestsPerSecond"))
        #expect(issues("http: {listen: 127.0.0.1:8080, port: 1}").contains("http.port: unknown key"))
        #expect(issues("http: {bearerTokenFile: ./t}").contains("http.listen: is required"))
        #expect(issues("logging: {format: json}").contains("logging.format: must be one of auto, journald, text"))
        #expect(issues("http: {listen: 127.0.0.1:8080, idleTimeout: 0s}").contains("http.idleTimeout: must be longer than 0 s"))
        #expect(issues("http: {listen: 127.0.0.1:8080, idleTimeout: soon}").contains("http.idleTimeout: expected a duration"))
        #expect(issues("http: {listen: 127.0.0.1:8080}") == "")
    }

    @Test("the commented defaults printed by config init still parse")
    func defaultYAML() throws {
        let directory = TestSupport.temporaryDirectory("svcdefault")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let config = try GatewayConfig.parse(GatewayConfig.defaultYAML, file: "wardgate.yml", baseDirectory: directory)
        #expect(config.http == nil)
        #expect(config.logFormat == .auto)
        #expect(config.log != nil && config.deprecations.isEmpty, "config init prints transparencyLog:, not the deprecated log:")
    }

    @Test("the Merkle log's section is transparencyLog:; the old log: still parses, with a deprecation naming the new key that the gateway logs at start")
    func transparencyLogKey() throws {
        let section = "{origin: wardgate/hospital.example/ward-7b, gatewayCertificate: ./cert.pem, gatewayKey: ./key.pem}\n"
        let current = try Self.parse("transparencyLog: " + section)
        let old = try Self.parse("log: " + section)
        #expect(current.log != nil && old.log?.origin == current.log?.origin && old.log?.gatewayKey.hasSuffix("/key.pem") == true)
        #expect(current.deprecations.isEmpty)
        #expect(old.deprecations.count == 1 && old.deprecations[0].contains("rename it to transparencyLog:"), "\(old.deprecations)")
        do {
            _ = try Self.parse("transparencyLog: " + section + "log: " + section)
            Issue.record("both names of the section were accepted")
        } catch {
            #expect(error.description.contains("log: is the old name of transparencyLog"), "\(error)")
        }

        let directory = TestSupport.temporaryDirectory("svclogkey")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var config = TestSupport.config(directory: directory, brokerPort: 1)
        config.deprecations = old.deprecations
        let sink = LogSink.capture()
        let logger = Logger(label: "wardgate") { ServiceLogHandler(label: $0, level: .info, format: .text, sink: sink) }
        let gateway = try Gateway(config: config, logger: logger)
        try gateway.journal.close()
        #expect(sink.captured.contains { $0.contains("warning") && $0.contains("deprecated configuration") && $0.contains("rename it to transparencyLog:") },
                "\(sink.captured)")
    }

    // MARK: Readiness of a real gateway

    @Test("readiness: ready with the broker; not ready without it, with a stuck journal writer, or with the quota exhausted")
    func gatewayReadiness() async throws {
        let directory = TestSupport.temporaryDirectory("svcready")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let broker = try PrivateBroker.start(directory: directory + "/broker")
        defer { broker.stop() }
        let gateway = try Gateway(config: TestSupport.config(directory: directory, brokerPort: broker.port, clientId: "wardgate-ready"), logger: TestSupport.quietLogger)
        let service = try GatewayService(gateway: gateway, notifier: SystemdNotifier(socketPath: nil),
                                         options: .init(watchdog: nil, readinessProbeTimeout: .seconds(5)), logger: TestSupport.quietLogger)
        gateway.start()
        #expect(await gateway.waitUntilReady(timeout: .seconds(60)))
        var readiness = await service.readiness()
        #expect(readiness.isReady, "\(readiness.reasons)")
        #expect(readiness.checks.map(\.name) == ["broker", "journal", "log", "quota"])

        // A stuck writer: another process holds SQLite's write lock.
        let lock = try JournalWriteLock(databasePath: gateway.journal.path)
        readiness = await service.readiness()
        #expect(!readiness.isReady)
        #expect(readiness.reasons.contains { $0.hasPrefix("journal: ") }, "\(readiness.reasons)")
        lock.release()
        #expect(await TestSupport.eventuallyAsync(timeout: .seconds(60)) { await service.readiness().isReady })

        broker.stop()
        #expect(await TestSupport.eventually(timeout: .seconds(60)) { !gateway.isConnected })
        readiness = await service.readiness()
        #expect(readiness.reasons == ["broker: not connected to 127.0.0.1:\(broker.port)"])
        await gateway.stop()

        // Quota: a journal already larger than its limit.
        let small = try Gateway(config: TestSupport.config(directory: directory, brokerPort: broker.port, clientId: "wardgate-ready2", maxBytes: 1024), logger: TestSupport.quietLogger)
        let smallService = try GatewayService(gateway: small, notifier: SystemdNotifier(socketPath: nil), options: .init(watchdog: nil), logger: TestSupport.quietLogger)
        readiness = await smallService.readiness()
        #expect(readiness.reasons.contains { $0.hasPrefix("quota: exhausted") }, "\(readiness.reasons)")
        try small.journal.close()
    }

    @Test("a shutdown held up past stopTimeout (a stuck journal writer) ends: run() returns 1, the journal left for the next start")
    func boundedShutdown() async throws {
        let directory = TestSupport.temporaryDirectory("svcbound")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let config = TestSupport.config(directory: directory, brokerPort: 1, clientId: "wardgate-bound")
        let gateway = try Gateway(config: config, logger: TestSupport.quietLogger)
        let service = try GatewayService(gateway: gateway, notifier: SystemdNotifier(socketPath: nil),
                                         options: .init(watchdog: nil, stopTimeout: .milliseconds(300)), logger: TestSupport.quietLogger)
        let running = Task { await service.run() }
        // Another process holds SQLite's write lock: closing the journal (its WAL checkpoint)
        // waits for it, up to the journal's 10 s busy timeout, far past the limit.
        let lock = try JournalWriteLock(databasePath: gateway.journal.path)
        await service.shutdown()
        #expect(await running.value == 1)
        #expect(!gateway.hasStopped)
        lock.release()
        // The next start resumes: the journal is whole.
        let next = try Gateway(config: config, logger: TestSupport.quietLogger)
        #expect(try next.journal.quickCheck().isEmpty)
        try next.journal.close()
    }
}

extension TestSupport {
    /// `eventually` with an async condition.
    static func eventuallyAsync(timeout: Duration, _ condition: () async -> Bool) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if await condition() { return true }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return await condition()
    }
}

/// The API wired to a real gateway that signs and logs: Provenance in the search, proof
/// bundles and checkpoints from the Merkle log.
@Suite("Service: HTTP API of a signing, logging gateway", .serialized)
struct ServiceProofAPITests {
    @Test("search pages carry each signed Observation's Provenance; /proof serves the bundle once a checkpoint covers it; /checkpoints/latest the note")
    func proofsOverHTTP() async throws {
        let setup = try ProofTests.setup(brokerPort: 1)
        defer { try? FileManager.default.removeItem(atPath: setup.ward.directory) }
        var config = setup.config
        config.http = StaffAPIConfiguration(host: "127.0.0.1", port: 0)
        let gateway = try Gateway(config: config, logger: TestSupport.quietLogger)
        let service = try GatewayService(gateway: gateway, notifier: SystemdNotifier(socketPath: nil),
                                         options: .init(watchdog: nil, stopTimeout: .seconds(600)), logger: TestSupport.quietLogger)
        let running = Task { await service.run() }
        // Generous limits: on 2 shared cores the whole suite runs beside this test.
        #expect(await TestSupport.eventually(timeout: .seconds(90)) { service.apiPort != nil })
        let port = try #require(service.apiPort)

        let payload = Array("{\"ts\": \(Int64(Date().timeIntervalSince1970 * 1000) - 5_000), \"hr\": 72}".utf8)
        try gateway.journal.appendInbox(topic: "wards/w/devices/good/vitals", payload: payload, qos: 1, receivedAt: Date())
        try gateway.journal.appendInbox(topic: "wards/w/devices/stranger/vitals", payload: payload, qos: 1, receivedAt: Date())
        #expect(try await TestSupport.eventually(timeout: .seconds(90)) { try gateway.journal.statistics().pendingRecords == 0 })

        let search = try JSONParser.parse(try await PlainHTTP.get(port: port, path: "/v1/observations?device=good").body)
        let entries = try #require(search["entry"]?.arrayValue)
        #expect(entries.map { $0["search"]?["mode"] } == ["match", "include"])
        #expect(entries[1]["resource"]?["resourceType"] == "Provenance")
        let id = try #require(entries[0]["resource"]?["id"]?.stringValue)

        let proved = await TestSupport.eventuallyAsync(timeout: .seconds(90)) {
            (try? await PlainHTTP.get(port: port, path: "/v1/observations/\(id)/proof"))?.status == 200
        }
        #expect(proved)
        let bundle = try JSONParser.parse(try await PlainHTTP.get(port: port, path: "/v1/observations/\(id)/proof").body)
        #expect(bundle["format"] == .string(ProofBundle.format))
        #expect(bundle["observation"]?["id"] == .string(id))

        let stranger = try #require(try gateway.journal.observations(deviceId: "stranger").first)
        let refused = try await PlainHTTP.get(port: port, path: "/v1/observations/\(stranger.id)/proof")
        #expect(refused.status == 404)
        #expect(refused.body.contains("quarantined"), "\(refused.body)")
        #expect(try await PlainHTTP.get(port: port, path: "/v1/observations/0123/proof").status == 404)

        let checkpoint = try await PlainHTTP.get(port: port, path: "/v1/checkpoints/latest")
        #expect(checkpoint.status == 200)
        #expect(checkpoint.body.hasPrefix("wardgate/test.example/ward\n"), "\(checkpoint.body)")

        await service.shutdown()
        #expect(await running.value == 0)
    }
}
