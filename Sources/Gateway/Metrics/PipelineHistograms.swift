import CoreMetrics
import Foundation
import Ledger
import Processing
import Transparency

/// The buckets of the pipeline's histograms, each chosen for the range its quantity spans on a
/// ward gateway (docs/deployment.md, "Latency histograms"): an inbox commit takes well under a
/// millisecond to a few with fsync; processing waits at most the 200 ms poll unless there is a
/// backlog; anchoring waits for a batch (`batch.maxAge`) and the ledger, and for hours while the
/// ledger is away; a ledger submit takes milliseconds (embedded) to seconds (Fabric's commit).
enum PipelineHistograms {
    static let receivedToAnchoredName = "wardgate_received_to_anchored_seconds"
    static let ledgerSubmitName = "wardgate_ledger_submit_duration_seconds"

    static let durationBuckets: [String: [Duration]] = [
        ProcessingMetrics.receivedToDurableName: seconds([0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5]),
        ProcessingMetrics.receivedToLoggedName: seconds([0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800]),
        receivedToAnchoredName: seconds([0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600, 14_400, 86_400]),
        ledgerSubmitName: seconds([0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60]),
    ]

    /// A read phase hands at most 256 messages to one commit.
    static let valueBuckets: [String: [Double]] = [
        ProcessingMetrics.inboxCommitSizeName: [1, 2, 4, 8, 16, 32, 64, 128, 256],
    ]

    private static func seconds(_ values: [Double]) -> [Duration] { values.map { Duration.seconds($0) } }
}

/// How a ledger submit ended, the `result` label of its histogram.
enum LedgerSubmitResult: String, CaseIterable, Sendable {
    case anchored, retryable, permanent

    init(_ outcome: SubmitOutcome) {
        switch outcome {
        case .anchored: self = .anchored
        case .retryable: self = .retryable
        case .permanent: self = .permanent
        }
    }
}

extension GatewayMetrics {
    /// Leaves read per query when an anchor covers many (a coalesced backlog).
    static let anchoredLeavesPerQuery: UInt64 = 10_000

    func recordSubmit(_ duration: Duration, _ outcome: SubmitOutcome) {
        ledgerSubmitDurations[LedgerSubmitResult(outcome)]?.recordNanoseconds(duration.inNanoseconds)
    }

    /// On an anchor: each leaf it anchored, from the time its message was received.
    func recordAnchoring(_ event: ForwarderEvent, leafIndex: LeafIndex) {
        guard case .anchored(let treeSize, let leaves, _, _) = event, leaves > 0 else { return }
        let anchoredAt = Date()
        var start = treeSize - leaves
        while start < treeSize {
            let end = min(treeSize, start + GatewayMetrics.anchoredLeavesPerQuery)
            // A metric only: a read that fails leaves the histogram short, never the anchor.
            for received in (try? leafIndex.receivedAtMs(leaves: start..<end)) ?? [] {
                receivedToAnchored.recordNanoseconds(PipelineLatency.nanoseconds(fromMilliseconds: received, to: anchoredAt))
            }
            start = end
        }
    }
}
