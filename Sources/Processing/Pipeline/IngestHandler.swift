import Foundation
import DeviceProfiles
import Journal
import Logging
import MQTTIngest

/// Runs on the MQTT network thread: journals the messages of one read phase durably, in one
/// transaction, before any of them is acknowledged.
public struct IngestHandler: Sendable {
    let journal: Journal
    let runtime: RuntimeState
    let metrics: ProcessingMetrics
    let logger: Logger
    let wake: WakeSignal
    let alarms = LogThrottle(interval: 60)
    /// Each device's part of the journal, so one over its share is refused alone.
    public let shares: DeviceShares
    /// What each profile received since start (the readiness warning of a silent profile).
    public let activity: ProfileActivity

    public init(
        journal: Journal, runtime: RuntimeState, metrics: ProcessingMetrics, logger: Logger, wake: WakeSignal,
        shares: DeviceShares = DeviceShares(), activity: ProfileActivity = ProfileActivity()
    ) {
        self.journal = journal
        self.shares = shares
        self.activity = activity
        self.runtime = runtime
        self.metrics = metrics
        self.logger = logger
        self.wake = wake
    }

    public func handle(_ messages: [IncomingMessage]) -> MessageDisposition {
        let decisions = admit(messages, profiles: runtime.profiles)
        let admitted = decisions.map(\.message)
        do {
            let appended = try journal.append(admitted)
            account(decisions)
            metrics.messagesReceived.increment(by: Int64(messages.count))
            if appended.redeliveries > 0 { metrics.redeliveriesDropped.increment(by: Int64(appended.redeliveries)) }
            metrics.inboxCommits.increment()
            metrics.recordInboxCommit(messages, durableAt: Date())
            wake.signal()
            return .stored
        } catch {
            let reason: String
            switch error {
            case .quotaExceeded: reason = "quota"
            case .corrupt: reason = "corrupt"
            default: reason = "storage"
            }
            metrics.refused(reason: reason, messages: messages.count)
            if alarms.shouldLog(reason) {
                logger.critical("ALARM: journal refuses writes; acknowledgements stop until it recovers", metadata: [
                    "topic": "\(BoundedText.logField(admitted.first?.topic ?? "-"))", "messages": "\(messages.count)", "reason": "\(error)",
                ])
            }
            return .refused(error.description)
        }
    }

    /// The router's decisions for one read phase. The journal's size counts what this phase
    /// admits before it, so a phase of large messages cannot overshoot a device's share.
    private func admit(_ messages: [IncomingMessage], profiles: ProfileSet) -> [IngestAdmission.Admitted] {
        guard let maxBytes = journal.maxBytes else { return messages.map { IngestAdmission.admit($0, profiles: profiles) } }
        var used = journal.recentUsedBytes
        // Near the shares' threshold a 100 ms old size is too old: look again, once per phase.
        if Double(used) >= Double(maxBytes) * DeviceShares.pressureFraction * 0.8 { used = journal.usedBytes() }
        return messages.map { message in
            let decision = IngestAdmission.admit(message, profiles: profiles, quota: .init(shares: shares, usedBytes: used, maxBytes: maxBytes))
            used += Int64(decision.message.payload.count + decision.message.topic.utf8.count)
            return decision
        }
    }

    /// After the commit: cuts counted, whole payloads credited to their devices, and a device
    /// over its share counted and logged (once a minute per device).
    private func account(_ decisions: [IngestAdmission.Admitted]) {
        for decision in decisions {
            if let profileId = decision.profileId {
                activity.record(profileId: profileId, device: decision.deviceId) { runtime.identity?.isEnrolledDevice($0) ?? false }
            }
            guard let deviceId = decision.deviceId else { continue }
            guard let cut = decision.message.cut else {
                shares.add(decision.message.payload.count, to: deviceId)
                continue
            }
            guard cut.kind == DecodeError.Kind.deviceQuota.rawValue else { continue }
            metrics.refused(reason: cut.kind)
            if alarms.shouldLog("device-quota " + deviceId) {
                logger.warning("device over its share of the journal quota: its messages are kept as evidence only, the other devices go on (logged at most once a minute per device)", metadata: [
                    "device": "\(BoundedText.logField(deviceId))", "reason": "\(BoundedText.logField(cut.reason))",
                ])
            }
        }
        for cut in decisions.compactMap(\.message.cut) { metrics.cut(reason: cut.kind) }
    }
}
