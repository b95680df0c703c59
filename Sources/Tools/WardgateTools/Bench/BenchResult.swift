import Foundation
import Gateway
import JSONDocument
import Journal

/// `wardgate bench` (issue #8): a private broker, a temporary CA, the gateway in-process with
/// real signing and checkpoints, and N simulated devices publishing QoS 1 at a total rate.
///
/// A *reading* is one published payload = one MQTT message: a JSON or SenML payload yields
/// 5 Observations, an 11073 scan report 2.
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
    /// The ledger: the embedded one, or the Fabric peer test double (`--ledger fabric`).
    public var ledger = ToolLedgerKind.embedded
    /// The double's simulated commit time (`--commit-delay-ms`), with `--ledger fabric`.
    public var fabricCommitDelayMs = 1000
    /// Run the Python peer pipeline (`--baseline-peer`) on the same broker and payloads.
    public var baselinePeer = false
    /// The peer pipeline script (`--peer-script`, else `$WARDGATE_PEER_PIPELINE`, else
    /// `../shared/bench/peer_pipeline.py` beside the source checkout).
    public var peerScript = BenchOptions.defaultPeerScript

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

extension BenchOptions {
    /// `$WARDGATE_PEER_PIPELINE`, else `../shared/bench/peer_pipeline.py` next to this checkout.
    public static var defaultPeerScript: String {
        if let path = ProcessInfo.processInfo.environment["WARDGATE_PEER_PIPELINE"], !path.isEmpty { return path }
        // Sources/Tools/WardgateTools/Bench/ → the repository → its sibling shared/.
        var repository = URL(fileURLWithPath: #filePath)
        for _ in 0..<5 { repository.deleteLastPathComponent() }
        return repository.deletingLastPathComponent().appendingPathComponent("shared/bench/peer_pipeline.py").path
    }
}

/// What the gateway's cores can sign: the ceiling `ratioToSignatures` divides by.
public struct SigningLimit: Sendable {
    public let perSecond: Double
    public let cores: Int
    /// How it was measured (`openssl speed -multi N`, or N x one core), stated in the output.
    public let method: String
}

/// The Python peer pipeline's run (`--baseline-peer`): one Observation per message.
public struct PeerBaseline: Sendable {
    public let readings: Int
    public let seconds: Double
    public var observationsPerSecond: Double { seconds > 0 ? Double(readings) / seconds : 0 }
}

public enum BenchError: Error, Sendable, CustomStringConvertible {
    case failed(String)

    public var description: String {
        switch self {
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

/// Resident memory from /proc/self/status, in bytes. Mapped files are mostly the code of the
/// binary and the Swift runtime and Foundation libraries: clean pages the kernel can drop.
public struct ResidentMemory: Sendable {
    public var total: Int?
    public var anonymous: Int?
    public var files: Int?
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
        /// The heap and other anonymous memory: what would grow if the backlog lived in memory.
        public let rssAnonymousBytes: Int?
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
    /// Observations (signatures, log leaves) one reading yields with this payload.
    public var observationsPerReading = 5
    public var readingsPerSecond: Double?
    public var publishedPerSecond: Double?
    public var baselineSubscriberPerSecond: Double?
    /// One core's `openssl speed` figure.
    public var baselineSignaturesPerSecond: Double?
    public var signingLimit: SigningLimit?
    public var baselinePeer: PeerBaseline?
    public var durable = LatencyPercentiles.none
    public var received = LatencyPercentiles.none
    public var signed = LatencyPercentiles.none
    /// Publish to the commit of the receipt whose checkpoint covers all of the reading's leaves.
    public var anchored = LatencyPercentiles.none
    public var cpuSecondsPer1000: Double?
    public var rssBytesPeak: Int?
    public var rssSteady = ResidentMemory()
    public var rssBytesSteady: Int? { rssSteady.total }
    /// The whole state directory per inbox record (reading).
    public var journalBytesPerReading: Double?
    /// The whole state directory per stored Observation.
    public var stateBytesPerObservation: Double?
    /// The journal's files (database and WAL) per stored Observation.
    public var journalBytesPerObservation: Double?
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

    /// Signed and logged Observations per second.
    public var observationsPerSecond: Double? { readingsPerSecond.map { $0 * Double(observationsPerReading) } }

    /// Signatures the gateway makes per second (one per Observation) over what `openssl speed`
    /// signs on the gateway's cores (`signingLimit`).
    public var ratioToSignatures: Double? {
        guard let o = observationsPerSecond, let limit = signingLimit, limit.perSecond > 0 else { return nil }
        return o / limit.perSecond
    }

    /// Wardgate's Observations per second over the peer pipeline's (one per message).
    public var ratioToPeer: Double? {
        guard let o = observationsPerSecond, let peer = baselinePeer?.observationsPerSecond, peer > 0 else { return nil }
        return o / peer
    }

    /// One JSON object: the fields the issue names, then the counts and figures behind them.
    public var json: String {
        func n(_ v: Double?) -> JSONValue {
            guard let v, v.isFinite else { return .null }
            return .number(String(format: "%.4f", v))
        }
        func i(_ v: Int?) -> JSONValue { v.map { .integer($0) } ?? .null }
        func lat(_ l: LatencyPercentiles) -> JSONValue { ["p50": n(l.p50), "p99": n(l.p99), "p999": n(l.p999)] }
        let steps: [JSONValue] = findMaxSteps.map {
            ["targetRate": n($0.targetRate), "publishedPerSecond": n($0.publishedPerSecond), "processedPerSecond": n($0.processedPerSecond),
             "backlogAtStart": .integer($0.backlogAtStart), "backlogAtEnd": .integer($0.backlogAtEnd), "sustained": .bool($0.sustained)]
        }
        var backlogValue = JSONValue.null
        if let b = backlog {
            let samples: [JSONValue] = b.samples.map {
                ["readings": .integer($0.readings), "unanchoredLeaves": .integer($0.unanchoredLeaves), "rssBytes": i($0.rssBytes),
                 "rssAnonymousBytes": i($0.rssAnonymousBytes),
                 "journalBytes": .integer($0.journalBytes)]
            }
            backlogValue = ["readings": .integer(b.readings), "fillReadingsPerSecond": n(b.fillReadingsPerSecond), "drainSeconds": n(b.drainSeconds),
                            "drainLeavesPerSecond": n(b.drainLeavesPerSecond), "rssBytesAfterDrain": i(b.rssBytesAfterDrain), "samples": .array(samples)]
        }
        let document: JSONValue = [
            "reading": .string("one published payload = one MQTT message (\(observationsPerReading) Observations)"),
            "payload": .string(options.payload.rawValue),
            "observationsPerReading": .integer(observationsPerReading),
            "readingsPerSecond": n(readingsPerSecond),
            "publishedPerSecond": n(publishedPerSecond),
            "baselineSubscriberPerSecond": n(baselineSubscriberPerSecond),
            "ratioToSubscriber": n(ratioToSubscriber),
            "baselineSignaturesPerSecond": n(baselineSignaturesPerSecond),
            "signingLimitPerSecond": n(signingLimit?.perSecond),
            "signingLimitCores": i(signingLimit?.cores),
            "signingLimitMethod": signingLimit.map { .string($0.method) } ?? .null,
            "ratioToSignatures": n(ratioToSignatures),
            "observationsPerSecond": n(observationsPerSecond),
            "baselinePeerReadings": i(baselinePeer?.readings),
            "baselinePeerObservationsPerSecond": n(baselinePeer?.observationsPerSecond),
            "ratioToPeer": n(ratioToPeer),
            "latencyMs": ["durable": lat(durable), "signed": lat(signed), "anchored": lat(anchored)],
            "cpuSecondsPer1000": n(cpuSecondsPer1000),
            "rssBytesPeak": i(rssBytesPeak),
            "rssBytesSteady": i(rssBytesSteady),
            "rssAnonymousBytesSteady": i(rssSteady.anonymous),
            "rssFileBytesSteady": i(rssSteady.files),
            "journalBytesPerReading": n(journalBytesPerReading),
            "stateBytesPerObservation": n(stateBytesPerObservation),
            "journalBytesPerObservation": n(journalBytesPerObservation),
            "lost": .integer(lost),
            "duplicated": .integer(duplicated),
            "published": .integer(published),
            "observations": .integer(observations),
            "signedObservations": .integer(signedObservations),
            "loggedObservations": .integer(loggedObservations),
            "sustainableRate": n(sustainableRate),
            "findMaxSteps": .array(steps),
            "backlog": backlogValue,
            "notes": .array(notes.map { .string($0) }),
        ]
        return document.serialized
    }

    public var text: String {
        func f(_ v: Double?, _ digits: Int = 1) -> String { v.map { String(format: "%.\(digits)f", $0) } ?? "n/a" }
        func mib(_ v: Int?) -> String { v.map { "\($0 / 1_048_576) MiB" } ?? "n/a" }
        func lat(_ l: LatencyPercentiles) -> String {
            l.count == 0 ? "n/a" : "p50 \(f(l.p50)) ms  p99 \(f(l.p99)) ms  p99.9 \(f(l.p999)) ms  (\(l.count) readings)"
        }
        var lines = [
            "wardgate bench: \(options.devices) devices, \(options.payload.rawValue) payloads, durability \(options.durability.rawValue)"
                + (options.findMax ? ", --find-max" : ", offered \(f(options.rate, 0)) readings/s for \(f(options.duration, 0)) s"),
            "  a reading = one published payload = one MQTT message (= \(observationsPerReading) FHIR Observations, signatures and log leaves)",
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
            "  baseline openssl ecdsap256:   \(f(baselineSignaturesPerSecond)) signs/s on one core",
            "  signing limit:                \(f(signingLimit?.perSecond)) signs/s on \(signingLimit.map { "\($0.cores)" } ?? "n/a") cores (\(signingLimit?.method ?? "not measured"))"
                + "   ratio (\(observationsPerReading) signs per reading) \(f(ratioToSignatures, 3))",
            "  latency publish -> received:  \(lat(received))",
            "  latency publish -> durable:   \(lat(durable))",
            "  latency publish -> signed+logged leaf committed: \(lat(signed))",
            "  latency publish -> anchored:  \(lat(anchored)) (\(options.ledger == .fabric ? "Fabric test double, \(options.fabricCommitDelayMs) ms commits" : "embedded ledger"), batch maxLeaves 1000 / maxAge 1 s)",
            "  CPU seconds per 1000 readings: \(f(cpuSecondsPer1000, 3)) (whole process: gateway + simulator + poller)",
            "  RSS peak / steady:            \(mib(rssBytesPeak)) / \(mib(rssBytesSteady)) (steady: heap and other anonymous \(mib(rssSteady.anonymous)), mapped files such as code \(mib(rssSteady.files)))",
            "  journal bytes per reading:    \(f(journalBytesPerReading, 0)) (whole state directory)",
            "  bytes per Observation:        \(f(stateBytesPerObservation, 0)) state directory, \(f(journalBytesPerObservation, 0)) journal files (database + WAL)",
            "  published \(published), inbox records \(inboxRecords) (redeliveries \(redeliveries)), observations \(observations) (signed \(signedObservations), logged \(loggedObservations))",
            "  lost \(lost), duplicated \(duplicated)",
            "  commit times are polled every \(f(pollIntervalMs)) ms: durable/signed/anchored latencies are upper bounds at that resolution",
        ]
        if options.baselinePeer {
            lines.append("  baseline peer pipeline:       \(f(baselinePeer?.observationsPerSecond)) Observations/s (one per message, \(baselinePeer?.readings ?? 0) messages)   ratio \(f(ratioToPeer, 2))")
        }
        if let b = backlog {
            lines.append("  backlog: \(b.readings) readings published with the ledger down (filled at \(f(b.fillReadingsPerSecond)) readings/s), then the run above while it drained")
            for sample in b.samples {
                lines.append("    \(sample.readings) readings: \(sample.unanchoredLeaves) unanchored leaves, RSS \(mib(sample.rssBytes)) (anonymous \(mib(sample.rssAnonymousBytes))), journal \(f(Double(sample.journalBytes) / 1_048_576)) MiB")
            }
            lines.append("    drained in \(f(b.drainSeconds)) s (\(f(b.drainLeavesPerSecond, 0)) leaves/s anchored); RSS after the drain \(mib(b.rssBytesAfterDrain))")
        }
        lines += notes.map { "  note: \($0)" }
        return lines.joined(separator: "\n")
    }
}

