import Ledger
import Synchronization

/// A test double for a ledger outage: wraps a real ledger and, while `isDown`, answers every
/// call as an unreachable ledger would (retryable failures, unhealthy). Used by the fault tests
/// and by `wardgate demo` to show the backlog building and draining; never by `wardgate run`.
public final class OutageSimulatingLedger: LedgerClient {
    public let wrapped: any LedgerClient
    private let down = Atomic<Bool>(false)
    private let refusedCalls = Atomic<Int>(0)

    public init(wrapping ledger: any LedgerClient) { wrapped = ledger }

    public var kind: String { wrapped.kind }

    public var isDown: Bool {
        get { down.load(ordering: .acquiring) }
        set { down.store(newValue, ordering: .releasing) }
    }

    /// Calls answered as unreachable so far.
    public var refused: Int { refusedCalls.load(ordering: .relaxed) }

    public func submit(_ batch: LedgerBatch) async -> SubmitOutcome {
        if isDown {
            refusedCalls.add(1, ordering: .relaxed)
            return .retryable("ledger unreachable (simulated outage)")
        }
        return await wrapped.submit(batch)
    }

    public func health() async -> LedgerHealth {
        isDown ? .unavailable("ledger unreachable (simulated outage)") : await wrapped.health()
    }

    public func receipt(for key: BatchKey) async throws -> LedgerReceipt? {
        if isDown { throw SimulatedOutage() }
        return try await wrapped.receipt(for: key)
    }

    struct SimulatedOutage: Error, CustomStringConvertible {
        var description: String { "ledger unreachable (simulated outage)" }
    }
}
