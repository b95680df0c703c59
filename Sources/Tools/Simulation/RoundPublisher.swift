/// Simulated devices that publish one payload each per round at a steady rate.
public protocol RoundPublisher: Sendable {
    /// Publishes `rounds` rounds at `roundsPerSecond`; `onRound` runs after each with the round's
    /// device time and the wall time it began. Returns the messages published.
    func run(
        rounds: Int, roundsPerSecond: Double,
        onRound: @Sendable (_ round: Int, _ deviceTimeMs: Int64, _ startedAtMs: Double) -> Void
    ) async throws -> Int

    /// True once the broker acknowledged everything published.
    func waitForPublishes(timeout: Duration) async -> Bool

    func stop()
}
