import Foundation
import Processing
import Testing

/// #18 item 6: a flood of distinct names must not grow the throttle, nor let a line per name through.
@Suite("LogThrottle and BoundedText: bounded whatever a device names itself")
struct LogThrottleTests {
    @Test("2,000 distinct 60 KB keys: the throttle holds at most its capacity, each key cut to its bound")
    func distinctLongKeysStayBounded() {
        let throttle = LogThrottle(interval: 60, capacity: 256)
        let now = Date()
        for i in 0..<2_000 { _ = throttle.shouldLog("\(i)-" + String(repeating: "x", count: 60_000), now: now) }
        #expect(throttle.keyCount == 256)
        // Still a throttle: a key it holds is not let through again within the interval.
        #expect(throttle.shouldLog("1999-" + String(repeating: "x", count: 60_000), now: now) == false)
        #expect(throttle.shouldLog("fresh", now: now) == true)
        #expect(throttle.keyCount == 256)
    }

    @Test("keys whose interval passed go first when the throttle is full")
    func expiredKeysGoFirst() {
        let throttle = LogThrottle(interval: 60, capacity: 2)
        let start = Date()
        #expect(throttle.shouldLog("a", now: start))
        #expect(throttle.shouldLog("b", now: start.addingTimeInterval(30)))
        #expect(throttle.shouldLog("c", now: start.addingTimeInterval(61)))
        // "a" (expired) went, "b" is still throttled.
        #expect(throttle.shouldLog("b", now: start.addingTimeInterval(62)) == false)
        #expect(throttle.keyCount == 2)
    }

    @Test("a log field is cut on a whole scalar and says how long it was")
    func logFieldIsCut() {
        let long = String(repeating: "é", count: 1_000)
        let field = BoundedText.logField(long)
        #expect(field.utf8.count <= BoundedText.maximumLogFieldBytes + 20)
        #expect(field.hasSuffix("…(2000 bytes)"))
        #expect(BoundedText.prefix(long, maxBytes: 5) == "éé")
        #expect(BoundedText.logField("short") == "short")
    }
}
