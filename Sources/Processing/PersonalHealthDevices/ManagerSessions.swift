import DeviceProfiles
import Foundation
import IEEE11073
import Observations
import Synchronization

/// One IEEE 11073-20601 manager session per device topic; the gateway acts as the manager.
///
/// Sessions survive a crash: the processor commits the snapshot of every session whose state
/// changed (`ManagerSession.stateRevision`) in the transaction that advances the processing
/// cursor (`ManagerSessionStore`), and the gateway restores them before processing resumes. A
/// commit that fails rolls the sessions back to their last committed state, so the records it
/// did not commit meet the same sessions again. docs/ieee11073.md, "Restarts", has the rules.
public final class ManagerSessions: Sendable {
    /// A device's session and where its manager's messages go: the manager topic of the profile
    /// whose topic brought the session's APDUs (timers fire with no APDU to say).
    private struct Entry {
        var session: ManagerSession
        var replyTopic: String?
    }

    private struct Sessions {
        var live: [String: Entry] = [:]
        /// Each session as of the last commit (absent: never committed).
        var committed: [String: Entry] = [:]
        /// Sessions stepped since the last commit or rollback.
        var touched: Set<String> = []
    }

    private let sessions = Mutex(Sessions())
    let settings: ManagerSettings
    private let store: any ConfigurationStore
    private let clock = ContinuousClock()
    private let origin: ContinuousClock.Instant

    /// `timeouts` are the 20601 manager timers (the standard's defaults unless a test shortens them).
    public init(store: any ConfigurationStore, managerSystemId: SystemId, offsetRule: UTCOffsetRule, timeouts: ManagerTimeouts = .standard) {
        self.settings = ManagerSettings(managerSystemId: managerSystemId, offsetRule: offsetRule, timeouts: timeouts)
        self.store = store
        self.origin = ContinuousClock.now
    }

    var now: Duration { clock.now - origin }

    /// The outcome of `restore`: how many sessions came back, and the devices whose snapshot was
    /// refused (they restart unassociated, and their agents associate again).
    public struct Restoration: Sendable {
        public let restored: Int
        public let lost: [(deviceKey: String, reason: String)]
    }

    /// Restores the committed sessions; each one's timers run on from what remained of them at
    /// its commit, less the time since (`now` against the commit's wall-clock time).
    public func restore(_ stored: [ManagerSessionStore.StoredSession], now wallClock: Date = Date()) -> Restoration {
        let now = self.now
        var lost: [(String, String)] = []
        sessions.withLock { sessions in
            for row in stored {
                let elapsed = Duration.milliseconds(max(0, Int64((wallClock.timeIntervalSince(row.committedAt) * 1000).rounded(.up))))
                let recovery = ManagerSession.recovered(from: row.snapshot, settings: settings, store: store, now: now, elapsed: elapsed)
                if case .lostState(_, let reason) = recovery { lost.append((row.deviceKey, "\(reason)")) }
                let entry = Entry(session: recovery.session, replyTopic: row.replyTopic)
                sessions.live[row.deviceKey] = entry
                sessions.committed[row.deviceKey] = entry
            }
        }
        return Restoration(restored: stored.count - lost.count, lost: lost)
    }

    /// Feeds one APDU from `deviceKey` (the topic's device id) to its session. `replyTopic` is
    /// where the manager answers this device (its profile's manager topic; nil: nowhere).
    func receive(_ bytes: [UInt8], deviceKey: String, replyTopic: String?) -> ManagerResult {
        let now = self.now
        return sessions.withLock { sessions in
            var entry = sessions.live[deviceKey] ?? Entry(session: ManagerSession(settings: settings, store: store), replyTopic: replyTopic)
            entry.replyTopic = replyTopic
            let result = entry.session.receive(bytes, now: now)
            sessions.live[deviceKey] = entry
            sessions.touched.insert(deviceKey)
            return result
        }
    }

    /// Runs the 20601 timers; returns what to send to which device, and on which topic.
    func tick() -> [(deviceKey: String, replyTopic: String?, result: ManagerResult)] {
        let now = self.now
        return sessions.withLock { sessions in
            var results: [(String, String?, ManagerResult)] = []
            for (key, var entry) in sessions.live {
                guard let deadline = entry.session.nextDeadline, deadline <= now else { continue }
                results.append((key, entry.replyTopic, entry.session.tick(now: now)))
                sessions.live[key] = entry
                sessions.touched.insert(key)
            }
            return results
        }
    }

    /// The snapshots of the sessions whose state moved since the last commit, for the next one.
    /// A session that cannot be written (none should: only a session inside `receive` has no
    /// snapshot) is left out and reported by name.
    func changedSnapshots() -> (changed: [ManagerSessionStore.ChangedSession], unwritable: [String]) {
        let now = self.now
        return sessions.withLock { sessions in
            var changed: [ManagerSessionStore.ChangedSession] = []
            var unwritable: [String] = []
            for key in sessions.touched.sorted() {
                guard let entry = sessions.live[key] else { continue }
                let committed = sessions.committed[key]
                guard entry.session.stateRevision != committed?.session.stateRevision || entry.replyTopic != committed?.replyTopic else { continue }
                do {
                    changed.append(ManagerSessionStore.ChangedSession(deviceKey: key, replyTopic: entry.replyTopic, snapshot: try entry.session.snapshot(now: now)))
                } catch {
                    unwritable.append(key)
                }
            }
            return (changed, unwritable)
        }
    }

    /// The commit went through: the sessions as they are now are the committed ones.
    func didCommit() {
        sessions.withLock { sessions in
            for key in sessions.touched { sessions.committed[key] = sessions.live[key] }
            sessions.touched.removeAll(keepingCapacity: true)
        }
    }

    /// The commit failed: every session stepped since the last commit goes back to its state
    /// then, so the records that will be processed again meet the sessions they met before.
    func rollBack() {
        sessions.withLock { sessions in
            for key in sessions.touched { sessions.live[key] = sessions.committed[key] }
            sessions.touched.removeAll(keepingCapacity: true)
        }
    }

    /// A device's session as it is now (nil: none yet), for tests and diagnostics.
    public func session(deviceKey: String) -> ManagerSession? { sessions.withLock { $0.live[deviceKey]?.session } }
}

/// Whether the System-Id an agent claims is the device its topic names: a device may only speak
/// for itself (the broker ACL ties topics to device certificates).
enum PHDIdentity {
    static func normalized(_ id: String) -> String {
        id.lowercased().filter { $0.isHexDigit }
    }

    static func matches(topicDevice: String, readingDevice: String) -> Bool {
        normalized(topicDevice) == normalized(readingDevice) && normalized(topicDevice).count == 16
    }
}
