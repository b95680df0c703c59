import Foundation
import Journal
import Logging
import StaffAPI
import ServiceLifecycle
import Synchronization
import UnixSignals
import Timing

/// `wardgate run` as a service: the gateway plus what systemd and the staff see of it.
///
/// - sd_notify: `STATUS=` while waiting for the broker, `READY=1` once the journal is open and
///   the broker acknowledged every subscription, `STATUS=` with the backlog as it changes,
///   `RELOADING=1`/`READY=1` around a SIGHUP reload, `STOPPING=1` on SIGTERM.
/// - The watchdog (`WATCHDOG_USEC`): `WATCHDOG=1` at half the interval, but only after a look
///   at the journal found the writer free and the processing cursor moving (or nothing
///   pending). A wedged pipeline stops the pings; a slow one that still drains does not.
/// - The staff HTTP API when `http:` is configured.
/// - A bounded shutdown: one `ServiceGroup` runs the gateway's stages and these, and shuts them
///   down in order within `stopTimeout`.
public final class GatewayService: Sendable {
    public struct Options: Sendable {
        /// systemd's watchdog; nil when `WATCHDOG_USEC` is not set for us.
        public var watchdog: WatchdogSettings?
        /// How long the processing cursor may stand still, with work pending, before the
        /// pipeline counts as wedged. Default: the watchdog interval (30 s without one).
        public var stallLimit: Duration?
        /// How often STATUS and the backlog gauge are refreshed (and the watchdog considered,
        /// at least at half its interval).
        public var statusInterval: Duration
        /// SIGTERM to exit, at most: past it the process exits with work left in the journal,
        /// which the next start resumes (nothing acknowledged is lost).
        public var stopTimeout: Duration
        /// How long `/readyz` waits for its journal write probe.
        public var readinessProbeTimeout: Duration

        public init(watchdog: WatchdogSettings? = WatchdogSettings.fromEnvironment(), stallLimit: Duration? = nil,
                    statusInterval: Duration = .seconds(5), stopTimeout: Duration = .seconds(20),
                    readinessProbeTimeout: Duration = .seconds(2)) {
            self.watchdog = watchdog
            self.stallLimit = stallLimit
            self.statusInterval = statusInterval
            self.stopTimeout = stopTimeout
            self.readinessProbeTimeout = readinessProbeTimeout
        }
    }

    public let gateway: Gateway
    public let notifier: SystemdNotifier
    public let options: Options
    let logger: Logger
    private let monitorProbe: ProbeRunner
    private let readinessProbe: ProbeRunner
    let state = Mutex<ServiceState>(ServiceState())
    private let api: StaffAPIServer?
    /// Set once, at the end of `init` (its services call back into the service).
    private let groupBox = Mutex<ServiceGroup?>(nil)
    private var group: ServiceGroup { groupBox.withLock { $0! } }

    struct ServiceState {
        var ready = false
        var lastStatus: String?
        var progress: PipelineProgress?
        var lastVerdict: PipelineProgress.Verdict?
        var lastProbe: PipelineProbe?
        var pings = 0
        var withheld = 0
        var apiPort: Int?
    }

    /// Builds the HTTP API from the configuration; throws when it must not be served.
    ///
    /// `signals`: SIGTERM and SIGINT shut the service down, SIGHUP reloads (trapped by the caller
    /// before anything else, so that none is lost while the gateway starts). Without them,
    /// `shutdown()` and `reload()` do (a caller embedding the daemon, tests).
    public init(gateway: Gateway, notifier: SystemdNotifier = SystemdNotifier(), options: Options = Options(),
                signals: UnixSignalsSequence? = nil, logger: Logger) throws(StaffAPIError) {
        self.gateway = gateway
        self.notifier = notifier
        self.options = options
        self.logger = logger
        let journal = gateway.journal
        monitorProbe = ProbeRunner { journal.watchdogProbe() }
        let readinessProbe = ProbeRunner {
            do {
                try journal.checkWritable()
                return PipelineProbe(oldestPending: nil, backlog: 0, journalWritable: true, failure: nil)
            } catch {
                return PipelineProbe(oldestPending: nil, backlog: 0, journalWritable: false, failure: "\(error)")
            }
        }
        self.readinessProbe = readinessProbe
        if let http = gateway.config.http {
            var apiLogger = logger
            apiLogger[metadataKey: "component"] = "http"
            let timeout = options.readinessProbeTimeout
            let metrics = gateway.metrics
            api = try StaffAPIServer(
                configuration: http, journal: journal, metricsText: { metrics.exposition() },
                readiness: { await GatewayService.readiness(of: gateway, probe: readinessProbe, probeTimeout: timeout) },
                hooks: GatewayService.apiHooks(gateway: gateway), logger: apiLogger)
        } else {
            api = nil
        }
        groupBox.withLock { $0 = GatewayService.group(for: self, signals: signals) }
    }

    // MARK: Readiness

    /// Broker connected with every subscription acknowledged, journal writable, quota not exhausted.
    public func readiness() async -> Readiness {
        await GatewayService.readiness(of: gateway, probe: readinessProbe, probeTimeout: options.readinessProbeTimeout)
    }

    // MARK: Running

    /// Runs the one service group until SIGTERM/SIGINT (or `shutdown()`) shuts it down
    /// gracefully, in order; SIGHUP reloads. Returns the exit status: 1 when a service failed
    /// (the HTTP API cannot listen) or the shutdown took longer than `stopTimeout`.
    public func run() async -> Int32 {
        notifier.status("starting: journal open, connecting to the broker at \(gateway.config.mqtt.host):\(gateway.config.mqtt.port)")
        do {
            try await group.run()
        } catch {
            logger.critical(apiPort == nil && api != nil ? "wardgate cannot start" : "wardgate failed", metadata: ["reason": "\(error)"])
            notifier.send([.status("failed: \(error)")])
            return 1
        }
        guard gateway.hasStopped else {
            logger.critical("shutdown took longer than the limit; exiting with work left in the journal (the next start resumes it)",
                            metadata: ["limit": "\(options.stopTimeout)"])
            return 1
        }
        return 0
    }

    /// Shuts the group down gracefully, as SIGTERM does (for a caller without signals).
    public func shutdown() async { await group.triggerGracefulShutdown() }

    /// Re-reads profiles, assignments, keystore and CRL, as SIGHUP does, with RELOADING=1/READY=1 around it.
    public func reload() {
        notifier.reloading()
        do {
            try gateway.reload()
        } catch {
            logger.error("reload refused; the previous profiles stay in force", metadata: ["reason": "\(error)"])
        }
        // READY=1 ends the reload for systemd whether or not it was accepted.
        notifier.send([.ready, .status(statusLine())])
    }

    /// The group: the gateway's stages, then what systemd and the staff see of it. The last
    /// shuts down first: the signal service (STOPPING=1), the API, the monitor, then the gateway
    /// (ingest first, the journal last).
    static func group(for service: GatewayService, signals: UnixSignalsSequence?) -> ServiceGroup {
        let logger = service.logger
        var services = service.gateway.services()
        let own = [
            StageService("readiness announcement", logger: logger) { [unowned service] in await service.announceReadiness() },
            StageService("status and watchdog", logger: logger) { [unowned service] in await service.monitor() },
        ]
        services += own.map { .init(service: $0, successTerminationBehavior: .ignore) }
        if let api = service.api {
            services.append(.init(service: api, failureTerminationBehavior: .gracefullyShutdownGroup))
            let address = StageService("HTTP API address", logger: logger) { [unowned service] in
                if let port = try? await api.waitUntilListening() { service.state.withLock { $0.apiPort = port } }
            }
            services.append(.init(service: address, successTerminationBehavior: .ignore))
        }
        let control = SignalService(signals: signals, reload: { [unowned service] in service.reload() }) { [unowned service] signal in
            service.logger.notice("stopping", metadata: signal.map { ["signal": "\($0)"] } ?? [:])
            service.notifier.stopping(status: "stopping: finishing the commit in flight, draining the journal")
        }
        // Its end (SIGTERM, SIGINT) is the group's graceful shutdown.
        services.append(.init(service: control, successTerminationBehavior: .gracefullyShutdownGroup))
        var configuration = ServiceGroupConfiguration(services: services, logger: logger)
        configuration.maximumGracefulShutdownDuration = service.options.stopTimeout
        return ServiceGroup(configuration: configuration)
    }

    /// STATUS while the broker is not there yet, then READY=1 once it acknowledged every subscription.
    func announceReadiness() async {
        let broker = "\(gateway.config.mqtt.host):\(gateway.config.mqtt.port)"
        let started = ContinuousClock.now
        while !Task.isCancelled {
            if await gateway.waitUntilReady(timeout: .seconds(1)) {
                state.withLock { $0.ready = true }
                let status = statusLine()
                notifier.ready(status: status)
                state.withLock { $0.lastStatus = status }
                logger.notice("ready: broker subscriptions acknowledged", metadata: ["broker": "\(broker)"])
                return
            }
            guard !Task.isCancelled else { return }
            let waited = Int((ContinuousClock.now - started).inSeconds)
            notifier.status("waiting for the broker at \(broker) to accept the connection and acknowledge the subscriptions (\(waited) s)")
        }
    }

    /// The loop that feeds the watchdog and refreshes STATUS and the backlog gauge.
    func monitor() async {
        let stallLimit = options.stallLimit ?? options.watchdog?.interval ?? .seconds(30)
        state.withLock { $0.progress = PipelineProgress(stallLimit: stallLimit) }
        var tick = options.statusInterval
        if let watchdog = options.watchdog { tick = min(tick, watchdog.pingInterval) }
        while !Task.isCancelled {
            let started = ContinuousClock.now
            let outcome = await monitorProbe.run(timeout: tick)
            guard !Task.isCancelled else { return }
            evaluate(outcome, at: ContinuousClock.now)
            let elapsed = ContinuousClock.now - started
            if elapsed < tick { try? await Task.sleep(for: tick - elapsed) }
        }
    }

    /// One monitor tick: decide about the watchdog ping, update the gauge and STATUS.
    func evaluate(_ outcome: ProbeRunner.Outcome, at now: ContinuousClock.Instant) {
        let healthy: Bool
        var problem: String?
        switch outcome {
        case .finished(let probe):
            gateway.metrics.processing.backlog.record(probe.backlog)
            let verdict = state.withLock { s -> PipelineProgress.Verdict in
                s.lastProbe = probe
                let v = s.progress!.observe(oldestPending: probe.oldestPending, at: now)
                s.lastVerdict = v
                return v
            }
            if !probe.journalWritable {
                problem = "the journal refuses writes: \(probe.failure ?? "unknown")"
            } else if case .stalled(let waited) = verdict {
                problem = "processing has not advanced for \(Int(waited.inSeconds)) s with \(probe.backlog) messages pending"
            }
            healthy = problem == nil
        case .timedOut:
            problem = "a journal write did not complete within one watchdog tick (the writer is stuck)"
            healthy = false
        case .stillBusy:
            problem = "the previous journal probe is still blocked (the writer is stuck)"
            healthy = false
        }
        if options.watchdog != nil {
            if healthy {
                notifier.watchdog()
                state.withLock { $0.pings += 1 }
            } else {
                state.withLock { $0.withheld += 1 }
                logger.error("watchdog ping withheld: the pipeline is wedged", metadata: ["reason": "\(problem ?? "-")"])
            }
        }
        let isReady = state.withLock { $0.ready }
        guard isReady || problem != nil else { return }
        let status = problem.map { "wedged, watchdog withheld: \($0)" } ?? statusLine()
        let changed = state.withLock { s -> Bool in
            defer { s.lastStatus = status }
            return s.lastStatus != status
        }
        // A wedged state is repeated every tick, so it is seen even if nothing else changes.
        if changed || problem != nil { notifier.status(status) }
    }

    /// `ready; broker 127.0.0.1:1883 connected; backlog 0 messages`
    func statusLine() -> String {
        let (ready, probe) = state.withLock { ($0.ready, $0.lastProbe) }
        let broker = "\(gateway.config.mqtt.host):\(gateway.config.mqtt.port)"
        let connection = gateway.isConnected ? "broker \(broker) connected" : "broker \(broker) disconnected, reconnecting"
        let backlog = probe.map { "backlog \($0.backlog) messages" } ?? "backlog unknown"
        return "\(ready ? "ready" : "starting"); \(connection); \(backlog)"
    }

    /// The port the HTTP API listens on, once it does (`http.listen` may ask for port 0).
    public var apiPort: Int? { state.withLock { $0.apiPort } }

    /// Watchdog pings sent and withheld so far (for tests and diagnostics).
    public var watchdogCounts: (sent: Int, withheld: Int) { state.withLock { ($0.pings, $0.withheld) } }
}
