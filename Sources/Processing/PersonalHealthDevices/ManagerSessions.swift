import DeviceProfiles
import Foundation
import IEEE11073
import Observations
import Synchronization

/// One IEEE 11073-20601 manager session per device topic; the gateway acts as the manager.
///
/// Sessions live in memory. After a restart a device that was operating is in the wrong state
/// for us; the manager answers per 20601 (the device re-associates), and the learned extended
/// configuration is still in the journal, so it is accepted at once.
public final class ManagerSessions: Sendable {
    /// A device's session and where its manager's messages go: the manager topic of the profile
    /// whose topic brought the session's APDUs (timers fire with no APDU to say).
    private struct Entry {
        var session: ManagerSession
        var replyTopic: String?
    }

    private let sessions = Mutex<[String: Entry]>([:])
    private let settings: ManagerSettings
    private let store: any ConfigurationStore
    private let clock = ContinuousClock()
    private let origin: ContinuousClock.Instant

    /// `timeouts` are the 20601 manager timers (the standard's defaults unless a test shortens them).
    public init(store: any ConfigurationStore, managerSystemId: SystemId, offsetRule: UTCOffsetRule, timeouts: ManagerTimeouts = .standard) {
        self.settings = ManagerSettings(managerSystemId: managerSystemId, offsetRule: offsetRule, timeouts: timeouts)
        self.store = store
        self.origin = ContinuousClock.now
    }

    private var now: Duration { clock.now - origin }

    /// Feeds one APDU from `deviceKey` (the topic's device id) to its session. `replyTopic` is
    /// where the manager answers this device (its profile's manager topic; nil: nowhere).
    func receive(_ bytes: [UInt8], deviceKey: String, replyTopic: String?) -> ManagerResult {
        sessions.withLock { sessions in
            var entry = sessions[deviceKey] ?? Entry(session: ManagerSession(settings: settings, store: store), replyTopic: replyTopic)
            entry.replyTopic = replyTopic
            let result = entry.session.receive(bytes, now: now)
            sessions[deviceKey] = entry
            return result
        }
    }

    /// Runs the 20601 timers; returns what to send to which device, and on which topic.
    func tick() -> [(deviceKey: String, replyTopic: String?, result: ManagerResult)] {
        let now = self.now
        return sessions.withLock { sessions in
            var results: [(String, String?, ManagerResult)] = []
            for (key, var entry) in sessions {
                guard let deadline = entry.session.nextDeadline, deadline <= now else { continue }
                results.append((key, entry.replyTopic, entry.session.tick(now: now)))
                sessions[key] = entry
            }
            return results
        }
    }
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
