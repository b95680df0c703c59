import Foundation
import Journal
import Ledger
import Logging
import Timing

extension Gateway {
    /// What one retention pass did.
    public enum RetentionPass: Sendable, Equatable {
        /// Neither `journal.retention` nor `journal.deadLetterRetention` (everything is kept).
        case disabled
        /// The wall clock runs ahead of the journal's own times by more than
        /// `journal.maxClockSkew`: nothing was pruned, and the alarm is raised.
        case paused(reason: String)
        case pruned(Outbox.PruneOutcome)
    }

    /// Prunes anchored readings older than `journal.retention` and dead letters older than
    /// `journal.deadLetterRetention` (it also runs on its own), by
    /// the wall clock and by the journal's own times plus the monotonic time since start
    /// (`ClockSanity`): never by the wall clock alone. `uptime` replaces the monotonic time
    /// since start (tests pass it together with `now`).
    public func pruneExpired(now: Date = Date(), uptime: Duration? = nil) throws(JournalError) -> RetentionPass {
        guard config.retention != nil || config.deadLetterRetention != nil else { return .disabled }
        switch clock.judge(wall: now, uptime: uptime ?? clock.uptime) {
        case .suspect(let ahead, let bound):
            metrics.clockSuspect.record(1)
            let reason = """
                the clock (\(Gateway.iso8601(now))) is \(Int(ahead.inSeconds)) s past the newest time the journal recorded before this start \
                plus the time since (\(Gateway.iso8601(bound))), more than journal.maxClockSkew (\(Int(clock.maxSkew.inSeconds)) s)
                """
            if clockAlarms.shouldLog("clock") {
                logger.critical("ALARM: the clock looks wrong; retention pruning paused (logged once an hour)", metadata: [
                    "reason": "\(reason)", "recovery": "see \"Faults and recovery\" in docs/deployment.md",
                ])
            }
            return .paused(reason: reason)
        case .sane(let trustedNow):
            metrics.clockSuspect.record(0)
            if let keep = config.deadLetterRetention { try pruneDeadLetters(writtenBefore: trustedNow.addingTimeInterval(-keep.inSeconds)) }
            var outcome = Outbox.PruneOutcome(observations: 0, inboxRecords: 0)
            if let retention = config.retention { outcome = try outbox.pruneAnchored(receivedBefore: trustedNow.addingTimeInterval(-retention.inSeconds)) }
            try shares.recount(journal: journal, profiles: runtime.profiles)
            return .pruned(outcome)
        }
    }

    /// Dead letters written before `cutoff` go, with the inbox records kept only as their
    /// evidence; counted in `wardgate_dead_letters_pruned_total`.
    private func pruneDeadLetters(writtenBefore cutoff: Date) throws(JournalError) {
        let purge = try journal.purgeDeadLetters(DeadLetterFilter(createdBefore: cutoff))
        guard purge.deadLetters > 0 else { return }
        metrics.deadLettersPruned.increment(by: purge.deadLetters)
        logger.info("pruned dead letters past journal.deadLetterRetention", metadata: [
            "deadLetters": "\(purge.deadLetters)", "inboxRecords": "\(purge.inboxRecords)", "payloadBytes": "\(purge.payloadBytes)",
        ])
    }

    static func iso8601(_ date: Date) -> String { ISO8601DateFormatter().string(from: date) }

    func pruneLoop(retention: Duration) async {
        let interval = max(.seconds(1), min(retention / 10, .seconds(3600)))
        while !Task.isCancelled {
            do {
                if case .pruned(let outcome) = try pruneExpired(), outcome.observations + outcome.inboxRecords > 0 {
                    logger.info("pruned anchored readings past retention", metadata: [
                        "observations": "\(outcome.observations)", "inboxRecords": "\(outcome.inboxRecords)",
                    ])
                }
            } catch {
                logger.error("retention pruning failed; it is retried", metadata: ["reason": "\(error)"])
            }
            try? await Task.sleep(for: interval)
        }
    }
}
