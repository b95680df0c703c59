extension Duration {
    /// The duration in seconds, for APIs that take a `TimeInterval` (Foundation, Dispatch).
    public var inSeconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) / 1e18
    }

    /// The duration in whole nanoseconds (rounded toward zero), saturating at `Int64`'s bounds.
    public var inNanoseconds: Int64 {
        let (seconds, attoseconds) = components
        let (scaled, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        if overflow { return seconds < 0 ? .min : .max }
        let (sum, overflowSum) = scaled.addingReportingOverflow(attoseconds / 1_000_000_000)
        if overflowSum { return seconds < 0 ? .min : .max }
        return sum
    }

    /// The duration in whole milliseconds rounded up (toward +∞: a timer's remaining time never
    /// reads as expired early), saturating at `Int64`'s bounds.
    public var inMillisecondsRoundedUp: Int64 {
        let (seconds, attoseconds) = components
        let (scaled, overflow) = seconds.multipliedReportingOverflow(by: 1000)
        if overflow { return seconds < 0 ? .min : .max }
        let perMillisecond: Int64 = 1_000_000_000_000_000
        // The attoseconds share the seconds' sign, so truncating rounds a negative one up.
        let part = attoseconds / perMillisecond + (attoseconds % perMillisecond > 0 ? 1 : 0)
        let (sum, overflowSum) = scaled.addingReportingOverflow(part)
        if overflowSum { return seconds < 0 ? .min : .max }
        return sum
    }
}
