import HexEncoding

/// Bad input to a `wardgate log` command.
public struct LogToolError: Error, Equatable, Sendable, CustomStringConvertible {
    public let message: String

    public init(_ message: String) {
        self.message = message
    }

    public var description: String { message }
}

/// The outcome of a proof check by the CLI.
public enum LogToolVerdict: Equatable, Sendable {
    case valid
    case invalid(reason: String)
}

/// The logic behind `wardgate log …`, separate from argument parsing so it can
/// be tested directly. Input errors throw `LogToolError` with a message fit
/// for stderr.
public enum LogTool {
    /// Parses a leaves file: one hex-encoded leaf (the leaf *data*) per line.
    /// A final newline ends the last line and adds no leaf; an empty line is
    /// an empty leaf; a trailing CR (Windows line end) is ignored.
    public static func parseLeaves(_ contents: String) throws(LogToolError) -> [[UInt8]] {
        // Split bytes, not Characters: "\r\n" is a single Character.
        var lines = contents.utf8.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
        if lines.last?.isEmpty == true {
            lines.removeLast()
        }
        var leaves: [[UInt8]] = []
        leaves.reserveCapacity(lines.count)
        for (offset, rawLine) in lines.enumerated() {
            let line = rawLine.last == UInt8(ascii: "\r") ? rawLine.dropLast() : rawLine
            do {
                leaves.append(try Hex.decode(utf8: line))
            } catch {
                throw LogToolError("leaves file line \(offset + 1): \(error)")
            }
        }
        return leaves
    }

    /// Parses one 32-byte hash given as 64 hex digits.
    public static func parseHash(_ text: String, argument: String) throws(LogToolError) -> MerkleHash {
        do {
            return try MerkleHash(hex: text)
        } catch {
            throw LogToolError("\(argument): \(error)")
        }
    }

    /// Parses a comma-separated list of hashes; the empty string is the empty list.
    public static func parseHashList(_ text: String, argument: String) throws(LogToolError) -> [MerkleHash] {
        guard !text.isEmpty else { return [] }
        var hashes: [MerkleHash] = []
        for (offset, item) in text.split(separator: ",", omittingEmptySubsequences: false).enumerated() {
            do {
                hashes.append(try MerkleHash(hex: String(item)))
            } catch {
                throw LogToolError("\(argument) item \(offset + 1): \(error)")
            }
        }
        return hashes
    }

    /// `log root`: hex root of the first `size` leaves (default: all).
    public static func root(leaves: [[UInt8]], size: UInt64?) throws(LogToolError) -> String {
        let size = try checkedSize(size, leafCount: leaves.count)
        return try run { try tree(of: leaves).rootHash(atSize: size).hex }
    }

    /// `log inclusion`: `{"leafIndex":I,"treeSize":N,"proof":[…]}`.
    public static func inclusion(leaves: [[UInt8]], index: UInt64, size: UInt64?) throws(LogToolError) -> String {
        let size = try checkedSize(size, leafCount: leaves.count)
        guard index < size else { throw LogToolError("--index \(index) must be smaller than the tree size \(size)") }
        let proof = try run { try tree(of: leaves).inclusionProof(leafIndex: index, treeSize: size) }
        return "{\"leafIndex\":\(proof.leafIndex),\"treeSize\":\(proof.treeSize),\"proof\":\(jsonArray(proof.hashes))}"
    }

    /// `log consistency`: `{"proof":[…]}` from size `from` to size `to`.
    public static func consistency(leaves: [[UInt8]], from: UInt64, to: UInt64) throws(LogToolError) -> String {
        let to = try checkedSize(to, leafCount: leaves.count)
        guard from <= to else { throw LogToolError("--from \(from) must not be larger than --to \(to)") }
        let proof = try run { try tree(of: leaves).consistencyProof(fromSize: from, toSize: to) }
        return "{\"proof\":\(jsonArray(proof.hashes))}"
    }

    /// `log verify-inclusion`.
    public static func verifyInclusion(
        index: UInt64, size: UInt64, leafHash: String, root: String, proof: String
    ) throws(LogToolError) -> LogToolVerdict {
        let leafHash = try parseHash(leafHash, argument: "--leaf-hash")
        let root = try parseHash(root, argument: "--root")
        let hashes = try parseHashList(proof, argument: "--proof")
        guard index < size else { throw LogToolError("--index \(index) must be smaller than --size \(size)") }
        do {
            try InclusionProof(leafIndex: index, treeSize: size, hashes: hashes).verify(leafHash: leafHash, rootHash: root)
            return .valid
        } catch {
            return .invalid(reason: error.description)
        }
    }

    /// `log verify-consistency`.
    public static func verifyConsistency(
        from: UInt64, to: UInt64, root1: String, root2: String, proof: String
    ) throws(LogToolError) -> LogToolVerdict {
        let root1 = try parseHash(root1, argument: "--root1")
        let root2 = try parseHash(root2, argument: "--root2")
        let hashes = try parseHashList(proof, argument: "--proof")
        guard from <= to else { throw LogToolError("--from \(from) must not be larger than --to \(to)") }
        do {
            try ConsistencyProof(fromSize: from, toSize: to, hashes: hashes).verify(fromRoot: root1, toRoot: root2)
            return .valid
        } catch {
            return .invalid(reason: error.description)
        }
    }

    // MARK: - Helpers

    private static func checkedSize(_ size: UInt64?, leafCount: Int) throws(LogToolError) -> UInt64 {
        let available = UInt64(leafCount)
        guard let size else { return available }
        guard size <= available else {
            throw LogToolError("tree size \(size) is larger than the \(available) leaves in the file")
        }
        return size
    }

    private static func tree(of leaves: [[UInt8]]) throws -> LogTree<InMemorySubtreeHashStore> {
        let tree = try LogTree(store: InMemorySubtreeHashStore())
        try tree.append(leafData: leaves)
        return tree
    }

    private static func run<Result>(_ body: () throws -> Result) throws(LogToolError) -> Result {
        do {
            return try body()
        } catch {
            throw LogToolError(String(describing: error))
        }
    }

    private static func jsonArray(_ hashes: [MerkleHash]) -> String {
        "[" + hashes.map { "\"\($0.hex)\"" }.joined(separator: ",") + "]"
    }
}
