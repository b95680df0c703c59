/// How node hashes are grouped into stored tiles.
///
/// Level L holds the hashes of the perfect subtrees of 2^L leaves (level 0 =
/// leaf hashes). Only every fourth level (0, 4, 8, …) is stored; a node on a
/// level in between is recomputed from at most 8 stored hashes just below it
/// (at most 7 SHA-256 calls). Each tile holds 256 consecutive hashes of one
/// stored level, so 10 M leaves need about 10.7 M stored hashes (≈ 341 MB)
/// in about 41,700 rows, instead of 20 M rows of one node each.
public enum TileLayout {
    /// Distance between stored levels.
    public static let levelStride = 4
    /// Hashes per tile.
    public static let tileWidth: UInt64 = 256
    /// Enough stored levels for 2^64 leaves.
    static let storedLevelCount = 64 / levelStride

    static func isStored(level: Int) -> Bool { level % levelStride == 0 }

    /// The tile holding node `index` of stored level `level`, and its position there.
    static func location(level: Int, index: UInt64) -> (tile: TileID, offset: Int) {
        (TileID(level: level, index: index / tileWidth), Int(index % tileWidth))
    }
}
