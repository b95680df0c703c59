import Foundation
@testable import Processing
import Synchronization
import Testing
import WardgateTestSupport

/// The 11073 manager's replies go through `ReplyChannel` once per confirmed report, for as long
/// as the daemon runs: a call must cost the same the millionth time as the first.
@Suite("ReplyChannel: sending a reply does not get deeper with every reply")
struct ReplyChannelTests {
    @Test("the stack depth inside the sender is the same on the 2,000th reply as on the first")
    func constantDepth() {
        let depths = Mutex<[Int]>([])
        let delivered = Mutex(0)
        let channel = ReplyChannel { topic, payload in
            #expect(topic == "phd/0011223344556677/manager" && payload == [0xE7, 0x00])
            let count = delivered.withLock { $0 += 1; return $0 }
            // The frames on this thread's stack, on the first and the last reply.
            if count == 1 || count == 2_000 { depths.withLock { $0.append(Thread.callStackReturnAddresses.count) } }
        }
        for _ in 0..<2_000 { channel.send(topic: "phd/0011223344556677/manager", payload: [0xE7, 0x00]) }
        #expect(delivered.withLock { $0 } == 2_000)
        let seen = depths.withLock { $0 }
        #expect(seen.count == 2)
        // A function value stored straight in a generic Mutex is re-wrapped in reabstraction
        // thunks on each access, so every send called through a longer chain of them.
        #expect(seen.first == seen.last, "stack depth grew from \(seen.first ?? -1) to \(seen.last ?? -1) frames")
    }
}
