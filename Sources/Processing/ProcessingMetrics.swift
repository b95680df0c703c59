import CoreMetrics
import DeviceProfiles
import Synchronization

/// The counters and gauges of ingest and processing, made by the gateway's metrics factory (a
/// Prometheus registry of its own), so the stage needs no registry of its own.
public final class ProcessingMetrics: Sendable {
    public let messagesReceived: CoreMetrics.Counter
    /// Journal transactions that stored received messages: messages ÷ commits is the group-commit factor.
    public let inboxCommits: CoreMetrics.Counter
    /// 11073 manager replies (AARE, confirmations, aborts) handed to the broker; dropped because
    /// the broker was away and the agent waits for no such late reply; or held for the broker
    /// until the agent's timeout passed.
    public let managerRepliesSent: CoreMetrics.Counter
    public let managerRepliesFailed: CoreMetrics.Counter
    public let managerRepliesExpired: CoreMetrics.Counter
    /// Messages the broker delivered again that were already journaled (not journaled twice).
    public let redeliveriesDropped: CoreMetrics.Counter
    public let readingsDecoded: CoreMetrics.Counter
    public let observationsStored: CoreMetrics.Counter
    public let duplicatesDropped: CoreMetrics.Counter
    public let implausibleReadings: CoreMetrics.Counter
    public let observationsSigned: CoreMetrics.Counter
    public let observationsLogged: CoreMetrics.Counter
    /// Messages journaled but not processed yet.
    public let backlog: CoreMetrics.Gauge
    /// Histograms, from the time a message was received (stamped as it is read from the socket,
    /// journaled with it): until its commit made it durable; until its Observations were signed
    /// and logged. Their buckets are the factory owner's (`PipelineHistograms` in Gateway).
    public let receivedToDurable: CoreMetrics.Timer
    public let receivedToLogged: CoreMetrics.Timer
    /// Messages per inbox commit (the group-commit factor, as a distribution).
    public let inboxCommitSize: CoreMetrics.Recorder
    private let deadLetters: [DecodeError.Kind: CoreMetrics.Counter]
    private let quarantines: Mutex<[String: CoreMetrics.Counter]> = Mutex([:])
    private let refusals: Mutex<[String: CoreMetrics.Counter]> = Mutex([:])
    private let cuts: Mutex<[String: CoreMetrics.Counter]> = Mutex([:])
    private let factory: any MetricsFactory

    public init(factory: any MetricsFactory) {
        self.factory = factory
        messagesReceived = Counter(label: "wardgate_messages_received_total", factory: factory)
        inboxCommits = Counter(label: "wardgate_inbox_commits_total", factory: factory)
        managerRepliesSent = Counter(label: "wardgate_manager_replies_total", dimensions: [("result", "sent")], factory: factory)
        managerRepliesFailed = Counter(label: "wardgate_manager_replies_total", dimensions: [("result", "failed")], factory: factory)
        managerRepliesExpired = Counter(label: "wardgate_manager_replies_total", dimensions: [("result", "expired")], factory: factory)
        redeliveriesDropped = Counter(label: "wardgate_inbox_redeliveries_total", factory: factory)
        readingsDecoded = Counter(label: "wardgate_readings_decoded_total", factory: factory)
        observationsStored = Counter(label: "wardgate_observations_stored_total", factory: factory)
        duplicatesDropped = Counter(label: "wardgate_duplicates_dropped_total", factory: factory)
        implausibleReadings = Counter(label: "wardgate_readings_implausible_total", factory: factory)
        observationsSigned = Counter(label: "wardgate_observations_signed_total", factory: factory)
        observationsLogged = Counter(label: "wardgate_observations_logged_total", factory: factory)
        backlog = Gauge(label: "wardgate_backlog_messages", factory: factory)
        receivedToDurable = Timer(label: ProcessingMetrics.receivedToDurableName, factory: factory)
        receivedToLogged = Timer(label: ProcessingMetrics.receivedToLoggedName, factory: factory)
        inboxCommitSize = Recorder(label: ProcessingMetrics.inboxCommitSizeName, aggregate: true, factory: factory)
        deadLetters = Dictionary(uniqueKeysWithValues: DecodeError.Kind.allCases.map {
            ($0, Counter(label: "wardgate_dead_letters_total", dimensions: [("kind", $0.rawValue)], factory: factory))
        })
    }

    func deadLettered(_ kind: DecodeError.Kind) { deadLetters[kind]?.increment() }

    /// Messages not acknowledged because the journal refused them (quota, disk): the broker keeps them.
    func refused(reason: String, messages: Int = 1) {
        counter(in: refusals, label: "wardgate_messages_refused_total", reason: reason).increment(by: Int64(messages))
    }

    /// A message acknowledged and journaled only as bounded evidence (its prefix, length and
    /// digest), because its payload, topic or device id is over a limit (`IngestAdmission`).
    func cut(reason: String) {
        counter(in: cuts, label: "wardgate_messages_cut_total", reason: reason).increment()
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
}
