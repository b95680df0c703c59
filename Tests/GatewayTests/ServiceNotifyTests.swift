import Foundation
import Gateway
import JSONDocument
import Logging
import MQTTIngest
import Simulation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The daemon under a stand-in for systemd: a notify socket of the test's own, the watchdog
/// environment, and the staff HTTP API, all observed from outside the process.
@Suite("Service: sd_notify, watchdog and HTTP API of the real daemon", .serialized)
struct ServiceNotifyTests {
    static func writeConfig(directory: String, brokerPort: Int, httpPort: Int?, clientId: String) throws -> String {
        var yaml = """
            gateway: {id: test-ward, stateDirectory: \(directory)/state}
            mqtt: {host: 127.0.0.1, port: \(brokerPort), clientId: \(clientId), protocol: 5,
                   reconnect: {initial: 50ms, maximum: 300ms}}
            profiles: {directory: \(TestSupport.shippedProfiles)}
            journal: {durability: process, maxBytes: 1GiB}
            logging: {level: info, format: text}

            """
        if let httpPort { yaml += "http: {listen: 127.0.0.1:\(httpPort)}\n" }
        let path = directory + "/wardgate.yml"
        try yaml.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test("READY=1 comes only once the broker acknowledged the subscriptions; STATUS and WATCHDOG=1 before and after; RELOADING on SIGHUP; STOPPING on SIGTERM")
    func notifyLifecycle() async throws {
        #expect(FileManager.default.isExecutableFile(atPath: TestSupport.wardgateBinary), "build the wardgate executable first")
        let directory = TestSupport.temporaryDirectory("notify")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let brokerPort = try FreePort.find()
        let httpPort = try FreePort.find()
        let configPath = try Self.writeConfig(directory: directory, brokerPort: brokerPort, httpPort: httpPort, clientId: "wardgate-notify")
        let listener = try NotifyListener()
        defer { listener.close() }

        // No broker yet: the daemon must say it waits, feed the watchdog (its pipeline is
        // idle, not wedged), and not claim readiness.
        let daemon = try ServiceDaemon(configPath: configPath, logPath: directory + "/gateway.log",
                                       environment: ["NOTIFY_SOCKET": listener.path, "WATCHDOG_USEC": "400000"])
        let waited = await listener.wait { messages in
            messages.indices(ofLinePrefix: "STATUS=waiting for the broker").count >= 2 && !messages.indices(ofLine: "WATCHDOG=1").isEmpty
        }
        #expect(waited, "messages: \(listener.messages)\nlog: \(daemon.log)")
        #expect(listener.messages.indices(ofLine: "READY=1").isEmpty, "READY=1 before any broker existed: \(listener.messages)")

        // The API is up before readiness and says why it is not ready.
        #expect(try await PlainHTTP.get(port: httpPort, path: "/healthz").status == 200)
        let notReady = try await PlainHTTP.get(port: httpPort, path: "/readyz")
        #expect(notReady.status == 503)
        #expect(notReady.body.contains("not connected to 127.0.0.1:\(brokerPort)"), "\(notReady.body)")

        let broker = try PrivateBroker.start(directory: directory + "/broker", port: brokerPort)
        defer { broker.stop() }
        #expect(await listener.wait { !$0.indices(ofLine: "READY=1").isEmpty }, "no READY=1: \(listener.messages)\nlog: \(daemon.log)")
        let readyIndex = try #require(listener.messages.indices(ofLine: "READY=1").first)
        #expect(listener.messages[readyIndex].contains("STATUS=ready; broker 127.0.0.1:\(brokerPort) connected; backlog"))

        // At READY the subscriptions are acknowledged: a message published right now, on a
        // session the broker never saw before, reaches the journal.
        let device = try MQTTClient(settings: MQTTSettings(port: brokerPort, clientId: "svc-device-1", cleanStart: true), logger: TestSupport.quietLogger)
        device.start()
        #expect(await device.waitUntilReady(timeout: .seconds(60)))
        let ts = Int64(Date().timeIntervalSince1970 * 1000)
        try device.publish(topic: "wards/7b/devices/svc-1/vitals", payload: Array(#"{"ts": \#(ts), "hr": 72}"#.utf8))
        #expect(await device.waitForPublishes(timeout: .seconds(60)))
        device.stop()
        let stored = await TestSupport.eventuallyAsync(timeout: .seconds(60)) {
            guard let response = try? await PlainHTTP.get(port: httpPort, path: "/v1/observations?device=svc-1"), response.status == 200 else { return false }
            return (try? JSONParser.parse(response.body))?["total"] == 1
        }
        #expect(stored, "the message published at READY did not become an Observation")
        let search = try JSONParser.parse(try await PlainHTTP.get(port: httpPort, path: "/v1/observations?device=svc-1").body)
        #expect(search["type"] == "searchset")
        #expect(search["entry"]?.arrayValue?.first?["search"]?["mode"] == "match")
        #expect(try await PlainHTTP.get(port: httpPort, path: "/readyz").status == 200)
        let metrics = try await PlainHTTP.get(port: httpPort, path: "/metrics")
        #expect(metrics.status == 200)
        #expect(metrics.body.contains("wardgate_messages_received_total 1"), "\(metrics.body)")
        #expect(metrics.body.contains("wardgate_backlog_messages"))

        // Pings keep coming after READY.
        let pingsAtReady = listener.messages.indices(ofLine: "WATCHDOG=1").filter { $0 > readyIndex }.count
        #expect(await listener.wait { $0.indices(ofLine: "WATCHDOG=1").filter { $0 > readyIndex }.count > pingsAtReady })

        // SIGHUP: RELOADING=1 with MONOTONIC_USEC, then READY=1 again.
        let beforeReload = listener.messages.count
        daemon.signal(SIGHUP)
        #expect(await listener.wait { messages in
            guard let reloading = messages.indices(ofLine: "RELOADING=1").first(where: { $0 >= beforeReload }) else { return false }
            return messages.indices(ofLine: "READY=1").contains { $0 > reloading }
        }, "\(listener.messages.suffix(from: beforeReload))")
        let reloading = try #require(listener.messages.indices(ofLine: "RELOADING=1").first { $0 >= beforeReload })
        #expect(listener.messages[reloading].contains("MONOTONIC_USEC="))

        // SIGTERM: STOPPING=1, then a clean exit.
        let beforeStop = listener.messages.count
        #expect(await daemon.terminate() == 0, "log: \(daemon.log)")
        #expect(listener.messages.indices(ofLine: "STOPPING=1").contains { $0 >= beforeStop })
        #expect(daemon.log.contains("wardgate stopped"))
    }

    @Test("a wedged journal writer stops the WATCHDOG=1 pings; they resume once it is free")
    func wedgedPipelineStopsPings() async throws {
        let directory = TestSupport.temporaryDirectory("wedge")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let broker = try PrivateBroker.start(directory: directory + "/broker")
        defer { broker.stop() }
        let configPath = try Self.writeConfig(directory: directory, brokerPort: broker.port, httpPort: nil, clientId: "wardgate-wedge")
        let listener = try NotifyListener(abstract: true)
        defer { listener.close() }
        let daemon = try ServiceDaemon(configPath: configPath, logPath: directory + "/gateway.log",
                                       environment: ["NOTIFY_SOCKET": listener.path, "WATCHDOG_USEC": "600000"])
        #expect(await listener.wait { messages in
            guard let ready = messages.indices(ofLine: "READY=1").first else { return false }
            return messages.indices(ofLine: "WATCHDOG=1").contains { $0 > ready }
        }, "\(listener.messages)\nlog: \(daemon.log)")

        // Another process takes SQLite's write lock: the daemon's writer is stuck behind it.
        let lock = try JournalWriteLock(databasePath: directory + "/state/journal.sqlite")
        let locked = listener.messages.count
        let wedged = "STATUS=wedged, watchdog withheld"
        #expect(await listener.wait { $0.indices(ofLinePrefix: wedged).filter { $0 >= locked }.count >= 2 }, "\(listener.messages.suffix(from: locked))")
        let reports = listener.messages.indices(ofLinePrefix: wedged).filter { $0 >= locked }
        let first = reports[0], second = reports[1]
        // Between two consecutive wedged reports (two watchdog ticks), no ping went out.
        #expect(!listener.messages.indices(ofLine: "WATCHDOG=1").contains { $0 > first && $0 < second }, "\(listener.messages.suffix(from: locked))")

        lock.release()
        let released = listener.messages.count
        #expect(await listener.wait { $0.indices(ofLine: "WATCHDOG=1").contains { $0 >= released } }, "pings did not resume: \(listener.messages.suffix(from: released))")
        #expect(daemon.log.contains("watchdog ping withheld"))
        #expect(await daemon.terminate() == 0)
    }

    @Test("WATCHDOG_PID naming another process means the watchdog is not ours: no pings")
    func watchdogForAnotherProcess() async throws {
        let directory = TestSupport.temporaryDirectory("wdpid")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let broker = try PrivateBroker.start(directory: directory + "/broker")
        defer { broker.stop() }
        let configPath = try Self.writeConfig(directory: directory, brokerPort: broker.port, httpPort: nil, clientId: "wardgate-wdpid")
        let listener = try NotifyListener()
        defer { listener.close() }
        let daemon = try ServiceDaemon(configPath: configPath, logPath: directory + "/gateway.log",
                                       environment: ["NOTIFY_SOCKET": listener.path, "WATCHDOG_USEC": "200000", "WATCHDOG_PID": "1"])
        #expect(await listener.wait { !$0.indices(ofLine: "READY=1").isEmpty })
        let beforeStop = listener.messages.count
        #expect(await daemon.terminate() == 0)
        #expect(await listener.wait { $0.indices(ofLine: "STOPPING=1").contains { $0 >= beforeStop } })
        // The daemon ran from before READY to STOPPING with a 100 ms ping period had the
        // watchdog been its own; it sent none.
        #expect(listener.messages.indices(ofLine: "WATCHDOG=1").isEmpty, "\(listener.messages)")
    }
}
