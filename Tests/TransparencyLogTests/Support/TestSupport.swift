import Foundation
import GRDB
import Simulation
import Testing
@testable import TransparencyLog

/// Locates `shared/testdata` by walking up from this file.
enum TestData {
    static func directory(filePath: String = #filePath) throws -> URL {
        var directory = URL(fileURLWithPath: filePath).deletingLastPathComponent()
        while directory.path != "/" {
            let candidate = directory.appendingPathComponent("shared/testdata")
            if FileManager.default.fileExists(atPath: candidate.path) {
                return candidate
            }
            directory = directory.deletingLastPathComponent()
        }
        throw TestFailure("no shared/testdata above \(filePath)")
    }

    static func json(_ name: String) throws -> [String: Any] {
        let data = try Data(contentsOf: directory().appendingPathComponent(name))
        guard let object = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw TestFailure("\(name) is not a JSON object")
        }
        return object
    }

    /// The folder of test resources (the Python checker).
    static func resource(_ name: String) -> URL {
        URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent()  // Support
            .deletingLastPathComponent()  // TransparencyLogTests
            .appendingPathComponent("Resources/\(name)")
    }
}

struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Random hashes from the one seeded generator, so every property test reproduces.
extension SeededGenerator {
    mutating func hash() -> MerkleHash {
        var bytes = [UInt8]()
        for _ in 0..<4 {
            let word = next()
            for shift in 0..<8 { bytes.append(UInt8(truncatingIfNeeded: word >> (8 * UInt64(shift)))) }
        }
        return MerkleHash(bytes: bytes) ?? .zero
    }

    mutating func leafHashes(_ count: Int) -> [MerkleHash] {
        (0..<count).map { _ in hash() }
    }

    static func leafHashes(seed: UInt64, count: Int) -> [MerkleHash] {
        var random = SeededGenerator(seed: seed)
        return random.leafHashes(count)
    }
}

extension MerkleHash {
    /// The same hash with one bit flipped.
    func flippingBit(_ bit: Int) -> MerkleHash {
        var bytes = self.bytes
        bytes[(bit / 8) % 32] ^= UInt8(1 << (bit % 8))
        return MerkleHash(bytes: bytes) ?? .zero
    }
}

/// Opens a migrated database as the gateway would: the journal's own table and the log tables.
func openJournal(at path: String) throws -> DatabasePool {
    let pool = try DatabasePool(path: path)
    var migrator = DatabaseMigrator()
    migrator.registerMigration("journal.v1") { db in
        try db.execute(sql: "CREATE TABLE journal_entries (id INTEGER PRIMARY KEY, payload BLOB NOT NULL)")
    }
    SQLiteSubtreeHashStore.registerMigrations(&migrator)
    try migrator.migrate(pool)
    return pool
}

/// Roots of every requested prefix size, by an independent incremental
/// construction (a stack of perfect subtrees) rather than the recursive MTH.
func prefixRoots(of leafHashes: [MerkleHash], sizes: Set<Int>) -> [Int: MerkleHash] {
    var roots: [Int: MerkleHash] = [:]
    if sizes.contains(0) { roots[0] = RFC9162.emptyTreeRoot }
    var stack: [(height: Int, hash: MerkleHash)] = []
    for (offset, leaf) in leafHashes.enumerated() {
        stack.append((0, leaf))
        while stack.count >= 2, stack[stack.count - 1].height == stack[stack.count - 2].height {
            let right = stack.removeLast()
            let left = stack.removeLast()
            stack.append((left.height + 1, RFC9162.nodeHash(left.hash, right.hash)))
        }
        if sizes.contains(offset + 1) {
            var root = stack[stack.count - 1].hash
            for entry in stack.dropLast().reversed() {
                root = RFC9162.nodeHash(entry.hash, root)
            }
            roots[offset + 1] = root
        }
    }
    return roots
}
