import CoreMetrics
import DeviceProfiles
import Foundation
import Journal
import Ledger
import Prometheus
import Synchronization

/// The gateway's counters and gauges, in a registry of its own (no process-global state, so
/// several gateways can live in one test process). `/metrics` renders `registry`.
public final class GatewayMetrics: Sendable {
    public let registry: PrometheusCollectorRegistry
    let messagesReceived: CoreMetrics.Counter
    /// Journal transactions that stored received messages: messages ÷ commits is the group-commit factor.
    let inboxCommits: CoreMetrics.Counter
    /// 11073 manager replies (AARE, confirmations, aborts) handed to the broker, or not.
    let managerRepliesSent: CoreMetrics.Counter
    let managerRepliesFailed: CoreMetrics.Counter
    let readingsDecoded: CoreMetrics.Counter
    let observationsStored: CoreMetrics.Counter
    let duplicatesDropped: CoreMetrics.Counter
    let implausibleReadings: CoreMetrics.Counter
    let observationsSigned: CoreMetrics.Counter
    let observationsLogged: CoreMetrics.Counter
    let checkpointsSigned: CoreMetrics.Counter
    let batchesCut: CoreMetrics.Counter
    let batchesAnchored: CoreMetrics.Counter
    let leavesAnchored: CoreMetrics.Counter
    let ledgerRetryableFailures: CoreMetrics.Counter
    /// The alarm: batches the ledger refused for good (dead letters in the outbox).
    let ledgerPermanentFailures: CoreMetrics.Counter
    let ledgerAvailable: CoreMetrics.Gauge
    let ledgerBacklogBatches: CoreMetrics.Gauge
    let ledgerBacklogLeaves: CoreMetrics.Gauge
    let ledgerFailedBatches: CoreMetrics.Gauge
    let logTreeSize: CoreMetrics.Gauge
    let anchoredTreeSize: CoreMetrics.Gauge
    private let quarantines: Mutex<[String: CoreMetrics.Counter]> = Mutex([:])
    let backlog: CoreMetrics.Gauge
    private let deadLetters: [DecodeError.Kind: CoreMetrics.Counter]
    private let refusals: Mutex<[String: CoreMetrics.Counter]> = Mutex([:])
    private let factory: PrometheusMetricsFactory

    public init() {
        registry = PrometheusCollectorRegistry()
        factory = PrometheusMetricsFactory(registry: registry)
        messagesReceived = Counter(label: "wardgate_messages_received_total", factory: factory)
        inboxCommits = Counter(label: "wardgate_inbox_commits_total", factory: factory)
        managerRepliesSent = Counter(label: "wardgate_manager_replies_total", dimensions: [("result", "sent")], factory: factory)
        managerRepliesFailed = Counter(label: "wardgate_manager_replies_total", dimensions: [("result", "failed")], factory: factory)
        readingsDecoded = Counter(label: "wardgate_readings_decoded_total", factory: factory)
        observationsStored = Counter(label: "wardgate_observations_stored_total", factory: factory)
        duplicatesDropped = Counter(label: "wardgate_duplicates_dropped_total", factory: factory)
        implausibleReadings = Counter(label: "wardgate_readings_implausible_total", factory: factory)
        observationsSigned = Counter(label: "wardgate_observations_signed_total", factory: factory)
        observationsLogged = Counter(label: "wardgate_observations_logged_total", factory: factory)
        checkpointsSigned = Counter(label: "wardgate_checkpoints_signed_total", factory: factory)
        backlog = Gauge(label: "wardgate_backlog_messages", factory: factory)
        batchesCut = Counter(label: "wardgate_ledger_batches_cut_total", factory: factory)
        batchesAnchored = Counter(label: "wardgate_ledger_batches_anchored_total", factory: factory)
        leavesAnchored = Counter(label: "wardgate_ledger_leaves_anchored_total", factory: factory)
        ledgerRetryableFailures = Counter(label: "wardgate_ledger_submit_failures_total", dimensions: [("kind", "retryable")], factory: factory)
        ledgerPermanentFailures = Counter(label: "wardgate_ledger_submit_failures_total", dimensions: [("kind", "permanent")], factory: factory)
        ledgerAvailable = Gauge(label: "wardgate_ledger_available", factory: factory)
        ledgerBacklogBatches = Gauge(label: "wardgate_ledger_backlog_batches", factory: factory)
        ledgerBacklogLeaves = Gauge(label: "wardgate_ledger_backlog_leaves", factory: factory)
        ledgerFailedBatches = Gauge(label: "wardgate_ledger_failed_batches", factory: factory)
        logTreeSize = Gauge(label: "wardgate_log_tree_size", factory: factory)
        anchoredTreeSize = Gauge(label: "wardgate_ledger_anchored_tree_size", factory: factory)
        ledgerAvailable.record(1)
        let factory = factory
        deadLetters = Dictionary(uniqueKeysWithValues: DecodeError.Kind.allCases.map {
            ($0, Counter(label: "wardgate_dead_letters_total", dimensions: [("kind", $0.rawValue)], factory: factory))
        })
    }

    func deadLettered(_ kind: DecodeError.Kind) { deadLetters[kind]?.increment() }

    /// The ledger backlog: unanchored leaves count those not cut into a batch yet.
    func recordOutbox(_ status: OutboxStatus, treeSize: UInt64) {
        ledgerBacklogBatches.record(status.pendingBatches)
        ledgerBacklogLeaves.record(treeSize > status.anchoredSize ? treeSize - status.anchoredSize : 0)
        ledgerFailedBatches.record(status.failedBatches)
        logTreeSize.record(treeSize)
        anchoredTreeSize.record(status.anchoredSize)
    }

    func record(_ event: ForwarderEvent) {
        switch event {
        case .anchored(_, let leaves, _):
            batchesAnchored.increment()
            leavesAnchored.increment(by: Int64(leaves))
        case .retryableFailure: ledgerRetryableFailures.increment()
        case .permanentFailure: ledgerPermanentFailures.increment()
        case .availability(let up): ledgerAvailable.record(up ? 1 : 0)
        }
    }

    /// A message the journal could not store (quota, disk): not acknowledged.
    /// Messages not acknowledged because the journal refused them (the broker keeps them).
    func refused(reason: String, messages: Int = 1) {
        counter(in: refusals, label: "wardgate_messages_refused_total", reason: reason).increment(by: Int64(messages))
    }

    /// A reading kept unsigned because its device has no usable identity.
    func quarantined(reason: String) {
        counter(in: quarantines, label: "wardgate_readings_quarantined_total", reason: reason).increment()
    }

    private func counter(in counters: borrowing Mutex<[String: CoreMetrics.Counter]>, label: String, reason: String) -> CoreMetrics.Counter {
        counters.withLock { counters in
            if let counter = counters[reason] { return counter }
            let counter = Counter(label: label, dimensions: [("reason", reason)], factory: factory)
            counters[reason] = counter
            return counter
        }
    }

    /// The Prometheus text exposition.
    public func exposition() -> String {
        var buffer: [UInt8] = []
        registry.emit(into: &buffer)
        return String(decoding: buffer, as: UTF8.self)
    }

    /// Current values keyed by `name` or `name{label="value"}`, parsed from the exposition.
    public func snapshot() -> MetricsSnapshot { MetricsSnapshot(exposition: exposition()) }
}

public struct MetricsSnapshot: Sendable {
    public let values: [String: Double]

    public init(exposition: String) {
        var values: [String: Double] = [:]
        for line in exposition.split(separator: "\n") where !line.hasPrefix("#") {
            guard let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...]) else { continue }
            values[String(line[..<space])] = value
        }
        self.values = values
    }

    public subscript(_ key: String) -> Double { values[key] ?? 0 }

    /// The sum over every label combination of a metric.
    public func total(_ name: String) -> Double {
        values.filter { $0.key == name || $0.key.hasPrefix(name + "{") }.values.reduce(0, +)
    }
}
