/// A `LedgerClient` that reports how long each `submit` took and how it ended (for the ledger
/// submit histogram), and otherwise passes everything through to the client it wraps.
public struct TimedLedgerClient: LedgerClient {
    public let client: any LedgerClient
    private let onSubmit: @Sendable (Duration, SubmitOutcome) -> Void

    public init(_ client: any LedgerClient, onSubmit: @escaping @Sendable (Duration, SubmitOutcome) -> Void) {
        self.client = client
        self.onSubmit = onSubmit
    }

    public var kind: String { client.kind }

    public func submit(_ batch: LedgerBatch) async -> SubmitOutcome {
        let clock = ContinuousClock()
        let started = clock.now
        let outcome = await client.submit(batch)
        onSubmit(clock.now - started, outcome)
        return outcome
    }

    public func health() async -> LedgerHealth { await client.health() }

    public func receipt(for key: BatchKey) async throws -> LedgerReceipt? { try await client.receipt(for: key) }
}
