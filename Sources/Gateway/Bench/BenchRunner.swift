import DeviceIdentity
import Foundation
import GRDB
import Journal
import Ledger
import Logging
import MQTTIngest
import Simulation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// `wardgate bench` (issue #8): a private broker, a temporary CA, the gateway in-process with
/// real signing and checkpoints, and N simulated devices publishing QoS 1 at a total rate.
///
/// A *reading* is one published payload = one MQTT message (it yields 5 Observations).
public struct BenchOptions: Sendable {
    public enum Payload: String, Sendable, CaseIterable {
        case json, senml, ieee11073
    }

    public var rate: Double
    public var devices: Int
    public var duration: Double
    public var payload: Payload
    public var durability: Durability
    public var findMax: Bool
    public var profilesDirectory: String
    /// `openssl speed` and the mosquitto_sub baseline (about 8 s); off only for smoke tests.
    public var runBaselines = true
    /// Readings to publish with the ledger held down before the measured run, which then runs
    /// while that backlog drains (`--backlog`).
    public var backlog = 0

    public init(rate: Double, devices: Int, duration: Double, payload: Payload, durability: Durability, findMax: Bool, profilesDirectory: String) {
        self.rate = rate
        self.devices = devices
        self.duration = duration
        self.payload = payload
        self.durability = durability
        self.findMax = findMax
        self.profilesDirectory = profilesDirectory
    }
}

public enum BenchError: Error, Sendable, CustomStringConvertible {
    case unsupported(String)
    case failed(String)

    public var description: String {
        switch self {
        case .unsupported(let reason): "not supported yet: \(reason)"
        case .failed(let reason): reason
        }
    }
}

public struct LatencyPercentiles: Sendable {
    public var p50: Double?
    public var p99: Double?
    public var p999: Double?
    public var count: Int

    public static let none = LatencyPercentiles(p50: nil, p99: nil, p999: nil, count: 0)

    static func of(_ values: [Double]) -> LatencyPercentiles {
        guard !values.isEmpty else { return .none }
        let sorted = values.sorted()
        func at(_ q: Double) -> Double {
            // Nearest rank.
            let rank = Int((q * Double(sorted.count)).rounded(.up))
            return sorted[min(sorted.count - 1, max(0, rank - 1))]
        }
        return LatencyPercentiles(p50: at(0.5), p99: at(0.99), p999: at(0.999), count: sorted.count)
    }
}

public struct FindMaxStep: Sendable {
    public let targetRate: Double
    public let publishedPerSecond: Double
    public let processedPerSecond: Double
    public let backlogAtStart: Int
    public let backlogAtEnd: Int
    public let sustained: Bool
    public let reason: String
}

/// How the gateway behaves with a backlog of unanchored readings (`--backlog N`).
public struct BacklogFigures: Sendable {
    /// One sample after each tenth of the backlog was journaled, signed and logged.
    public struct Sample: Sendable {
        public let readings: Int
        public let unanchoredLeaves: UInt64
        public let rssBytes: Int?
        public let journalBytes: Int64
    }

    public var readings = 0
    public var samples: [Sample] = []
    /// Readings/s journaled, signed and logged while the ledger was down.
    public var fillReadingsPerSecond: Double?
    /// From the ledger's return until every batch of the backlog was anchored.
    public var drainSeconds: Double?
    public var drainLeavesPerSecond: Double?
    public var rssBytesAfterDrain: Int?
}

public struct BenchResult: Sendable {
    public var options: BenchOptions
    public var readingsPerSecond: Double?
    public var publishedPerSecond: Double?
    public var baselineSubscriberPerSecond: Double?
    public var baselineSignaturesPerSecond: Double?
    public var durable = LatencyPercentiles.none
    public var received = LatencyPercentiles.none
    public var signed = LatencyPercentiles.none
    /// Publish to the commit of the receipt whose checkpoint covers all of the reading's leaves.
    public var anchored = LatencyPercentiles.none
    public var cpuSecondsPer1000: Double?
    public var rssBytesPeak: Int?
    public var rssBytesSteady: Int?
    public var journalBytesPerReading: Double?
    public var lost = 0
    public var duplicated = 0
    public var published = 0
    public var inboxRecords = 0
    public var redeliveries = 0
    public var observations = 0
    public var signedObservations = 0
    public var loggedObservations = 0
    public var steadySeconds = 0.0
    public var pollIntervalMs = 0.0
    public var findMaxSteps: [FindMaxStep] = []
    public var sustainableRate: Double?
    public var backlog: BacklogFigures?
    public var notes: [String] = []

    public var ratioToSubscriber: Double? {
        guard let r = readingsPerSecond, let b = baselineSubscriberPerSecond, b > 0 else { return nil }
        return r / b
    }

    /// Signatures the gateway makes per second (5 per reading) over what `openssl speed` signs.
    public var ratioToSignatures: Double? {
        guard let r = readingsPerSecond, let b = baselineSignaturesPerSecond, b > 0 else { return nil }
        return r * 5 / b
    }

    public var json: String {
        func n(_ v: Double?) -> String {
            guard let v, v.isFinite else { return "null" }
            return String(format: "%.4f", v)
        }
        func i(_ v: Int?) -> String { v.map(String.init) ?? "null" }
        func lat(_ l: LatencyPercentiles) -> String { "{\"p50\": \(n(l.p50)), \"p99\": \(n(l.p99)), \"p999\": \(n(l.p999))}" }
        let steps = findMaxSteps.map {
            "{\"targetRate\": \(n($0.targetRate)), \"publishedPerSecond\": \(n($0.publishedPerSecond)), \"processedPerSecond\": \(n($0.processedPerSecond)), \"backlogAtStart\": \($0.backlogAtStart), \"backlogAtEnd\": \($0.backlogAtEnd), \"sustained\": \($0.sustained)}"
        }
        return """
            {
              "reading": "one published payload = one MQTT message (5 Observations)",
              "readingsPerSecond": \(n(readingsPerSecond)),
              "publishedPerSecond": \(n(publishedPerSecond)),
              "baselineSubscriberPerSecond": \(n(baselineSubscriberPerSecond)),
              "ratioToSubscriber": \(n(ratioToSubscriber)),
              "baselineSignaturesPerSecond": \(n(baselineSignaturesPerSecond)),
              "ratioToSignatures": \(n(ratioToSignatures)),
              "latencyMs": {
                "durable": \(lat(durable)),
                "signed": \(lat(signed)),
                "anchored": \(lat(anchored))
              },
              "cpuSecondsPer1000": \(n(cpuSecondsPer1000)),
              "rssBytesPeak": \(i(rssBytesPeak)),
              "rssBytesSteady": \(i(rssBytesSteady)),
              "journalBytesPerReading": \(n(journalBytesPerReading)),
              "lost": \(lost),
              "duplicated": \(duplicated),
              "published": \(published),
              "sustainableRate": \(n(sustainableRate)),
              "findMaxSteps": [\(steps.joined(separator: ", "))],
              "backlog": \(backlogJSON)
            }
            """
    }

    private var backlogJSON: String {
        guard let b = backlog else { return "null" }
        func n(_ v: Double?) -> String { v.flatMap { $0.isFinite ? String(format: "%.4f", $0) : nil } ?? "null" }
        func i(_ v: Int?) -> String { v.map(String.init) ?? "null" }
        let samples = b.samples.map {
            "{\"readings\": \($0.readings), \"unanchoredLeaves\": \($0.unanchoredLeaves), \"rssBytes\": \(i($0.rssBytes)), \"journalBytes\": \($0.journalBytes)}"
        }
        return "{\"readings\": \(b.readings), \"fillReadingsPerSecond\": \(n(b.fillReadingsPerSecond)), \"drainSeconds\": \(n(b.drainSeconds)), "
            + "\"drainLeavesPerSecond\": \(n(b.drainLeavesPerSecond)), \"rssBytesAfterDrain\": \(i(b.rssBytesAfterDrain)), \"samples\": [\(samples.joined(separator: ", "))]}"
    }

    public var text: String {
        func f(_ v: Double?, _ digits: Int = 1) -> String { v.map { String(format: "%.\(digits)f", $0) } ?? "n/a" }
        func lat(_ l: LatencyPercentiles) -> String {
            l.count == 0 ? "n/a" : "p50 \(f(l.p50)) ms  p99 \(f(l.p99)) ms  p99.9 \(f(l.p999)) ms  (\(l.count) readings)"
        }
        var lines = [
            "wardgate bench: \(options.devices) devices, \(options.payload.rawValue) payloads, durability \(options.durability.rawValue)"
                + (options.findMax ? ", --find-max" : ", offered \(f(options.rate, 0)) readings/s for \(f(options.duration, 0)) s"),
            "  a reading = one published payload = one MQTT message (= 5 FHIR Observations, 5 signatures, 5 log leaves)",
            "  steady window:                \(f(steadySeconds)) s (after warm-up)",
            "  published:                    \(f(publishedPerSecond)) readings/s",
            "  fully processed:              \(f(readingsPerSecond)) readings/s (journaled + signed + logged)",
        ]
        if options.findMax {
            lines.append("  highest sustainable rate:     \(f(sustainableRate, 0)) readings/s")
            for s in findMaxSteps {
                lines.append(String(format: "    step %6.0f/s: published %7.1f/s processed %7.1f/s backlog %d -> %d  ",
                                    s.targetRate, s.publishedPerSecond, s.processedPerSecond, s.backlogAtStart, s.backlogAtEnd)
                             + (s.sustained ? "sustained" : "NOT sustained (\(s.reason))"))
            }
        }
        lines += [
            "  baseline mosquitto_sub -q 1:  \(f(baselineSubscriberPerSecond)) messages/s   ratio \(f(ratioToSubscriber, 3))",
            "  baseline openssl ecdsap256:   \(f(baselineSignaturesPerSecond)) signs/s   ratio (5 signs per reading) \(f(ratioToSignatures, 3))",
            "  latency publish -> received:  \(lat(received))",
            "  latency publish -> durable:   \(lat(durable))",
            "  latency publish -> signed+logged leaf committed: \(lat(signed))",
            "  latency publish -> anchored:  \(lat(anchored)) (embedded ledger, batch maxLeaves 1000 / maxAge 1 s)",
            "  CPU seconds per 1000 readings: \(f(cpuSecondsPer1000, 3)) (whole process: gateway + simulator + poller)",
            "  RSS peak / steady:            \(rssBytesPeak.map { "\($0 / 1_048_576) MiB" } ?? "n/a") / \(rssBytesSteady.map { "\($0 / 1_048_576) MiB" } ?? "n/a")",
            "  journal bytes per reading:    \(f(journalBytesPerReading, 0))",
            "  published \(published), inbox records \(inboxRecords) (redeliveries \(redeliveries)), observations \(observations) (signed \(signedObservations), logged \(loggedObservations))",
            "  lost \(lost), duplicated \(duplicated)",
            "  commit times are polled every \(f(pollIntervalMs)) ms: durable/signed/anchored latencies are upper bounds at that resolution",
        ]
        if let b = backlog {
            func mib(_ v: Int?) -> String { v.map { "\($0 / 1_048_576) MiB" } ?? "n/a" }
            lines.append("  backlog: \(b.readings) readings published with the ledger down (filled at \(f(b.fillReadingsPerSecond)) readings/s), then the run above while it drained")
            for sample in b.samples {
                lines.append("    \(sample.readings) readings: \(sample.unanchoredLeaves) unanchored leaves, RSS \(mib(sample.rssBytes)), journal \(f(Double(sample.journalBytes) / 1_048_576)) MiB")
            }
            lines.append("    drained in \(f(b.drainSeconds)) s (\(f(b.drainLeavesPerSecond, 0)) leaves/s anchored); RSS after the drain \(mib(b.rssBytesAfterDrain))")
        }
        lines += notes.map { "  note: \($0)" }
        return lines.joined(separator: "\n")
    }
}

/// Observes, from a reader connection, when inbox records and processed records are committed.
final class CommitPoller: Sendable {
    struct Sample: Sendable { let timeMs: Double; let inbox: Int64; let processed: Int64; var anchored: Int64 = 0 }

    private let samples = Mutex<[Sample]>([])
    private let last = Mutex(Sample(timeMs: 0, inbox: 0, processed: 0))
    private let stopped = Atomic<Bool>(false)
    private let finished = Atomic<Bool>(false)
    /// Off while a backlog fills: its samples are never used for latencies, and keeping them
    /// would make the bench's own memory grow with the backlog it measures.
    let recording = Atomic<Bool>(true)
    let intervalMicros: UInt32

    init(intervalMicros: UInt32 = 2_000) { self.intervalMicros = intervalMicros }

    func start(journal: Journal) {
        let thread = Thread { [self] in
            var last = Sample(timeMs: 0, inbox: -1, processed: -1, anchored: -1)
            while !stopped.load(ordering: .relaxed) {
                let values = try? journal.read { db -> (Int64, Int64, Int64) in
                    let inbox = try Int64.fetchOne(db, sql: "SELECT IFNULL(MAX(seq), 0) FROM inbox") ?? 0
                    let processed = try Int64.fetchOne(db, sql: "SELECT IFNULL(MAX(seq), 0) FROM cursor WHERE name = 'observations'") ?? 0
                    let anchored = try Int64.fetchOne(db, sql: "SELECT IFNULL(MAX(tree_size), 0) FROM ledger_outbox WHERE state = 'anchored'") ?? 0
                    return (inbox, processed, anchored)
                }
                let now = Date().timeIntervalSince1970 * 1000
                if let values, values.0 != last.inbox || values.1 != last.processed || values.2 != last.anchored {
                    last = Sample(timeMs: now, inbox: values.0, processed: values.1, anchored: values.2)
                    let sample = last
                    self.last.withLock { $0 = sample }
                    if recording.load(ordering: .relaxed) { samples.withLock { $0.append(sample) } }
                }
                usleep(intervalMicros)
            }
            finished.store(true, ordering: .releasing)
        }
        thread.start()
    }

    func stop() {
        stopped.store(true, ordering: .relaxed)
        while !finished.load(ordering: .acquiring) { usleep(1_000) }
    }

    var all: [Sample] { samples.withLock { $0 } }

    func latest() -> Sample { last.withLock { $0 } }

    /// The value observed at `timeMs` (the last sample at or before it).
    static func value(at timeMs: Double, in samples: [Sample]) -> Sample {
        var low = 0, high = samples.count
        while low < high {
            let mid = (low + high) / 2
            if samples[mid].timeMs <= timeMs { low = mid + 1 } else { high = mid }
        }
        return low == 0 ? Sample(timeMs: timeMs, inbox: 0, processed: 0) : samples[low - 1]
    }

    /// The first time a sample showed `key` at or beyond `seq`.
    static func firstTime(_ seq: Int64, in samples: [Sample], key: (Sample) -> Int64) -> Double? {
        var low = 0, high = samples.count
        while low < high {
            let mid = (low + high) / 2
            if key(samples[mid]) >= seq { high = mid } else { low = mid + 1 }
        }
        return low < samples.count ? samples[low].timeMs : nil
    }
}

/// When each round of readings was handed to the MQTT client. Every device publishes once per
/// round with the round's device time, so a reading is (device, round): a million-reading
/// backlog costs 16 bytes per round here, not a dictionary entry per reading.
final class PublishLog: Sendable {
    struct Key: Hashable, Sendable { let deviceId: String; let deviceTimeMs: Int64 }
    struct Round: Sendable { let deviceTimeMs: Int64; let publishMs: Double }
    let deviceIds: [String]
    private let rounds = Mutex<[Round]>([])

    init(deviceIds: [String]) { self.deviceIds = deviceIds }

    func record(ts: Int64, wallMs: Double) {
        // The device time is the publish time, unless the simulator ran ahead of the clock
        // (more than 1000 rounds/s forces +1 ms per round): then the wall time is.
        let round = Round(deviceTimeMs: ts, publishMs: min(Double(ts), wallMs))
        rounds.withLock { $0.append(round) }
    }

    var all: [Round] { rounds.withLock { $0 } }
    var count: Int { rounds.withLock { $0.count } * deviceIds.count }
    var lastDeviceTimeMs: Int64 { rounds.withLock { $0.last?.deviceTimeMs } ?? 0 }
}

public struct BenchRunner: Sendable {
    public let options: BenchOptions
    static let gatewayId = "bench-ward"

    public init(options: BenchOptions) { self.options = options }

    public func run(progress: @escaping @Sendable (String) -> Void) async throws -> BenchResult {
        if options.payload == .ieee11073 {
            throw BenchError.unsupported("--payload ieee11073: the simulated IEEE 11073 agents (association + confirmed reports) cannot be driven at a set rate by the bench yet; use json or senml")
        }
        var result = BenchResult(options: options)
        var logger = Logger(label: "wardgate.bench")
        logger.logLevel = .error
        let work = NSTemporaryDirectory() + "wardgate-bench-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: work) }

        let broker = try PrivateBroker.start(directory: work + "/broker")
        defer { broker.stop() }
        progress("private mosquitto on 127.0.0.1:\(broker.port); state in \(work)")

        let kind: SimulatedDevice.Kind = options.payload == .senml ? .senml : .wearableJSON
        let devices = (0..<options.devices).map { i in
            SimulatedDevice(id: String(format: "bench-%04d", i + 1), kind: kind, seed: 1000 &+ UInt64(i))
        }

        // Baselines first, on the idle machine and the same broker, with the same payloads.
        if options.runBaselines {
            progress("baseline: openssl speed -seconds 3 ecdsap256 …")
            result.baselineSignaturesPerSecond = Self.opensslSignsPerSecond()
            progress("baseline: mosquitto_sub -q 1 -t 'wards/#' -C K, publisher flat out …")
            result.baselineSubscriberPerSecond = try await Self.subscriberBaseline(port: broker.port, devices: devices, logger: logger)
        }

        if options.backlog > 0 {
            let needed = Self.journalQuota(backlog: options.backlog)
            if let free = Self.freeBytes(NSTemporaryDirectory()), free < needed {
                throw BenchError.failed("--backlog \(options.backlog) needs about \(needed / 1_073_741_824) GiB in \(NSTemporaryDirectory()) (about 11 KB per reading while the ledger is down); \(free / 1_073_741_824) GiB are free")
            }
        }
        let keystore = work + "/keys"
        try Self.enroll(deviceIds: devices.map(\.id), caDirectory: work + "/ca", keystore: keystore)
        let store = Keystore(directory: keystore)
        let config = GatewayConfig(
            gatewayId: Self.gatewayId, stateDirectory: work + "/state",
            mqtt: MQTTSettings(port: broker.port, clientId: "wardgate-bench"), profilesDirectory: options.profilesDirectory,
            durability: options.durability, maxJournalBytes: Self.journalQuota(backlog: options.backlog), logLevel: .error,
            identity: .init(keystore: keystore),
            log: .init(origin: "wardgate/bench.example/\(Self.gatewayId)",
                       gatewayCertificate: store.certificatePath(kind: .gateway, id: Self.gatewayId),
                       gatewayKey: store.keyPath(kind: .gateway, id: Self.gatewayId)))
        // The real embedded ledger; wrapped only so `--backlog` can hold it down while it fills.
        let ledger = OutageSimulatingLedger(wrapping: try Gateway.embeddedLedger(config: config, logger: logger))
        let gateway = try Gateway(config: config, logger: logger, ledger: ledger)
        gateway.start()
        guard await gateway.waitUntilReady(timeout: .seconds(10)) else {
            await gateway.stop()
            throw BenchError.failed("the gateway could not subscribe on the private broker")
        }
        let poller = CommitPoller()
        result.pollIntervalMs = Double(poller.intervalMicros) / 1000
        poller.start(journal: gateway.journal)
        defer { poller.stop() }

        let ward = try SimulatedWard(devices: devices, brokerPort: broker.port, logger: logger, clientId: "wardgate-bench-sim")
        defer { ward.stop() }
        guard await ward.waitUntilConnected(timeout: .seconds(10)) else {
            await gateway.stop()
            throw BenchError.failed("the simulated ward could not connect")
        }
        let log = PublishLog(deviceIds: devices.map(\.id))

        /// Publishes at `rate` for `seconds`; returns (start ms, end ms, messages published).
        func phase(rate: Double, seconds: Double) async throws -> (Double, Double, Int) {
            // Device times must not repeat across phases.
            while Date().timeIntervalSince1970 * 1000 <= Double(log.lastDeviceTimeMs) + 2 { try await Task.sleep(for: .milliseconds(2)) }
            let roundsPerSecond = rate / Double(options.devices)
            let rounds = max(1, Int(seconds * roundsPerSecond))
            let start = Date().timeIntervalSince1970 * 1000
            let n = try await ward.run(rounds: rounds, roundsPerSecond: roundsPerSecond) { _, ts in
                log.record(ts: ts, wallMs: Date().timeIntervalSince1970 * 1000)
            }
            return (start, Date().timeIntervalSince1970 * 1000, n)
        }

        var windowStart = 0.0, windowEnd = 0.0
        var cpuAtStart = 0.0, cpuAtEnd = 0.0
        var totalPublished = 0
        var drainFrom: (timeMs: Double, treeSize: UInt64, unanchored: UInt64)?
        if options.backlog > 0 {
            ledger.isDown = true
            poller.recording.store(false, ordering: .relaxed)
            var figures = BacklogFigures()
            let start = Date()
            let tenth = max(options.devices, options.backlog / 10)
            while totalPublished < options.backlog {
                let readings = min(tenth, options.backlog - totalPublished)
                progress("backlog: publishing \(readings) readings with the ledger down (\(totalPublished) so far) …")
                totalPublished += try await phase(rate: options.rate, seconds: Double(readings) / options.rate).2
                // Wait until the gateway has journaled, signed and logged all of it.
                var progressAt = (Date(), poller.latest().processed)
                while poller.latest().processed < Int64(totalPublished) || poller.latest().inbox < Int64(totalPublished) {
                    try await Task.sleep(for: .milliseconds(100))
                    let processed = poller.latest().processed
                    if processed != progressAt.1 { progressAt = (Date(), processed) }
                    if Date().timeIntervalSince(progressAt.0) > 60 {
                        throw BenchError.failed("the gateway stopped making progress with \(processed) of \(totalPublished) backlog readings processed (see its log: journal quota or disk)")
                    }
                }
                let anchored = (try? gateway.outboxStatus().anchoredSize) ?? 0
                figures.samples.append(.init(
                    readings: totalPublished, unanchoredLeaves: gateway.logTreeSize - anchored,
                    rssBytes: Self.procStatus("VmRSS"), journalBytes: Self.directoryBytes(config.stateDirectory)))
            }
            figures.readings = totalPublished
            figures.fillReadingsPerSecond = Double(totalPublished) / Date().timeIntervalSince(start)
            result.backlog = figures
            poller.recording.store(true, ordering: .relaxed)
            // The measured run below starts as the ledger returns: it runs while the backlog drains.
            drainFrom = (Date().timeIntervalSince1970 * 1000, gateway.logTreeSize, figures.samples.last?.unanchoredLeaves ?? 0)
            ledger.isDown = false
        }
        if !options.findMax {
            let warmup = min(3, options.duration * 0.2)
            progress(String(format: "publishing %.0f readings/s from %d devices for %.0f s (%.1f s warm-up) …", options.rate, options.devices, options.duration, warmup))
            let warm = try await phase(rate: options.rate, seconds: warmup)
            totalPublished += warm.2
            cpuAtStart = Self.cpuSeconds()
            let steady = try await phase(rate: options.rate, seconds: options.duration - warmup)
            cpuAtEnd = Self.cpuSeconds()
            result.rssBytesSteady = Self.procStatus("VmRSS")
            totalPublished += steady.2
            windowStart = steady.0
            windowEnd = steady.1
            result.publishedPerSecond = Double(steady.2) / ((windowEnd - windowStart) / 1000)
        } else {
            let stepSeconds = max(3, min(options.duration, 8))
            var rate = options.rate
            var best: (rate: Double, start: Double, end: Double, cpu0: Double, cpu1: Double, rss: Int?, published: Double)?
            for _ in 0..<10 {
                let backlog0 = totalPublished - Int(poller.latest().processed)
                let cpu0 = Self.cpuSeconds()
                let processed0 = poller.latest().processed
                let p = try await phase(rate: rate, seconds: stepSeconds)
                let cpu1 = Self.cpuSeconds()
                let rss = Self.procStatus("VmRSS")
                totalPublished += p.2
                let processed1 = poller.latest().processed
                let backlog1 = totalPublished - Int(processed1)
                let seconds = (p.1 - p.0) / 1000
                let publishedRate = Double(p.2) / seconds
                let processedRate = Double(processed1 - processed0) / seconds
                var reason = ""
                if publishedRate < 0.9 * rate { reason = "the simulator could not publish at this rate" }
                // Falling behind: the backlog grew by more than a quarter second of traffic.
                else if backlog1 - backlog0 > max(50, Int(0.25 * rate)) { reason = "backlog grew" }
                let step = FindMaxStep(targetRate: rate, publishedPerSecond: publishedRate, processedPerSecond: processedRate,
                                       backlogAtStart: backlog0, backlogAtEnd: backlog1, sustained: reason.isEmpty, reason: reason)
                result.findMaxSteps.append(step)
                progress(String(format: "step %.0f/s: published %.1f/s, processed %.1f/s, backlog %d -> %d ", rate, publishedRate, processedRate, backlog0, backlog1) + (reason.isEmpty ? "ok" : reason))
                if !reason.isEmpty { break }
                best = (rate, p.0, p.1, cpu0, cpu1, rss, publishedRate)
                rate *= 1.5
                // Let the pipeline settle before the next step.
                try await Task.sleep(for: .milliseconds(500))
            }
            if let best {
                result.sustainableRate = best.rate
                windowStart = best.start
                windowEnd = best.end
                cpuAtStart = best.cpu0
                cpuAtEnd = best.cpu1
                result.rssBytesSteady = best.rss
                result.publishedPerSecond = best.published
            } else {
                result.notes.append("not even the starting rate \(options.rate)/s was sustained; lower --rate")
            }
        }
        result.published = totalPublished

        progress("waiting for the gateway to catch up …")
        _ = await ward.waitForPublishes(timeout: .seconds(60))
        // A backlog needs time to drain too (the embedded ledger anchors a few thousand leaves/s).
        let catchUpSeconds = max(60, options.duration * 3) + Double(options.backlog) * 5 / 1000
        let caughtUp = Date().addingTimeInterval(catchUpSeconds)
        var caughtUpFully = false
        while Date() < caughtUp {
            // From the poller's last sample, not `Journal.statistics()`: its COUNTs scan the
            // whole journal, which with a large backlog would slow the very drain being timed.
            let seen = poller.latest()
            if seen.inbox >= Int64(totalPublished), seen.processed >= seen.inbox,
                let outbox = try? gateway.outboxStatus(), outbox.pendingBatches == 0, outbox.anchoredSize >= gateway.logTreeSize {
                caughtUpFully = true
                break
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        if !caughtUpFully {
            result.notes.append("did not catch up within \(Int(catchUpSeconds)) s of the end of publishing: the figures below count only what was processed and anchored by then")
        }
        if let drainFrom, result.backlog != nil {
            // The first poll that saw the whole backlog anchored.
            if let drained = CommitPoller.firstTime(Int64(drainFrom.treeSize), in: poller.all, key: \.anchored) {
                let seconds = (drained - drainFrom.timeMs) / 1000
                result.backlog?.drainSeconds = seconds
                if seconds > 0 { result.backlog?.drainLeavesPerSecond = Double(drainFrom.unanchored) / seconds }
            }
            result.backlog?.rssBytesAfterDrain = Self.procStatus("VmRSS")
        }
        try? await Task.sleep(for: .milliseconds(100))
        poller.stop()
        try? gateway.drain()
        result.rssBytesPeak = Self.procStatus("VmHWM")

        // Throughput and CPU over the steady window.
        let samples = poller.all
        if windowEnd > windowStart {
            let processedStart = CommitPoller.value(at: windowStart, in: samples).processed
            let processedEnd = CommitPoller.value(at: windowEnd, in: samples).processed
            let seconds = (windowEnd - windowStart) / 1000
            result.steadySeconds = seconds
            result.readingsPerSecond = Double(processedEnd - processedStart) / seconds
            if processedEnd > processedStart {
                result.cpuSecondsPer1000 = (cpuAtEnd - cpuAtStart) / Double(processedEnd - processedStart) * 1000
            }
        }

        // Every published reading against the journal; latencies of the steady window.
        let published = log.all
        var firstSeq: [PublishLog.Key: (seq: Int64, receivedMs: Int64)] = [:]
        var counts: [PublishLog.Key: Int] = [:]
        var lastLeaf: [PublishLog.Key: Int64] = [:]
        var logged = 0
        try gateway.journal.read { db in
            let rows = try Row.fetchCursor(db, sql: "SELECT seq, topic, payload, received_at_ms FROM inbox ORDER BY seq")
            while let row = try rows.next() {
                let topic: String = row["topic"]
                let payload: Data = row["payload"]
                let parts = topic.split(separator: "/")
                guard parts.count >= 4, let ts = Self.deviceTimeMs(payload, kind: kind) else { continue }
                let key = PublishLog.Key(deviceId: String(parts[3]), deviceTimeMs: ts)
                let seq: Int64 = row["seq"]
                let receivedMs: Int64 = row["received_at_ms"]
                if firstSeq[key] == nil { firstSeq[key] = (seq: seq, receivedMs: receivedMs) } else { result.redeliveries += 1 }
            }
            for row in try Row.fetchAll(db, sql: "SELECT device_id, effective_at_ms, COUNT(*) AS n, MAX(leaf_index) AS leaf FROM observation GROUP BY device_id, effective_at_ms") {
                let key = PublishLog.Key(deviceId: row["device_id"], deviceTimeMs: row["effective_at_ms"])
                counts[key] = row["n"]
                lastLeaf[key] = row["leaf"]
            }
            logged = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM observation WHERE leaf_index IS NOT NULL") ?? 0
        }
        let stats = try gateway.journal.statistics()
        result.inboxRecords = stats.inboxRecords
        result.observations = stats.observations
        result.signedObservations = stats.signed
        result.loggedObservations = logged
        let perReading = 5
        var durable: [Double] = [], received: [Double] = [], signed: [Double] = [], anchored: [Double] = []
        for round in published {
            for deviceId in log.deviceIds {
                let key = PublishLog.Key(deviceId: deviceId, deviceTimeMs: round.deviceTimeMs)
                let publishMs = round.publishMs
                let n = counts[key] ?? 0
                if n < perReading { result.lost += 1 }
                if n > perReading { result.duplicated += 1 }
                guard publishMs >= windowStart, publishMs <= windowEnd, let first = firstSeq[key] else { continue }
                received.append(Double(first.receivedMs) - publishMs)
                if let t = CommitPoller.firstTime(first.seq, in: samples, key: \.inbox) { durable.append(t - publishMs) }
                if let t = CommitPoller.firstTime(first.seq, in: samples, key: \.processed) { signed.append(t - publishMs) }
                // Anchored once a receipt covers the reading's last leaf.
                if let leaf = lastLeaf[key], let t = CommitPoller.firstTime(leaf + 1, in: samples, key: \.anchored) { anchored.append(t - publishMs) }
            }
        }
        // Readings in the journal that nobody published (should not happen).
        let publishedTimes = Set(published.map(\.deviceTimeMs))
        let publishedDevices = Set(log.deviceIds)
        result.duplicated += counts.keys.filter { !publishedTimes.contains($0.deviceTimeMs) || !publishedDevices.contains($0.deviceId) }.count
        if stats.signed != stats.observations { result.notes.append("\(stats.observations - stats.signed) Observations are not signed") }
        if logged != stats.observations { result.notes.append("\(stats.observations - logged) Observations have no log leaf") }
        result.durable = .of(durable)
        result.received = .of(received)
        result.signed = .of(signed)
        result.anchored = .of(anchored)

        // Journal size: every file of the state directory (journal, WAL, log tables live in it).
        let bytes = Self.directoryBytes(config.stateDirectory)
        if stats.inboxRecords > 0 { result.journalBytesPerReading = Double(bytes) / Double(stats.inboxRecords) }

        ward.stop()
        await gateway.stop()
        return result
    }

    // MARK: Helpers

    static func enroll(deviceIds: [String], caDirectory: String, keystore: String) throws {
        let ca = try CertificateAuthority.create(directory: caDirectory, name: "wardgate bench CA", validityDays: 2)
        let store = Keystore(directory: keystore)
        for id in deviceIds {
            _ = try Enrollment.enroll(kind: .device, id: id, ca: ca, keystore: store, validityDays: 2)
        }
        _ = try Enrollment.enroll(kind: .gateway, id: gatewayId, ca: ca, keystore: store, validityDays: 2)
    }

    /// The device time the simulator wrote: JSON `"ts"` (ms) or SenML `"bt"` (s, 3 decimals).
    static func deviceTimeMs(_ payload: Data, kind: SimulatedDevice.Kind) -> Int64? {
        let key = Array((kind == .senml ? "\"bt\":" : "\"ts\":").utf8)
        let bytes = [UInt8](payload)
        guard bytes.count >= key.count else { return nil }
        var i = 0
        while i + key.count <= bytes.count {
            if bytes[i] == key[0], Array(bytes[i..<(i + key.count)]) == key { break }
            i += 1
        }
        guard i + key.count <= bytes.count else { return nil }
        var j = i + key.count
        while j < bytes.count, bytes[j] == 0x20 || bytes[j] == 0x22 { j += 1 }
        var text = ""
        while j < bytes.count, (bytes[j] >= 0x30 && bytes[j] <= 0x39) || bytes[j] == 0x2E {
            text.append(Character(UnicodeScalar(bytes[j])))
            j += 1
        }
        guard let value = Double(text) else { return nil }
        return kind == .senml ? Int64((value * 1000).rounded()) : Int64(value)
    }

    /// The default journal quota, raised for a backlog: with the ledger down nothing is freed,
    /// and a reading takes about 11 KB (journal, log, outbox copy of its leaves).
    static func journalQuota(backlog: Int) -> Int64 {
        max(GatewayConfig.defaultMaxJournalBytes, Int64(backlog) * 16_384 + 1_073_741_824)
    }

    static func freeBytes(_ path: String) -> Int64? {
        (try? FileManager.default.attributesOfFileSystem(forPath: path)[.systemFreeSize] as? NSNumber)?.int64Value
    }

    /// The size of every file in a directory (the journal, its WAL and the embedded ledger).
    static func directoryBytes(_ directory: String) -> Int64 {
        let files = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return files.reduce(Int64(0)) { sum, name in
            sum + ((try? FileManager.default.attributesOfItem(atPath: directory + "/" + name)[.size] as? NSNumber)?.int64Value ?? 0)
        }
    }

    static func cpuSeconds() -> Double {
        var usage = rusage()
        getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
        return Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6
            + Double(usage.ru_stime.tv_sec) + Double(usage.ru_stime.tv_usec) / 1e6
    }

    /// A `kB` field of /proc/self/status, in bytes.
    static func procStatus(_ field: String) -> Int? {
        guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix(field + ":") {
            let number = line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first
            return number.flatMap { Int($0) }.map { $0 * 1024 }
        }
        return nil
    }

    /// `openssl speed -seconds 3 ecdsap256`: ECDSA P-256 signatures per second on one core.
    static func opensslSignsPerSecond() -> Double? {
        guard let binary = Executables.find("openssl") else { return nil }
        // posix_spawn with an empty signal mask: this process blocks signals in its threads, and
        // `openssl speed` times itself with SIGALRM (inherited blocked, it would never stop).
        let outPath = NSTemporaryDirectory() + "wardgate-bench-openssl-\(UUID().uuidString.prefix(8)).txt"
        defer { try? FileManager.default.removeItem(atPath: outPath) }
        var pid: pid_t = 0
        let arguments: [String] = [binary, "speed", "-seconds", "3", "ecdsap256"]
        let argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, outPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attributes, &empty)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK))
        guard posix_spawn(&pid, binary, &actions, &attributes, argv, environ) == 0 else { return nil }
        var status: Int32 = 0
        let deadline = Date().addingTimeInterval(20)
        while waitpid(pid, &status, WNOHANG) == 0 {
            if Date() > deadline { kill(pid, SIGKILL); waitpid(pid, &status, 0); return nil }
            usleep(50_000)
        }
        let data = FileManager.default.contents(atPath: outPath) ?? Data()
        let output = String(decoding: data, as: UTF8.self)
        // " 256 bits ecdsa (nistp256)   0.0000s   0.0001s  33672.0  11283.6": sign/s, verify/s last.
        for line in output.split(separator: "\n") where line.contains("ecdsa (nistp256)") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            if fields.count >= 2, let signs = Double(fields[fields.count - 2]) { return signs }
        }
        return nil
    }

    /// A plain QoS 1 subscriber (`mosquitto_sub -q 1 -t 'wards/#' -C K > /dev/null`) on the same
    /// broker, while the same simulated devices publish K payloads as fast as they can: the time
    /// from the first publish to mosquitto_sub exiting after its K-th message.
    static func subscriberBaseline(port: Int, devices: [SimulatedDevice], logger: Logger) async throws -> Double? {
        guard let binary = Executables.find("mosquitto_sub") else { return nil }
        let rounds = max(1, 20_000 / devices.count)
        let total = rounds * devices.count
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = ["-h", "127.0.0.1", "-p", "\(port)", "-q", "1", "-t", "wards/#", "-C", "\(total)", "-i", "bench-baseline-sub"]
        process.standardOutput = FileHandle(forWritingAtPath: "/dev/null")
        process.standardError = FileHandle(forWritingAtPath: "/dev/null")
        try process.run()
        // Let it connect and subscribe.
        try await Task.sleep(for: .milliseconds(500))
        let ward = try SimulatedWard(devices: devices, brokerPort: port, logger: logger, clientId: "wardgate-bench-baseline-pub")
        defer { ward.stop() }
        guard await ward.waitUntilConnected(timeout: .seconds(10)) else { process.terminate(); return nil }
        let start = Date()
        _ = try await ward.run(rounds: rounds, roundsPerSecond: 1_000_000)
        let deadline = Date().addingTimeInterval(30)
        while process.isRunning, Date() < deadline { try await Task.sleep(for: .milliseconds(1)) }
        let seconds = Date().timeIntervalSince(start)
        guard !process.isRunning else { process.terminate(); return nil }
        return Double(total) / seconds
    }
}
