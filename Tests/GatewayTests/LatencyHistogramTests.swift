import Foundation
@testable import Gateway
import Journal
import Logging
import Processing
import Simulation
import Testing
import Timing
import WardgateTestSupport
import WardgateTools

/// One histogram of a Prometheus text exposition: its cumulative buckets, count and sum.
struct ExposedHistogram {
    let buckets: [(le: Double, count: Double)]
    let count: Double
    let sum: Double

    /// The series of `name` whose labels include every one of `labels` (`result="anchored"`).
    init?(_ exposition: String, name: String, labels: [String] = []) {
        guard exposition.contains("# TYPE \(name) histogram") else { return nil }
        var buckets: [(le: Double, count: Double)] = []
        var count: Double?
        var sum: Double?
        for line in exposition.split(separator: "\n") where line.hasPrefix(name + "_") {
            guard let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...]) else { continue }
            let series = line[..<space]
            let seriesLabels = series.firstIndex(of: "{").map { String(series[$0...]) } ?? ""
            guard labels.allSatisfy(seriesLabels.contains) else { continue }
            let metric = series.prefix { $0 != "{" }
            switch metric.dropFirst(name.count + 1) {
            case "bucket":
                guard let range = seriesLabels.range(of: #"le="([^"]+)""#, options: .regularExpression) else { continue }
                let text = seriesLabels[range].dropFirst(4).dropLast()
                guard let le = text == "+Inf" ? Double.infinity : Double(text) else { continue }
                buckets.append((le, value))
            case "count": count = value
            case "sum": sum = value
            default: continue
            }
        }
        guard let count, let sum, !buckets.isEmpty else { return nil }
        self.buckets = buckets.sorted { $0.le < $1.le }
        self.count = count
        self.sum = sum
    }

    /// Buckets with the bounds `expected` (in seconds or units), then +Inf; cumulative counts
    /// that never fall; +Inf equal to the count.
    func expectSane(bounds expected: [Double], _ name: String) {
        #expect(buckets.map(\.le) == expected + [.infinity], "\(name) buckets: \(buckets.map(\.le))")
        #expect(zip(buckets, buckets.dropFirst()).allSatisfy { $0.count <= $1.count }, "\(name) buckets are not cumulative: \(buckets)")
        #expect(buckets.last?.count == count, "\(name): +Inf \(buckets.last?.count ?? -1) != count \(count)")
        #expect(sum >= 0, "\(name) sum \(sum)")
    }

    /// How many observations were at most `bound`.
    func cumulative(atMost bound: Double) -> Double { buckets.last { $0.le <= bound }?.count ?? 0 }
}

@Suite("Latency histograms in /metrics: received to durable, logged and anchored; ledger submit; inbox commit size", .serialized)
struct LatencyHistogramTests {
    static func bounds(_ name: String) -> [Double] {
        PipelineHistograms.durationBuckets[name].map { $0.map(\.inSeconds) } ?? PipelineHistograms.valueBuckets[name] ?? []
    }

    @Test("the real daemon over a real broker: after real traffic, /metrics over HTTP has every histogram, with counts that match the counters")
    func daemonExposesHistograms() async throws {
        #expect(FileManager.default.isExecutableFile(atPath: TestSupport.wardgateBinary), "build the wardgate executable first")
        let ward = try LedgerWard("latency-histograms", devices: 3)
        defer { ward.remove() }
        let broker = try PrivateBroker.start(directory: ward.directory + "/broker")
        defer { broker.stop() }
        let httpPort = try FreePort.find()
        let configPath = try ward.writeConfigFile(brokerPort: broker.port, clientId: "wardgate-histograms", httpPort: httpPort)
        let daemon = try ServiceDaemon(configPath: configPath, logPath: ward.directory + "/gateway.log", environment: [:])
        let ready = await TestSupport.eventuallyAsync(timeout: .seconds(60)) {
            (try? await PlainHTTP.get(port: httpPort, path: "/readyz"))?.status == 200
        }
        #expect(ready, "log: \(daemon.log)")

        let devices = try SimulatedWard(devices: SimulatedWard.devices(count: 3, seed: ward.seed), brokerPort: broker.port, logger: TestSupport.quietLogger)
        #expect(await devices.waitUntilConnected(timeout: .seconds(30)))
        let published = try await devices.run(rounds: 20, roundsPerSecond: 20)
        #expect(await devices.waitForPublishes(timeout: .seconds(30)))
        devices.stop()

        // Settled: every message journaled and processed, every logged leaf anchored.
        var exposition = ""
        let settled = await TestSupport.eventuallyAsync(timeout: .seconds(60)) {
            guard let response = try? await PlainHTTP.get(port: httpPort, path: "/metrics"), response.status == 200 else { return false }
            exposition = response.body
            let values = MetricsSnapshot(exposition: exposition)
            return values["wardgate_messages_received_total"] == Double(published) && values["wardgate_backlog_messages"] == 0
                && values["wardgate_observations_logged_total"] > 0
                && values["wardgate_ledger_leaves_anchored_total"] == values["wardgate_observations_logged_total"]
        }
        #expect(settled, "metrics: \(exposition)\nlog: \(daemon.log)")
        let values = MetricsSnapshot(exposition: exposition)

        let durable = try #require(ExposedHistogram(exposition, name: ProcessingMetrics.receivedToDurableName), "\(exposition)")
        durable.expectSane(bounds: Self.bounds(ProcessingMetrics.receivedToDurableName), "received to durable")
        #expect(durable.count == Double(published), "one observation per message received")

        let commits = try #require(ExposedHistogram(exposition, name: ProcessingMetrics.inboxCommitSizeName))
        commits.expectSane(bounds: Self.bounds(ProcessingMetrics.inboxCommitSizeName), "inbox commit size")
        #expect(commits.count == values["wardgate_inbox_commits_total"] && commits.count > 0)
        #expect(commits.sum == Double(published), "the commit sizes add up to the messages received")

        let logged = try #require(ExposedHistogram(exposition, name: ProcessingMetrics.receivedToLoggedName))
        logged.expectSane(bounds: Self.bounds(ProcessingMetrics.receivedToLoggedName), "received to signed and logged")
        #expect(logged.count == values["wardgate_observations_logged_total"])

        let anchored = try #require(ExposedHistogram(exposition, name: PipelineHistograms.receivedToAnchoredName))
        anchored.expectSane(bounds: Self.bounds(PipelineHistograms.receivedToAnchoredName), "received to anchored")
        #expect(anchored.count == values["wardgate_ledger_leaves_anchored_total"])
        // The same leaves: each was anchored after it was logged.
        #expect(anchored.sum >= logged.sum, "received→anchored \(anchored.sum) s < received→logged \(logged.sum) s over the same leaves")

        let submits = try #require(ExposedHistogram(exposition, name: PipelineHistograms.ledgerSubmitName, labels: [#"result="anchored""#]))
        submits.expectSane(bounds: Self.bounds(PipelineHistograms.ledgerSubmitName), "ledger submit")
        #expect(submits.count == values["wardgate_ledger_batches_anchored_total"] && submits.count > 0)

        #expect(await daemon.terminate() == 0, "log: \(daemon.log)")

        let deployment = try String(contentsOfFile: TestSupport.packageRoot + "/docs/deployment.md", encoding: .utf8)
        for name in [ProcessingMetrics.receivedToDurableName, ProcessingMetrics.receivedToLoggedName, PipelineHistograms.receivedToAnchoredName,
                     PipelineHistograms.ledgerSubmitName, ProcessingMetrics.inboxCommitSizeName] {
            #expect(deployment.contains("| `\(name)"), "docs/deployment.md does not document \(name)")
        }
    }

    @Test("latency runs from the receive time journaled with the message, not from when it is processed; a failed submit has its own series")
    func latencyFromTheJournaledReceiveTime() async throws {
        let ward = try LedgerWard("latency-received-at", devices: 1)
        defer { ward.remove() }
        let broker = try PrivateBroker.start(directory: ward.directory + "/broker")
        defer { broker.stop() }
        let ledger = OutageSimulatingLedger(wrapping: try ward.embeddedLedger())
        ledger.isDown = true
        let gateway = try Gateway(config: ward.config(brokerPort: broker.port), logger: TestSupport.quietLogger, components: GatewayComponents(ledger: ledger))
        gateway.start()
        #expect(await gateway.waitUntilReady(timeout: .seconds(60)))

        // A message the journal holds as received an hour ago, the way one journaled before a
        // crash is found by the next run.
        let device = try #require(SimulatedWard.devices(count: 1, seed: ward.seed).first)
        let hourAgo = Date().addingTimeInterval(-3600)
        let payload = #"{"ts": \#(Int64(hourAgo.timeIntervalSince1970 * 1000)), "hr": 71}"#
        _ = try gateway.journal.appendInbox(topic: device.topic, payload: Array(payload.utf8), qos: 1, receivedAt: hourAgo)
        #expect(await TestSupport.eventually(timeout: .seconds(30)) { ledger.refused >= 1 && gateway.logTreeSize == 1 })
        ledger.isDown = false
        #expect(await TestSupport.eventually(timeout: .seconds(30)) { (try? gateway.outboxStatus().anchoredSize) == 1 })
        await gateway.stop()

        let exposition = gateway.metrics.exposition()
        let logged = try #require(ExposedHistogram(exposition, name: ProcessingMetrics.receivedToLoggedName))
        #expect(logged.count == 1)
        #expect(logged.sum >= 3600, "received→logged \(logged.sum) s: measured from processing, not from the journaled receive time")
        #expect(logged.cumulative(atMost: 1800) == 0)
        let anchored = try #require(ExposedHistogram(exposition, name: PipelineHistograms.receivedToAnchoredName))
        #expect(anchored.count == 1)
        #expect(anchored.sum >= 3600)
        #expect(anchored.cumulative(atMost: 900) == 0)
        #expect(anchored.cumulative(atMost: 14_400) == 1)
        let refused = try #require(ExposedHistogram(exposition, name: PipelineHistograms.ledgerSubmitName, labels: [#"result="retryable""#]))
        #expect(refused.count == Double(ledger.refused))
        let accepted = try #require(ExposedHistogram(exposition, name: PipelineHistograms.ledgerSubmitName, labels: [#"result="anchored""#]))
        #expect(accepted.count == 1)
    }
}
