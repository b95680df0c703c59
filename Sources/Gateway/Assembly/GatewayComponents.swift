import Ledger

/// Parts a caller supplies in place of the configured ones (`Gateway.init(config:logger:components:)`).
/// The daemon supplies none; the bench and the demo pass a ledger they can take down for a
/// while, tests one that fails on cue. Whatever is supplied is checked at start like the
/// configured part (the journal's anchors against the ledger).
public struct GatewayComponents: Sendable {
    /// Anchors the batches instead of the `ledger` section's ledger.
    public var ledger: (any LedgerClient)?

    public init(ledger: (any LedgerClient)? = nil) {
        self.ledger = ledger
    }
}
