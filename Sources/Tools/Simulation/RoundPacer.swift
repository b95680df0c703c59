import Foundation

/// Paces rounds of publishing at a steady rate and gives each round its device time.
enum RoundPacer {
    /// Runs `body(round, deviceTimeMs, startedAtMs)` `rounds` times at `roundsPerSecond`.
    ///
    /// Device times are wall-clock milliseconds rounded down to `resolutionMs` and strictly
    /// increasing, so every round is distinct at the resolution the device can write; when the
    /// rate outruns that resolution they run ahead of the clock. `startedAtMs` is the wall time
    /// the round began publishing.
    static func run(
        rounds: Int, roundsPerSecond: Double, resolutionMs: Int64 = 1,
        _ body: (_ round: Int, _ deviceTimeMs: Int64, _ startedAtMs: Double) throws -> Void
    ) async throws {
        let clock = ContinuousClock()
        let start = clock.now
        let interval = 1.0 / roundsPerSecond
        var lastMs: Int64 = 0
        for round in 0..<rounds {
            try Task.checkCancellation()
            let due = start + .seconds(interval * Double(round))
            if due > clock.now { try await Task.sleep(until: due, clock: clock) }
            let wallMs = Date().timeIntervalSince1970 * 1000
            let aligned = Int64(wallMs.rounded()) / resolutionMs * resolutionMs
            let ms = max(lastMs + resolutionMs, aligned)
            lastMs = ms
            try body(round, ms, wallMs)
        }
    }
}
