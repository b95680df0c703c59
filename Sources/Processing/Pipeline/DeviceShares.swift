import DeviceProfiles
import Journal
import Synchronization

/// Per-device fairness in the journal quota (#18 item 5): one device flooding must not make the
/// others be refused.
///
/// It keeps the payload bytes each device holds in the inbox (counted from the journal at start
/// and after each retention pass, added to at each commit), and the two largest. Once the
/// journal holds `pressureFraction` of `journal.maxBytes`, the largest device is over its share
/// when it holds more than `outlierFactor` times the next largest and its part of the journal
/// (its part of the inbox bytes times the journal's size) exceeds an equal share,
/// `maxBytes / n`. Devices that differ as real devices do (a SenML sensor's payload against a
/// wearable's) are never held back, so the quota stays the last line for them; a flooder is
/// stopped there while the others go on into the rest of the quota. A lone device is never held
/// to a share. Over its share, a device's messages are journaled only as bounded evidence and
/// acknowledged: the gateway has one broker session for every device, so withholding one
/// device's acknowledgements would stall the others' deliveries.
public final class DeviceShares: Sendable {
    /// From this part of the quota on, shares are enforced; below it nothing is held back.
    public static let pressureFraction = 0.5
    /// How many times the next largest device's bytes make the largest an outlier.
    public static let outlierFactor: Int64 = 4
    /// Devices tracked at most (a flood of distinct device ids cannot grow it further; an
    /// untracked device is held only by the quota).
    public static let capacity = 10_000

    private struct State {
        var bytes: [String: Int64] = [:]
        var total: Int64 = 0
        var largest: (id: String, bytes: Int64)?
        var nextLargest: Int64 = 0

        /// Counts only grow between recounts, so the two largest can be kept as they change.
        mutating func add(_ added: Int64, to deviceId: String) {
            guard bytes[deviceId] != nil || bytes.count < DeviceShares.capacity else { return }
            let now = bytes[deviceId, default: 0] + added
            bytes[deviceId] = now
            total += added
            if largest?.id == deviceId {
                largest = (deviceId, now)
            } else if now > largest?.bytes ?? -1 {
                nextLargest = largest?.bytes ?? 0
                largest = (deviceId, now)
            } else if now > nextLargest {
                nextLargest = now
            }
        }
    }

    private let state = Mutex(State())

    public init() {}

    /// Recounts from the inbox: each topic's payload bytes, credited to the device its profile names.
    public func recount(journal: Journal, profiles: ProfileSet) throws(JournalError) {
        var fresh = State()
        for (topic, bytes) in try journal.inboxBytesByTopic() {
            guard let deviceId = profiles.route(topic: topic)?.deviceId else { continue }
            fresh.add(bytes, to: deviceId)
        }
        state.withLock { $0 = fresh }
    }

    /// Credits a committed message's payload to its device.
    func add(_ bytes: Int, to deviceId: String) {
        state.withLock { $0.add(Int64(bytes), to: deviceId) }
    }

    /// Whether `deviceId` holds more than its share of a journal of `usedBytes` under `maxBytes`.
    func isOverShare(_ deviceId: String, usedBytes: Int64, maxBytes: Int64) -> Bool {
        guard Double(usedBytes) >= Double(maxBytes) * Self.pressureFraction else { return false }
        return state.withLock { state in
            guard state.bytes.count >= 2, state.total > 0, let largest = state.largest, largest.id == deviceId,
                  largest.bytes > Self.outlierFactor * state.nextLargest else { return false }
            let estimate = Double(usedBytes) * Double(largest.bytes) / Double(state.total)
            return estimate > Double(maxBytes) / Double(state.bytes.count)
        }
    }

    /// How many devices it tracks.
    public var deviceCount: Int { state.withLock { $0.bytes.count } }
}
