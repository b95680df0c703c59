import HexEncoding

/// A 32-byte SHA-256 value: a leaf hash, a node hash or a tree root.
///
/// Stored inline as four 64-bit words (no heap allocation), so large arrays
/// of hashes are one contiguous buffer of 32-byte values, in byte order.
public struct MerkleHash: Hashable, Sendable {
    // A homogeneous tuple is laid out contiguously like a C array, so
    // `withUnsafeBytes(of:)` sees exactly the 32 hash bytes in order.
    var words: (UInt64, UInt64, UInt64, UInt64)

    public static let byteCount = 32

    /// The all-zero value; used only as a placeholder, never a real hash.
    public static let zero = MerkleHash(words: (0, 0, 0, 0))

    init(words: (UInt64, UInt64, UInt64, UInt64)) {
        self.words = words
    }

    /// Creates a hash from exactly 32 bytes; returns nil for any other length.
    public init?(bytes: some Collection<UInt8>) {
        guard bytes.count == MerkleHash.byteCount else { return nil }
        var value = MerkleHash.zero
        Swift.withUnsafeMutableBytes(of: &value.words) { target in
            for (offset, byte) in bytes.enumerated() {
                target[offset] = byte
            }
        }
        self = value
    }

    /// Reads 32 bytes at `offset` of a raw buffer; the caller checks bounds.
    init(loadingFrom buffer: UnsafeRawBufferPointer, atByteOffset offset: Int) {
        words = (
            buffer.loadUnaligned(fromByteOffset: offset, as: UInt64.self),
            buffer.loadUnaligned(fromByteOffset: offset + 8, as: UInt64.self),
            buffer.loadUnaligned(fromByteOffset: offset + 16, as: UInt64.self),
            buffer.loadUnaligned(fromByteOffset: offset + 24, as: UInt64.self)
        )
    }

    /// The 32 bytes of the hash.
    public var bytes: [UInt8] {
        Swift.withUnsafeBytes(of: words) { Array($0) }
    }

    /// Calls `body` with the 32 bytes, without copying them to the heap.
    public func withUnsafeBytes<Result>(
        _ body: (UnsafeRawBufferPointer) throws -> Result
    ) rethrows -> Result {
        try Swift.withUnsafeBytes(of: words, body)
    }

    public static func == (lhs: MerkleHash, rhs: MerkleHash) -> Bool {
        lhs.words.0 == rhs.words.0 && lhs.words.1 == rhs.words.1
            && lhs.words.2 == rhs.words.2 && lhs.words.3 == rhs.words.3
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(words.0)
        hasher.combine(words.1)
        hasher.combine(words.2)
        hasher.combine(words.3)
    }
}

extension MerkleHash: CustomStringConvertible {
    /// Lowercase hex, as printed by the CLI.
    public var description: String { hex }
}

extension MerkleHash {
    /// Lowercase hexadecimal form (64 characters).
    public var hex: String { Hex.encode(bytes) }

    /// Parses exactly 64 hexadecimal characters (either case).
    public init(hex: String) throws(HexDecodingError) {
        let decoded = try Hex.decode(hex)
        guard let hash = MerkleHash(bytes: decoded) else {
            throw HexDecodingError.wrongLength(expectedBytes: MerkleHash.byteCount, actualBytes: decoded.count)
        }
        self = hash
    }

    /// Standard padded base64 (RFC 4648 §4), as used in checkpoints.
    public var base64: String { Base64.encode(bytes) }
}

/// Packs and unpacks arrays of hashes as one blob of 32-byte values.
enum HashBlob {
    static func encode(_ hashes: some Collection<MerkleHash>) -> [UInt8] {
        var blob = [UInt8]()
        blob.reserveCapacity(hashes.count * MerkleHash.byteCount)
        for hash in hashes {
            hash.withUnsafeBytes { blob.append(contentsOf: $0) }
        }
        return blob
    }

    /// Returns nil unless the blob length is a multiple of 32.
    static func decode(_ blob: UnsafeRawBufferPointer) -> [MerkleHash]? {
        guard blob.count % MerkleHash.byteCount == 0 else { return nil }
        let count = blob.count / MerkleHash.byteCount
        return (0..<count).map { MerkleHash(loadingFrom: blob, atByteOffset: $0 * MerkleHash.byteCount) }
    }
}
