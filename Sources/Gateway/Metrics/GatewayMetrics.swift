import CoreMetrics
import DeviceProfiles
import Foundation
import Prometheus
import Synchronization

/// The gateway's counters and gauges, in a registry of its own (no process-global state, so
/// several gateways can live in one test process). `/metrics` renders `registry`.
public final class GatewayMetrics: Sendable {
    public let registry: PrometheusCollectorRegistry
    let messagesReceived: CoreMetrics.Counter
    let readingsDecoded: CoreMetrics.Counter
    let observationsStored: CoreMetrics.Counter
    let duplicatesDropped: CoreMetrics.Counter
    let implausibleReadings: CoreMetrics.Counter
    let observationsSigned: CoreMetrics.Counter
    let observationsLogged: CoreMetrics.Counter
    let checkpointsSigned: CoreMetrics.Counter
    private let quarantines: Mutex<[String: CoreMetrics.Counter]> = Mutex([:])
    let backlog: CoreMetrics.Gauge
    private let deadLetters: [DecodeError.Kind: CoreMetrics.Counter]
    private let refusals: Mutex<[String: CoreMetrics.Counter]> = Mutex([:])
    private let factory: PrometheusMetricsFactory

    public init() {
        registry = PrometheusCollectorRegistry()
        factory = PrometheusMetricsFactory(registry: registry)
        messagesReceived = Counter(label: "wardgate_messages_received_total", factory: factory)
        readingsDecoded = Counter(label: "wardgate_readings_decoded_total", factory: factory)
        observationsStored = Counter(label: "wardgate_observations_stored_total", factory: factory)
        duplicatesDropped = Counter(label: "wardgate_duplicates_dropped_total", factory: factory)
        implausibleReadings = Counter(label: "wardgate_readings_implausible_total", factory: factory)
        observationsSigned = Counter(label: "wardgate_observations_signed_total", factory: factory)
        observationsLogged = Counter(label: "wardgate_observations_logged_total", factory: factory)
        checkpointsSigned = Counter(label: "wardgate_checkpoints_signed_total", factory: factory)
        backlog = Gauge(label: "wardgate_backlog_messages", factory: factory)
        let factory = factory
        deadLetters = Dictionary(uniqueKeysWithValues: DecodeError.Kind.allCases.map {
            ($0, Counter(label: "wardgate_dead_letters_total", dimensions: [("kind", $0.rawValue)], factory: factory))
        })
    }

    func deadLettered(_ kind: DecodeError.Kind) { deadLetters[kind]?.increment() }

    /// A message the journal could not store (quota, disk): not acknowledged.
    func refused(reason: String) {
        counter(in: refusals, label: "wardgate_messages_refused_total", reason: reason).increment()
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
