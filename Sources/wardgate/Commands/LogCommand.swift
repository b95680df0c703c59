import ArgumentParser
import Foundation
import TransparencyLog

/// `wardgate log …`: compute and check RFC 9162 roots and proofs from the shell.
public struct LogCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "log",
        abstract: "Compute and verify RFC 9162 Merkle tree roots, inclusion proofs and consistency proofs.",
        discussion: """
            A LEAVES FILE holds one leaf per line, hex-encoded. Each line is the leaf DATA, \
            which is hashed as SHA-256(0x00 || data) to make the leaf hash. An empty line is an \
            empty leaf; the file's final newline adds no leaf. Hashes and proofs are printed and \
            read as lowercase or uppercase hex (64 digits per hash).

            Exit status: 0 on success (or a valid proof), 1 on bad input or an invalid proof, \
            64 on a usage error.
            """,
        subcommands: [Root.self, Inclusion.self, Consistency.self, VerifyInclusion.self, VerifyConsistency.self]
    )

    public init() {}

    struct Root: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the hex root hash of the first N leaves of a leaves file.",
            discussion: "Example: wardgate log root --leaves leaves.txt --size 7")

        @OptionGroup var leavesFile: LeavesFileOption

        @Option(help: "Tree size (default: every leaf in the file).")
        var size: UInt64?

        func run() throws {
            try LogCommand.perform { try LogTool.root(leaves: LogCommand.readLeaves(leavesFile.leaves), size: size) }
        }
    }

    struct Inclusion: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the inclusion proof of one leaf as JSON.",
            discussion: """
                Output: {"leafIndex":I,"treeSize":N,"proof":["hex",...]}
                Example: wardgate log inclusion --leaves leaves.txt --index 3 --size 7
                """)

        @OptionGroup var leavesFile: LeavesFileOption

        @Option(help: "Zero-based index of the leaf to prove.")
        var index: UInt64

        @Option(help: "Tree size (default: every leaf in the file).")
        var size: UInt64?

        func run() throws {
            try LogCommand.perform { try LogTool.inclusion(leaves: LogCommand.readLeaves(leavesFile.leaves), index: index, size: size) }
        }
    }

    struct Consistency: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the consistency proof between two tree sizes as JSON.",
            discussion: """
                Output: {"proof":["hex",...]}
                Example: wardgate log consistency --leaves leaves.txt --from 3 --to 7
                """)

        @OptionGroup var leavesFile: LeavesFileOption

        @Option(help: "The older (smaller) tree size.")
        var from: UInt64

        @Option(help: "The newer tree size (at most the number of leaves in the file).")
        var to: UInt64

        func run() throws {
            try LogCommand.perform { try LogTool.consistency(leaves: LogCommand.readLeaves(leavesFile.leaves), from: from, to: to) }
        }
    }

    struct VerifyInclusion: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "verify-inclusion",
            abstract: "Check an inclusion proof (RFC 9162 §2.1.3.2). Exits 0 if valid, 1 if not.",
            discussion: """
                Example: wardgate log verify-inclusion --index 0 --size 1 --leaf-hash HEX --root HEX --proof ""
                """)

        @Option(help: "Zero-based leaf index.")
        var index: UInt64

        @Option(help: "Tree size.")
        var size: UInt64

        @Option(help: "The leaf HASH (SHA-256(0x00 || data)), 64 hex digits.")
        var leafHash: String

        @Option(help: "The tree's root hash, 64 hex digits.")
        var root: String

        @Option(help: "Comma-separated proof hashes, leaf level first; \"\" for an empty proof.")
        var proof: String

        func run() throws {
            try LogCommand.report(
                LogTool.verifyInclusion(index: index, size: size, leafHash: leafHash, root: root, proof: proof))
        }
    }

    struct VerifyConsistency: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "verify-consistency",
            abstract: "Check a consistency proof (RFC 9162 §2.1.4.2). Exits 0 if valid, 1 if not.",
            discussion: """
                Example: wardgate log verify-consistency --from 3 --to 7 --root1 HEX --root2 HEX --proof HEX,HEX,HEX
                """)

        @Option(help: "The older tree size.")
        var from: UInt64

        @Option(help: "The newer tree size.")
        var to: UInt64

        @Option(help: "Root hash of the older tree, 64 hex digits.")
        var root1: String

        @Option(help: "Root hash of the newer tree, 64 hex digits.")
        var root2: String

        @Option(help: "Comma-separated proof hashes; \"\" for an empty proof.")
        var proof: String

        func run() throws {
            try LogCommand.report(
                LogTool.verifyConsistency(from: from, to: to, root1: root1, root2: root2, proof: proof))
        }
    }

    // MARK: - Shared

    static func readLeaves(_ path: String) throws(LogToolError) -> [[UInt8]] {
        let contents: String
        do {
            contents = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw LogToolError("cannot read leaves file \(path): \(error.localizedDescription)")
        }
        return try LogTool.parseLeaves(contents)
    }

    /// Prints the result, or the input error on stderr with exit status 1.
    static func perform(_ body: () throws -> String) throws {
        do {
            print(try body())
        } catch {
            printError(String(describing: error))
            throw ExitCode.failure
        }
    }

    static func report(_ verdict: @autoclosure () throws(LogToolError) -> LogToolVerdict) throws {
        let result: LogToolVerdict
        do {
            result = try verdict()
        } catch {
            printError(error.message)
            throw ExitCode.failure
        }
        switch result {
        case .valid:
            print("valid")
        case .invalid(let reason):
            writeStandardError("invalid: \(reason)")
            throw ExitCode.failure
        }
    }

    static func printError(_ message: String) {
        writeStandardError("error: \(message)")
    }

    static func writeStandardError(_ line: String) {
        FileHandle.standardError.write(Data("\(line)\n".utf8))
    }
}
