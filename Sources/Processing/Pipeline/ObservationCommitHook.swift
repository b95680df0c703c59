import Journal

/// What commits in the processor's transaction together with the Observations it journals: the
/// Merkle log appends the new signed ones as leaves, so an Observation and its leaf commit or
/// roll back together. The processor knows only this protocol, not the log.
public protocol ObservationCommitHook: Sendable {
    /// Called inside the commit with the Observations that were new (not redelivered duplicates)
    /// and the signed payload (JCS bytes) of each signed one, by Observation id. Returns how many
    /// it took (the metric `wardgate_observations_logged_total`).
    func committing(_ inserted: [ObservationEntry], canonicalObservations: [String: [UInt8]], in transaction: JournalTransaction) throws -> Int
}
