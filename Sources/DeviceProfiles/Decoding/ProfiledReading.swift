import Observations

/// A reading with what its profile says about it, ready for normalization.
public struct ProfiledReading: Sendable, Hashable {
    public let reading: Reading
    public let plausibleRange: PlausibleRange?
    public let profileId: String
}
