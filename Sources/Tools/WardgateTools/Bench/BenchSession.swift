import Foundation
import Gateway
import Journal
import WardgateTestSupport

/// One bench run against a started gateway with connected devices: the publishing phases
/// (backlog, steady or find-max), the catch-up, and the accounting, as the steps of
/// `BenchRunner.run`.
struct BenchSession {
    let options: BenchOptions
    let devices: any BenchWorkload
    let gateway: Gateway
    let ledger: any ToolLedger
    let config: GatewayConfig
    let poller: CommitPoller
    let progress: @Sendable (String) -> Void
    /// Inbox records that are not readings (11073 associations), which the poller counts too.
    let preamble: Int64
    let log: PublishLog

    /// What the phases measured, for the figures computed after them.
    struct Window {
        var start = 0.0, end = 0.0
        var cpuAtStart = 0.0, cpuAtEnd = 0.0
        var totalPublished = 0
        /// When the ledger came back after `--backlog`, the tree size then, and the leaves waiting.
        var drainFrom: (timeMs: Double, treeSize: UInt64, unanchored: UInt64)?
    }

    /// Waits (at most 30 s) until the records the devices' connection produced are processed,
    /// so they are not counted as readings.
    init(
        options: BenchOptions, devices: any BenchWorkload, gateway: Gateway, ledger: any ToolLedger, config: GatewayConfig,
        poller: CommitPoller, progress: @escaping @Sendable (String) -> Void
    ) async {
        self.options = options
        self.devices = devices
        self.gateway = gateway
        self.ledger = ledger
        self.config = config
        self.poller = poller
        self.progress = progress
        let settled = ContinuousClock.now + .seconds(30)
        while poller.latest().processed < poller.latest().inbox, ContinuousClock.now < settled { try? await Task.sleep(for: .milliseconds(10)) }
        preamble = poller.latest().inbox
        log = PublishLog(deviceIds: devices.deviceIds)
    }

    /// What the poller saw, in readings: inbox records and processed records.
    func seen() -> (inbox: Int, processed: Int) {
        let latest = poller.latest()
        return (Int(latest.inbox - preamble), Int(latest.processed - preamble))
    }

    /// Publishes at `rate` for `seconds`; returns (start ms, end ms, messages published).
    func phase(rate: Double, seconds: Double) async throws -> (Double, Double, Int) {
        // Device times must not repeat across phases.
        let resolution = Double(devices.deviceTimeResolutionMs)
        while Date().timeIntervalSince1970 * 1000 <= Double(log.lastDeviceTimeMs) + resolution + 1 { try await Task.sleep(for: .milliseconds(2)) }
        let roundsPerSecond = rate / Double(options.devices)
        let rounds = max(1, Int(seconds * roundsPerSecond))
        let start = Date().timeIntervalSince1970 * 1000
        let log = self.log
        let n = try await devices.run(rounds: rounds, roundsPerSecond: roundsPerSecond) { _, ts, started in
            log.record(ts: ts, publishMs: started)
        }
        return (start, Date().timeIntervalSince1970 * 1000, n)
    }

    /// `--backlog`: publishes that many readings with the ledger held down, in tenths, sampling
    /// memory and journal size after each; the ledger comes back as the measured run starts.
    func fillBacklog(into result: inout BenchResult, window: inout Window) async throws {
        try await ledger.setDown(true)
        poller.recording.store(false, ordering: .relaxed)
        var figures = BacklogFigures()
        let start = Date()
        let tenth = max(options.devices, options.backlog / 10)
        while window.totalPublished < options.backlog {
            let readings = min(tenth, options.backlog - window.totalPublished)
            progress("backlog: publishing \(readings) readings with the ledger down (\(window.totalPublished) so far) …")
            window.totalPublished += try await phase(rate: options.rate, seconds: Double(readings) / options.rate).2
            try await waitUntilLogged(readings: window.totalPublished)
            let anchored = (try? gateway.outboxStatus().anchoredSize) ?? 0
            figures.samples.append(.init(
                readings: window.totalPublished, unanchoredLeaves: gateway.logTreeSize - anchored,
                rssBytes: BenchRunner.procStatus("VmRSS"), rssAnonymousBytes: BenchRunner.procStatus("RssAnon"),
                journalBytes: BenchRunner.directoryBytes(config.stateDirectory)))
        }
        figures.readings = window.totalPublished
        figures.fillReadingsPerSecond = Double(window.totalPublished) / Date().timeIntervalSince(start)
        result.backlog = figures
        poller.recording.store(true, ordering: .relaxed)
        // The measured run below starts as the ledger returns: it runs while the backlog drains.
        window.drainFrom = (Date().timeIntervalSince1970 * 1000, gateway.logTreeSize, figures.samples.last?.unanchoredLeaves ?? 0)
        try await ledger.setDown(false)
    }

    /// Waits until the gateway has journaled, signed and logged `readings`. The poller sees the
    /// commit a moment before the log's in-memory tree head does, so it waits for both; a minute
    /// without progress is a failure (journal quota or disk).
    private func waitUntilLogged(readings: Int) async throws {
        let leaves = UInt64(readings * devices.observationsPerReading)
        var progressAt = (Date(), seen().processed)
        while seen().processed < readings || seen().inbox < readings || gateway.logTreeSize < leaves {
            try await Task.sleep(for: .milliseconds(100))
            let processed = seen().processed
            if processed != progressAt.1 { progressAt = (Date(), processed) }
            if Date().timeIntervalSince(progressAt.0) > 60 {
                throw BenchError.failed("the gateway stopped making progress with \(processed) of \(readings) backlog readings processed (see its log: journal quota or disk)")
            }
        }
    }

    /// A warm-up, then the measured window at `--rate`.
    func runSteadily(into result: inout BenchResult, window: inout Window) async throws {
        let warmup = min(3, options.duration * 0.2)
        progress(String(format: "publishing %.0f readings/s from %d devices for %.0f s (%.1f s warm-up) …", options.rate, options.devices, options.duration, warmup))
        let warm = try await phase(rate: options.rate, seconds: warmup)
        window.totalPublished += warm.2
        window.cpuAtStart = BenchRunner.cpuSeconds()
        let steady = try await phase(rate: options.rate, seconds: options.duration - warmup)
        window.cpuAtEnd = BenchRunner.cpuSeconds()
        result.rssSteady = BenchRunner.residentMemory()
        window.totalPublished += steady.2
        window.start = steady.0
        window.end = steady.1
        result.publishedPerSecond = Double(steady.2) / ((window.end - window.start) / 1000)
    }

    /// `--find-max`: raises the rate by half each step until the backlog grows; the window is
    /// the last sustained step.
    func findMaximumRate(into result: inout BenchResult, window: inout Window) async throws {
        let stepSeconds = max(3, min(options.duration, 8))
        var rate = options.rate
        var best: (rate: Double, start: Double, end: Double, cpu0: Double, cpu1: Double, rss: ResidentMemory, published: Double)?
        for _ in 0..<10 {
            let backlog0 = window.totalPublished - seen().processed
            let cpu0 = BenchRunner.cpuSeconds()
            let processed0 = seen().processed
            let p = try await phase(rate: rate, seconds: stepSeconds)
            let cpu1 = BenchRunner.cpuSeconds()
            let rss = BenchRunner.residentMemory()
            window.totalPublished += p.2
            let processed1 = seen().processed
            // The backlog a quarter second after the last publish: the batch the processor had
            // in hand when publishing stopped is not falling behind (11073 batches are burstier).
            try await Task.sleep(for: .milliseconds(250))
            let backlog1 = window.totalPublished - seen().processed
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
        guard let best else {
            result.notes.append("not even the starting rate \(options.rate)/s was sustained; lower --rate")
            return
        }
        result.sustainableRate = best.rate
        window.start = best.start
        window.end = best.end
        window.cpuAtStart = best.cpu0
        window.cpuAtEnd = best.cpu1
        result.rssSteady = best.rss
        result.publishedPerSecond = best.published
    }

    /// Waits until every published reading is processed and anchored (or the catch-up time is
    /// over), then the backlog's drain figures, and stops the poller.
    func catchUp(into result: inout BenchResult, window: Window) async throws {
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
            if seen.inbox >= window.totalPublished, seen.processed >= seen.inbox,
                let outbox = try? gateway.outboxStatus(), outbox.pendingBatches == 0, outbox.anchoredSize >= gateway.logTreeSize {
                caughtUpFully = true
                break
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        if !caughtUpFully {
            result.notes.append("did not catch up within \(Int(catchUpSeconds)) s of the end of publishing: the figures below count only what was processed and anchored by then")
        }
        if let drainFrom = window.drainFrom, result.backlog != nil {
            // The first poll that saw the whole backlog anchored.
            if let drained = CommitPoller.firstTime(Int64(drainFrom.treeSize), in: poller.all, key: \.anchored) {
                let seconds = (drained - drainFrom.timeMs) / 1000
                result.backlog?.drainSeconds = seconds
                if seconds > 0 { result.backlog?.drainLeavesPerSecond = Double(drainFrom.unanchored) / seconds }
            }
            result.backlog?.rssBytesAfterDrain = BenchRunner.procStatus("VmRSS")
        }
        try? await Task.sleep(for: .milliseconds(100))
        poller.stop()
        try? gateway.processor.drain()
        result.rssBytesPeak = BenchRunner.procStatus("VmHWM")
    }

    /// Throughput and CPU over the measured window.
    func measureThroughput(into result: inout BenchResult, window: Window) {
        guard window.end > window.start else { return }
        let samples = poller.all
        let processedStart = CommitPoller.value(at: window.start, in: samples).processed
        let processedEnd = CommitPoller.value(at: window.end, in: samples).processed
        let seconds = (window.end - window.start) / 1000
        result.steadySeconds = seconds
        result.readingsPerSecond = Double(processedEnd - processedStart) / seconds
        if processedEnd > processedStart {
            result.cpuSecondsPer1000 = (window.cpuAtEnd - window.cpuAtStart) / Double(processedEnd - processedStart) * 1000
        }
    }
}
