import CoreMetrics
import FabricLedger
import Foundation
import Journal
import Ledger
import Processing
import Prometheus
import Synchronization

/// The gateway's counters and gauges, in a registry of its own (no process-global state, so
/// several gateways can live in one test process). `/metrics` renders `registry`.
public final class GatewayMetrics: Sendable {
    public let registry: PrometheusCollectorRegistry
    /// Ingest and processing (messages, Observations, signing, dead letters, quarantine, replies).
    public let processing: ProcessingMetrics
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
    /// Histograms (buckets in `PipelineHistograms`): received until anchored, per leaf; each
    /// ledger submit by how it ended.
    let receivedToAnchored: CoreMetrics.Timer
    let ledgerSubmitDurations: [LedgerSubmitResult: CoreMetrics.Timer]
    /// `wardgate_ledger_fabric_failures_total{reason}`, by `FabricFailure` label.
    let fabricFailures: [String: CoreMetrics.Counter]
    /// 1 once `PRAGMA quick_check` (or SQLite on a read or write) found the journal damaged.
    let journalCorrupt: CoreMetrics.Gauge
    /// 1 while retention pauses because the clock runs ahead of the journal's times (`ClockSanity`).
    let clockSuspect: CoreMetrics.Gauge
    /// Dead letters retention removed (`journal.deadLetterRetention`).
    let deadLettersPruned: CoreMetrics.Counter
    private let factory: PrometheusMetricsFactory

    public init() {
        registry = PrometheusCollectorRegistry()
        var prometheus = PrometheusMetricsFactory(registry: registry)
        prometheus.durationHistogramBuckets = PipelineHistograms.durationBuckets
        prometheus.valueHistogramBuckets = PipelineHistograms.valueBuckets
        factory = prometheus
        processing = ProcessingMetrics(factory: factory)
        checkpointsSigned = Counter(label: "wardgate_checkpoints_signed_total", factory: factory)
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
        receivedToAnchored = Timer(label: PipelineHistograms.receivedToAnchoredName, factory: prometheus)
        ledgerSubmitDurations = Dictionary(uniqueKeysWithValues: LedgerSubmitResult.allCases.map {
            ($0, Timer(label: PipelineHistograms.ledgerSubmitName, dimensions: [("result", $0.rawValue)], factory: prometheus))
        })
        fabricFailures = Dictionary(uniqueKeysWithValues: FabricFailure.Kind.allCases.map { [prometheus] kind in
            (kind.rawValue, Counter(label: "wardgate_ledger_fabric_failures_total", dimensions: [("reason", kind.rawValue)], factory: prometheus))
        })
        journalCorrupt = Gauge(label: "wardgate_journal_corrupt", factory: factory)
        clockSuspect = Gauge(label: "wardgate_clock_suspect", factory: factory)
        deadLettersPruned = Counter(label: "wardgate_dead_letters_pruned_total", factory: factory)
        ledgerAvailable.record(1)
        journalCorrupt.record(0)
        clockSuspect.record(0)
    }

    func record(_ failure: FabricFailure) { fabricFailures[failure.metricLabel]?.increment() }

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
        case .anchored(_, let leaves, let batches, _):
            batchesAnchored.increment(by: Int64(batches))
            leavesAnchored.increment(by: Int64(leaves))
        case .retryableFailure: ledgerRetryableFailures.increment()
        case .permanentFailure: ledgerPermanentFailures.increment()
        case .availability(let up): ledgerAvailable.record(up ? 1 : 0)
        }
    }

    func record(_ event: BatcherEvent) {
        switch event {
        case .cut(let sizes):
            checkpointsSigned.increment(by: sizes.count)
            batchesCut.increment(by: sizes.count)
        case .status(let status, let treeSize):
            recordOutbox(status, treeSize: treeSize)
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
