import Simulation
import Testing
import Timing

@Suite("Backoff: capped exponential ceilings, half or full jitter")
struct BackoffTests {
    @Test("ceilings double from initial after each failure and stop at the cap")
    func ceilings() {
        let backoff = Backoff(initial: .milliseconds(100), maximum: .seconds(2), jitter: .full)
        #expect((1...8).map { backoff.ceiling(failures: $0) } == [
            .milliseconds(100), .milliseconds(200), .milliseconds(400), .milliseconds(800), .milliseconds(1600), .seconds(2), .seconds(2), .seconds(2),
        ])
        #expect(backoff.ceiling(failures: 0) == .milliseconds(100), "no failure yet counts as the first")
        #expect(backoff.ceiling(failures: 10_000) == .seconds(2))
        let inverted = Backoff(initial: .seconds(3), maximum: .seconds(1), jitter: .half)
        #expect(inverted.ceiling(failures: 1) == .seconds(1), "never above maximum")
    }

    @Test("half jitter: every delay lies in [½·ceiling, ceiling], and delays differ (MQTT reconnect)")
    func halfJitter() {
        let backoff = Backoff(initial: .milliseconds(100), maximum: .seconds(5), jitter: .half)
        var generator = SeededGenerator(seed: 42)
        var distinct = Set<Duration>()
        for failures in 1...12 {
            let ceiling = backoff.ceiling(failures: failures)
            for _ in 0..<50 {
                let delay = backoff.delay(failures: failures, using: &generator)
                #expect(delay <= ceiling && delay >= ceiling / 2)
                distinct.insert(delay)
            }
        }
        #expect(distinct.count > 100)
    }

    @Test("full jitter: every delay lies in [0, ceiling] and the draws cover the range (ledger forwarder)")
    func fullJitter() {
        let backoff = Backoff(initial: .milliseconds(100), maximum: .seconds(2), jitter: .full)
        var generator = SeededGenerator(seed: 42)
        let delays = (0..<2000).map { _ in backoff.delay(failures: 7, using: &generator) }
        #expect(delays.allSatisfy { $0 >= .zero && $0 <= .seconds(2) })
        #expect(delays.contains { $0 < .milliseconds(200) } && delays.contains { $0 > .milliseconds(1800) })
    }
}

@Suite("Duration in seconds, nanoseconds and milliseconds")
struct DurationSecondsTests {
    @Test("whole and fractional durations")
    func conversions() {
        #expect(Duration.seconds(90).inSeconds == 90)
        #expect(Duration.milliseconds(1500).inSeconds == 1.5)
        #expect(Duration.nanoseconds(1).inSeconds == 1e-9)
        #expect(Duration.milliseconds(-250).inSeconds == -0.25)
        #expect(Duration.milliseconds(1500).inNanoseconds == 1_500_000_000)
        #expect(Duration.seconds(Int64.max).inNanoseconds == .max, "saturates instead of trapping")
        #expect(Duration.seconds(Int64.min).inNanoseconds == .min)
        #expect(Duration.milliseconds(1500).inMillisecondsRoundedUp == 1500)
        #expect(Duration.nanoseconds(1).inMillisecondsRoundedUp == 1, "rounds up")
        #expect((Duration.seconds(1) + .nanoseconds(1)).inMillisecondsRoundedUp == 1001)
        #expect(Duration.microseconds(-1500).inMillisecondsRoundedUp == -1, "toward +∞")
        #expect(Duration.zero.inMillisecondsRoundedUp == 0)
        #expect(Duration.seconds(Int64.max).inMillisecondsRoundedUp == .max, "saturates instead of trapping")
    }
}
