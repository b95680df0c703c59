import Foundation
import Timing

/// Retention's guard against a wrong wall clock. A clock set a year ahead must not make
/// one-minute-old readings look a year old.
///
/// At start it takes the newest time the journal recorded (messages, signatures, dead letters,
/// batches, receipts). From then on the latest the time can honestly be is that reference plus
/// the time elapsed on the monotonic clock since start (time the gateway was off is not counted,
/// so after an outage pruning only starts later, never earlier). Retention prunes by the earlier
/// of that bound and the wall clock; a wall clock more than `maxSkew` past the bound pauses
/// pruning and raises the alarm.
final class ClockSanity: Sendable {
    enum Verdict: Equatable {
        /// Prune by this time: never later than the wall clock, nor than the bound.
        case sane(trustedNow: Date)
        /// The wall clock runs `ahead` past the bound: pruning pauses.
        case suspect(ahead: Duration, bound: Date)
    }

    let reference: Date
    let maxSkew: Duration
    private let started = ContinuousClock.now

    /// `referenceMs` is the newest time recorded before this start (nil: an empty journal, when
    /// the wall clock at start is all there is).
    init(referenceMs: Int64?, maxSkew: Duration, wallAtStart: Date = Date()) {
        reference = referenceMs.map { Date(timeIntervalSince1970: Double($0) / 1000) } ?? wallAtStart
        self.maxSkew = maxSkew
    }

    /// Monotonic time since start.
    var uptime: Duration { ContinuousClock.now - started }

    func judge(wall: Date, uptime: Duration) -> Verdict {
        let bound = reference.addingTimeInterval(uptime.inSeconds)
        let ahead = wall.timeIntervalSince(bound)
        if ahead > maxSkew.inSeconds { return .suspect(ahead: .milliseconds(Int64(ahead * 1000)), bound: bound) }
        return .sane(trustedNow: min(wall, bound))
    }
}
