/// Why a checkpoint body was rejected.
public enum CheckpointError: Error, Equatable, Sendable, CustomStringConvertible {
    case invalidOrigin(String)
    case notEnoughLines
    case missingFinalNewline
    case invalidTreeSize(String)
    case invalidRootHash(String)
    case emptyExtensionLine
    case controlCharacter

    public var description: String {
        switch self {
        case .invalidOrigin(let reason): "invalid checkpoint origin: \(reason)"
        case .notEnoughLines: "a checkpoint needs three lines: origin, tree size, root hash"
        case .missingFinalNewline: "the checkpoint text must end with a newline"
        case .invalidTreeSize(let text): "invalid tree size line \"\(text)\": need decimal digits without leading zeros"
        case .invalidRootHash(let text): "invalid root hash line \"\(text)\": need the base64 of 32 bytes"
        case .emptyExtensionLine: "checkpoint extension lines must not be empty"
        case .controlCharacter: "the checkpoint text contains a control character other than newline"
        }
    }
}

/// A C2SP tlog-checkpoint: the note text committing to a tree head.
///
///     <origin>\n
///     <tree size in decimal>\n
///     <base64 root hash>\n
///
/// (optionally followed by non-empty extension lines, which this log never writes).
public struct Checkpoint: Hashable, Sendable {
    public let origin: String
    public let size: UInt64
    public let rootHash: MerkleHash
    public let extensionLines: [String]

    /// The origin must be non-empty and contain no control characters (it is
    /// one line of the note). Use a schema-less URL, e.g. `ward7.example.org/log`.
    public init(origin: String, size: UInt64, rootHash: MerkleHash) throws(CheckpointError) {
        try Checkpoint.validateOrigin(origin)
        self.origin = origin
        self.size = size
        self.rootHash = rootHash
        extensionLines = []
    }

    public init(origin: String, treeHead: TreeHead) throws(CheckpointError) {
        try self.init(origin: origin, size: treeHead.size, rootHash: treeHead.rootHash)
    }

    public var treeHead: TreeHead { TreeHead(size: size, rootHash: rootHash) }

    /// The note text that gets signed.
    public var body: String {
        var text = "\(origin)\n\(size)\n\(rootHash.base64)\n"
        for line in extensionLines {
            text += line + "\n"
        }
        return text
    }

    /// Parses a checkpoint note text (strict: canonical size and base64).
    public init(parsing text: String) throws(CheckpointError) {
        // Split bytes, not Characters ("\r\n" is one Character).
        let utf8 = Array(text.utf8)
        guard utf8.last == 0x0A else { throw .missingFinalNewline }
        guard !utf8.contains(where: { ($0 < 0x20 && $0 != 0x0A) || $0 == 0x7F }) else { throw .controlCharacter }
        let lines = utf8.dropLast().split(separator: 0x0A, omittingEmptySubsequences: false)
            .map { String(decoding: $0, as: UTF8.self) }
        guard lines.count >= 3 else { throw .notEnoughLines }
        let origin = lines[0]
        try Checkpoint.validateOrigin(origin)

        let sizeText = lines[1]
        let isCanonicalDecimal = !sizeText.isEmpty
            && sizeText.utf8.allSatisfy { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }
            && (sizeText == "0" || !sizeText.hasPrefix("0"))
        guard isCanonicalDecimal, let size = UInt64(sizeText) else { throw .invalidTreeSize(String(sizeText.prefix(40))) }


        guard let rootBytes = Base64.decode(lines[2]), let rootHash = MerkleHash(bytes: rootBytes) else {
            throw .invalidRootHash(String(lines[2].prefix(60)))
        }
        let extensionLines = Array(lines.dropFirst(3))
        guard extensionLines.allSatisfy({ !$0.isEmpty }) else { throw .emptyExtensionLine }

        self.origin = origin
        self.size = size
        self.rootHash = rootHash
        self.extensionLines = extensionLines
    }

    private static func validateOrigin(_ origin: String) throws(CheckpointError) {
        guard !origin.isEmpty else { throw .invalidOrigin("empty") }
        guard !origin.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) else {
            throw .invalidOrigin("contains a newline or control character")
        }
    }
}
