import DeviceIdentity
import EmbeddedLedger
import Foundation
import Gateway
import Journal
import Ledger
import Logging
import MQTTIngest
import Simulation
import Synchronization

#if canImport(Glibc)
import Glibc
import WardgateTestSupport
#endif

public struct BenchRunner: Sendable {
    public let options: BenchOptions
    static let gatewayId = "bench-ward"

    public init(options: BenchOptions) { self.options = options }

    public func run(progress: @escaping @Sendable (String) -> Void) async throws -> BenchResult {
        var result = BenchResult(options: options)
        var logger = Logger(label: "wardgate.bench")
        logger.logLevel = .error
        let work = NSTemporaryDirectory() + "wardgate-bench-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: work) }

        let broker = try PrivateBroker.start(directory: work + "/broker")
        defer { broker.stop() }
        progress("private mosquitto on 127.0.0.1:\(broker.port); state in \(work)")

        // Baselines first, on the idle machine and the same broker, with the same payloads.
        if options.runBaselines {
            progress("baseline: openssl speed -seconds 3 ecdsap256 …")
            result.baselineSignaturesPerSecond = Self.opensslSignsPerSecond()
            let devices = try makeWorkload(port: broker.port, logger: logger, clientId: "wardgate-bench-baseline-pub", withoutManager: true)
            defer { devices.stop() }
            progress("baseline: mosquitto_sub -q 1 -t '\(devices.topicFilter)' -C K, publisher flat out …")
            result.baselineSubscriberPerSecond = try await Self.subscriberBaseline(port: broker.port, devices: devices)
        }
        let devices = try makeWorkload(port: broker.port, logger: logger, clientId: "wardgate-bench-sim")
        defer { devices.stop() }
        result.observationsPerReading = devices.observationsPerReading
        if options.payload == .ieee11073, options.findMax || options.rate / Double(options.devices) > 100 {
            result.notes.append("11073 AbsoluteTime counts hundredths of a second: above 100 readings/s per device (\(options.devices) devices) the agents' clocks run ahead of the wall clock")
        }

        if options.backlog > 0 {
            let needed = Self.journalQuota(backlog: options.backlog)
            if let free = Self.freeBytes(NSTemporaryDirectory()), free < needed {
                throw BenchError.failed("--backlog \(options.backlog) needs about \(needed / 1_073_741_824) GiB in \(NSTemporaryDirectory()) (about 11 KB per reading while the ledger is down); \(free / 1_073_741_824) GiB are free")
            }
        }
        let keystore = work + "/keys"
        try Self.enroll(deviceIds: devices.enrolledIds, caDirectory: work + "/ca", keystore: keystore)
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
        poller.start(journal: gateway.journal, outbox: gateway.outbox)
        defer { poller.stop() }

        guard try await devices.connect(timeout: .seconds(30)) else {
            await gateway.stop()
            throw BenchError.failed(options.payload == .ieee11073
                ? "the simulated 11073 agents did not all associate with the gateway" : "the simulated ward could not connect")
        }
        // Inbox records that are not readings (11073 associations): the poller counts them too.
        let settled = ContinuousClock.now + .seconds(30)
        while poller.latest().processed < poller.latest().inbox, ContinuousClock.now < settled { try await Task.sleep(for: .milliseconds(10)) }
        let preamble = poller.latest().inbox
        /// What the poller saw, in readings: inbox records and processed records.
        func seen() -> (inbox: Int, processed: Int) {
            let latest = poller.latest()
            return (Int(latest.inbox - preamble), Int(latest.processed - preamble))
        }
        let log = PublishLog(deviceIds: devices.deviceIds)

        /// Publishes at `rate` for `seconds`; returns (start ms, end ms, messages published).
        func phase(rate: Double, seconds: Double) async throws -> (Double, Double, Int) {
            // Device times must not repeat across phases.
            let resolution = Double(devices.deviceTimeResolutionMs)
            while Date().timeIntervalSince1970 * 1000 <= Double(log.lastDeviceTimeMs) + resolution + 1 { try await Task.sleep(for: .milliseconds(2)) }
            let roundsPerSecond = rate / Double(options.devices)
            let rounds = max(1, Int(seconds * roundsPerSecond))
            let start = Date().timeIntervalSince1970 * 1000
            let n = try await devices.run(rounds: rounds, roundsPerSecond: roundsPerSecond) { _, ts, started in
                log.record(ts: ts, publishMs: started)
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
                // Wait until the gateway has journaled, signed and logged all of it. The poller sees
                // the commit a moment before the log's in-memory tree head does, so wait for both.
                let leaves = UInt64(totalPublished * devices.observationsPerReading)
                var progressAt = (Date(), seen().processed)
                while seen().processed < totalPublished || seen().inbox < totalPublished || gateway.logTreeSize < leaves {
                    try await Task.sleep(for: .milliseconds(100))
                    let processed = seen().processed
                    if processed != progressAt.1 { progressAt = (Date(), processed) }
                    if Date().timeIntervalSince(progressAt.0) > 60 {
                        throw BenchError.failed("the gateway stopped making progress with \(processed) of \(totalPublished) backlog readings processed (see its log: journal quota or disk)")
                    }
                }
                let anchored = (try? gateway.outboxStatus().anchoredSize) ?? 0
                figures.samples.append(.init(
                    readings: totalPublished, unanchoredLeaves: gateway.logTreeSize - anchored,
                    rssBytes: Self.procStatus("VmRSS"), rssAnonymousBytes: Self.procStatus("RssAnon"), journalBytes: Self.directoryBytes(config.stateDirectory)))
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
            result.rssSteady = Self.residentMemory()
            totalPublished += steady.2
            windowStart = steady.0
            windowEnd = steady.1
            result.publishedPerSecond = Double(steady.2) / ((windowEnd - windowStart) / 1000)
        } else {
            let stepSeconds = max(3, min(options.duration, 8))
            var rate = options.rate
            var best: (rate: Double, start: Double, end: Double, cpu0: Double, cpu1: Double, rss: ResidentMemory, published: Double)?
            for _ in 0..<10 {
                let backlog0 = totalPublished - seen().processed
                let cpu0 = Self.cpuSeconds()
                let processed0 = seen().processed
                let p = try await phase(rate: rate, seconds: stepSeconds)
                let cpu1 = Self.cpuSeconds()
                let rss = Self.residentMemory()
                totalPublished += p.2
                let processed1 = seen().processed
                // The backlog a quarter second after the last publish: the batch the processor had
                // in hand when publishing stopped is not falling behind (11073 batches are burstier).
                try await Task.sleep(for: .milliseconds(250))
                let backlog1 = totalPublished - seen().processed
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
                try await Task.sleep(for: .milliseconds(250))
            }
            if let best {
                result.sustainableRate = best.rate
                windowStart = best.start
                windowEnd = best.end
                cpuAtStart = best.cpu0
                cpuAtEnd = best.cpu1
                result.rssSteady = best.rss
                result.publishedPerSecond = best.published
            } else {
                result.notes.append("not even the starting rate \(options.rate)/s was sustained; lower --rate")
            }
        }
        result.published = totalPublished

        progress("waiting for the gateway to catch up …")
        _ = await devices.waitForPublishes(timeout: .seconds(60))
        // A backlog needs time to drain too (the embedded ledger anchors a few thousand leaves/s).
        let catchUpSeconds = max(60, options.duration * 3) + Double(options.backlog) * 5 / 1000
        let caughtUp = Date().addingTimeInterval(catchUpSeconds)
        var caughtUpFully = false
        while Date() < caughtUp {
            // From the poller's last sample, not `Journal.statistics()`: its COUNTs scan the
            // whole journal, which with a large backlog would slow the very drain being timed.
            let seen = seen()
            if seen.inbox >= totalPublished, seen.processed >= seen.inbox,
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
        try gateway.journal.forEachInboxRecord { record in
            guard let key = devices.readingKey(topic: record.topic, payload: record.payload) else { return }
            if firstSeq[key] == nil { firstSeq[key] = (seq: record.seq, receivedMs: record.receivedAtMs) } else { result.redeliveries += 1 }
        }
        for (reading, count) in try gateway.journal.observationCountsByReading() {
            counts[PublishLog.Key(deviceId: reading.deviceId, deviceTimeMs: reading.effectiveAtMs)] = count
        }
        for (reading, leaf) in try gateway.log.leafIndex.lastLeafIndexByReading() {
            lastLeaf[PublishLog.Key(deviceId: reading.deviceId, deviceTimeMs: reading.effectiveAtMs)] = Int64(leaf)
        }
        let logged = try gateway.log.leafIndex.loggedObservationCount()
        let stats = try gateway.journal.statistics()
        result.inboxRecords = stats.inboxRecords
        result.observations = stats.observations
        result.signedObservations = stats.signed
        result.loggedObservations = logged
        let perReading = devices.observationsPerReading
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

        result.notes += await devices.problems(published: totalPublished)
        await gateway.stop()
        return result
    }

    /// The simulated devices `--payload` asks for, on their own connection to the broker.
    func makeWorkload(port: Int, logger: Logger, clientId: String, withoutManager: Bool = false) throws -> any BenchWorkload {
        switch options.payload {
        case .json: try ProfilePayloadWorkload(kind: .wearableJSON, count: options.devices, brokerPort: port, logger: logger, clientId: clientId)
        case .senml: try ProfilePayloadWorkload(kind: .senml, count: options.devices, brokerPort: port, logger: logger, clientId: clientId)
        case .ieee11073:
            try PersonalHealthWorkload(count: options.devices, brokerPort: port, logger: logger, clientId: clientId, withoutManager: withoutManager)
        }
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

    static func residentMemory() -> ResidentMemory {
        ResidentMemory(total: procStatus("VmRSS"), anonymous: procStatus("RssAnon"), files: procStatus("RssFile"))
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
}
