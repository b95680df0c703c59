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
        if options.runBaselines { try await measureBaselines(into: &result, brokerPort: broker.port, logger: logger, progress: progress) }
        let devices = try makeWorkload(port: broker.port, logger: logger, clientId: "wardgate-bench-sim")
        defer { devices.stop() }
        result.observationsPerReading = devices.observationsPerReading
        if options.payload == .ieee11073, options.findMax || options.rate / Double(options.devices) > 100 {
            result.notes.append("11073 AbsoluteTime counts hundredths of a second: above 100 readings/s per device (\(options.devices) devices) the agents' clocks run ahead of the wall clock")
        }
        try checkBacklogSpace()
        let (gateway, ledger, config) = try await startGateway(work: work, brokerPort: broker.port, devices: devices, logger: logger, progress: progress)
        defer { ledger.stop() }
        if options.ledger == .fabric {
            result.notes.append("anchored through the gateway's Fabric adapter in the Fabric peer TEST DOUBLE, \(options.fabricCommitDelayMs) ms per commit (the forwarder's coalescing window)")
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
        let session = await BenchSession(
            options: options, devices: devices, gateway: gateway, ledger: ledger, config: config, poller: poller, progress: progress)
        var window = BenchSession.Window()
        if options.backlog > 0 { try await session.fillBacklog(into: &result, window: &window) }
        if options.findMax {
            try await session.findMaximumRate(into: &result, window: &window)
        } else {
            try await session.runSteadily(into: &result, window: &window)
        }
        result.published = window.totalPublished
        try await session.catchUp(into: &result, window: window)
        session.measureThroughput(into: &result, window: window)
        let stats = try session.accountForEveryReading(into: &result, window: window)

        // Sizes: every file of the state directory (journal, WAL, log tables live in it), and the
        // journal's own files.
        let bytes = Self.directoryBytes(config.stateDirectory)
        let journalBytes = Self.journalFileBytes(config.stateDirectory)
        if stats.inboxRecords > 0 { result.journalBytesPerReading = Double(bytes) / Double(stats.inboxRecords) }
        if stats.observations > 0 {
            result.stateBytesPerObservation = Double(bytes) / Double(stats.observations)
            result.journalBytesPerObservation = Double(journalBytes) / Double(stats.observations)
        }

        result.notes += await devices.problems(published: window.totalPublished)
        await gateway.stop()
        return result
    }

    /// openssl's signing rate (one core, and the gateway's cores), what a plain QoS 1 subscriber
    /// takes from the broker, and with `--baseline-peer` the Python peer pipeline.
    private func measureBaselines(
        into result: inout BenchResult, brokerPort: Int, logger: Logger, progress: @Sendable (String) -> Void
    ) async throws {
        progress("baseline: openssl speed -seconds 3 ecdsap256 …")
        result.baselineSignaturesPerSecond = Self.opensslSignsPerSecond()
        let cores = ProcessInfo.processInfo.activeProcessorCount
        if cores > 1 { progress("baseline: openssl speed -multi \(cores) -seconds 3 ecdsap256 …") }
        result.signingLimit = Self.signingLimit(cores: cores, oneCore: result.baselineSignaturesPerSecond)
        let devices = try makeWorkload(port: brokerPort, logger: logger, clientId: "wardgate-bench-baseline-pub", withoutManager: true)
        defer { devices.stop() }
        progress("baseline: mosquitto_sub -q 1 -t '\(devices.topicFilter)' -C K, publisher flat out …")
        result.baselineSubscriberPerSecond = try await Self.subscriberBaseline(port: brokerPort, devices: devices)
        guard options.baselinePeer else { return }
        // As many messages as the measured run offers, at most 10,000 (the script takes ~3,000/s).
        let readings = max(devices.deviceIds.count, min(10_000, Int(options.rate * options.duration)))
        progress("baseline: \(options.peerScript) on the same broker, \(readings) messages published flat out …")
        let peerDevices = try makeWorkload(port: brokerPort, logger: logger, clientId: "wardgate-bench-peer-pub", withoutManager: true)
        defer { peerDevices.stop() }
        result.baselinePeer = try await Self.peerBaseline(
            script: options.peerScript, port: brokerPort, devices: peerDevices, readings: readings, notes: &result.notes)
    }

    private func checkBacklogSpace() throws {
        guard options.backlog > 0 else { return }
        let needed = Self.journalQuota(backlog: options.backlog)
        if let free = StorageFailure.freeBytes(at: NSTemporaryDirectory()), free < needed {
            throw BenchError.failed("--backlog \(options.backlog) needs about \(needed / 1_073_741_824) GiB in \(NSTemporaryDirectory()) (about 11 KB per reading while the ledger is down); \(free / 1_073_741_824) GiB are free")
        }
    }

    /// Enrolls the devices and a gateway key, and starts a signing, logging, anchoring gateway.
    private func startGateway(
        work: String, brokerPort: Int, devices: any BenchWorkload, logger: Logger, progress: @Sendable (String) -> Void
    ) async throws -> (Gateway, any ToolLedger, GatewayConfig) {
        let keystore = work + "/keys"
        try Self.enroll(deviceIds: devices.enrolledIds, caDirectory: work + "/ca", keystore: keystore)
        let store = Keystore(directory: keystore)
        var config = GatewayConfig(
            gatewayId: Self.gatewayId, stateDirectory: work + "/state",
            mqtt: MQTTSettings(port: brokerPort, clientId: "wardgate-bench"), profilesDirectory: options.profilesDirectory,
            durability: options.durability, maxJournalBytes: Self.journalQuota(backlog: options.backlog), logLevel: .error,
            identity: .init(keystore: keystore),
            log: .init(origin: "wardgate/bench.example/\(Self.gatewayId)",
                       gatewayCertificate: store.certificatePath(kind: .gateway, id: Self.gatewayId),
                       gatewayKey: store.keyPath(kind: .gateway, id: Self.gatewayId)))
        // The real embedded ledger (wrapped only so `--backlog` can hold it down while it fills), or
        // the Fabric peer double with the gateway's real Fabric adapter.
        let ledger = try makeToolLedger(options.ledger, config: &config, logger: logger, fabricCommitDelayMs: options.fabricCommitDelayMs)
        progress(ledger.description)
        let gateway = try Gateway(config: config, logger: logger, components: GatewayComponents(ledger: ledger.override))
        gateway.start()
        guard await gateway.waitUntilReady(timeout: .seconds(60)) else {
            await gateway.stop()
            ledger.stop()
            throw BenchError.failed("the gateway could not subscribe on the private broker")
        }
        return (gateway, ledger, config)
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

    /// The size of every file in a directory (the journal, its WAL and the embedded ledger).
    static func directoryBytes(_ directory: String) -> Int64 {
        let files = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return files.reduce(Int64(0)) { $0 + fileBytes(directory + "/" + $1) }
    }

    /// The journal's files, as its quota counts them: the database and its WAL.
    static func journalFileBytes(_ directory: String) -> Int64 {
        fileBytes(directory + "/" + Journal.fileName) + fileBytes(directory + "/" + Journal.fileName + "-wal")
    }

    static func fileBytes(_ path: String) -> Int64 {
        (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber)?.int64Value ?? 0
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
