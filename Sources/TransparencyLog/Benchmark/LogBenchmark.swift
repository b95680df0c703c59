import Foundation
import GRDB

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Measures the SQLite-backed tree the way the gateway uses it.
///
/// (a) Append throughput: leaf data is hashed and appended in batches, one
///     transaction per batch, to a fresh database in a temp directory.
/// (b) Proof latency: a tree of `proofTreeSize` leaves is built once in a
///     temp database, re-opened (as after a restart), and random inclusion
///     and consistency proofs are generated (and verified, untimed).
public enum LogBenchmark {
    public enum Synchronous: String, Sendable, CaseIterable {
        /// WAL + synchronous=NORMAL: survives a crash; may lose the last commits on power loss.
        case normal
        /// WAL + synchronous=FULL: one fsync per commit; survives power loss.
        case full
    }

    public struct Configuration: Sendable {
        public var appendLeafCount = 1_000_000
        public var batchSize = 1_000
        public var leafByteCount = 256
        public var proofTreeSize: UInt64 = 10_000_000
        public var proofCount = 1_000
        public var synchronous = Synchronous.normal
        /// Where the temp databases go (default: the system temp directory). Removed afterwards.
        public var directory: URL?
        public var seed: UInt64 = 0x7761_7264_6761_7465

        public init() {}
    }

    /// Latency figures in microseconds.
    public struct Latency: Sendable, CustomStringConvertible {
        public let count: Int
        public let medianMicroseconds: Double
        public let p99Microseconds: Double
        public let maxMicroseconds: Double

        init(_ samples: [Duration]) {
            let sorted = samples.map { Double($0.components.attoseconds) / 1e12 + Double($0.components.seconds) * 1e6 }.sorted()
            count = sorted.count
            func percentile(_ fraction: Double) -> Double {
                guard !sorted.isEmpty else { return 0 }
                return sorted[min(sorted.count - 1, Int((Double(sorted.count) * fraction).rounded(.up)) - 1)]
            }
            medianMicroseconds = percentile(0.5)
            p99Microseconds = percentile(0.99)
            maxMicroseconds = sorted.last ?? 0
        }

        public var description: String {
            String(format: "median %.1f µs, p99 %.1f µs, max %.1f µs (n=%d)", medianMicroseconds, p99Microseconds, maxMicroseconds, count)
        }
    }

    public struct Report: Sendable, CustomStringConvertible {
        public let configuration: Configuration
        public let appendSeconds: Double
        public let appendsPerSecond: Double
        /// CPU time of the whole process (all threads) during the append run.
        public let appendCPUSeconds: Double
        public let buildSeconds: Double
        public let proofDatabaseBytes: Int64
        public let rootAtSize: Latency
        public let inclusionProof: Latency
        public let consistencyProof: Latency
        /// CPU time of the measuring thread per proof: unaffected by other
        /// processes competing for the cores (wall-clock figures above are).
        public let inclusionProofCPU: Latency
        public let consistencyProofCPU: Latency
        /// /proc/loadavg before and after the run, where available.
        public let loadBefore: String?
        public let loadAfter: String?

        public var description: String {
            let config = configuration
            return """
                appends: \(config.appendLeafCount) leaves of \(config.leafByteCount) B, \(config.batchSize) per transaction, \
                WAL synchronous=\(config.synchronous.rawValue)
                  \(String(format: "%.2f s → %.0f appends/s (leaf hashing + tree + SQLite); %.2f CPU-s", appendSeconds, appendsPerSecond, appendCPUSeconds))
                proof tree: \(config.proofTreeSize) leaves built in \(String(format: "%.1f s", buildSeconds)), \
                database \(String(format: "%.0f MB", Double(proofDatabaseBytes) / 1e6)), re-opened before measuring
                  root at a random size:  \(rootAtSize)
                  inclusion proof:        \(inclusionProof)
                  consistency proof:      \(consistencyProof)
                  inclusion, thread CPU:  \(inclusionProofCPU)
                  consistency, thread CPU: \(consistencyProofCPU)
                load average before: \(loadBefore ?? "n/a"), after: \(loadAfter ?? "n/a")
                """
        }
    }

    public static func run(
        _ configuration: Configuration = Configuration(),
        progress: (String) -> Void = { _ in }
    ) throws -> Report {
        guard configuration.proofTreeSize >= 2, configuration.batchSize >= 1 else {
            throw LogToolError("the proof tree needs at least 2 leaves and batches at least 1")
        }
        let base = configuration.directory ?? FileManager.default.temporaryDirectory
        let directory = base.appendingPathComponent("tlog-bench-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        var random = SplitMix64(seed: configuration.seed)
        let clock = ContinuousClock()
        let loadBefore = loadAverage()

        // (a) Append throughput.
        progress("appending \(configuration.appendLeafCount) leaves…")
        let appendPath = directory.appendingPathComponent("append.sqlite").path
        var appendTime = Duration.zero
        var appendCPU = Duration.zero
        try withTree(path: appendPath, synchronous: configuration.synchronous) { tree in
            var appended = 0
            while appended < configuration.appendLeafCount {
                let count = min(configuration.batchSize, configuration.appendLeafCount - appended)
                let batch = (0..<count).map { payload(index: UInt64(appended + $0), byteCount: configuration.leafByteCount) }
                let cpuStart = cpuTime(CLOCK_PROCESS_CPUTIME_ID)
                appendTime += try clock.measure { try tree.append(leafData: batch) }
                appendCPU += cpuTime(CLOCK_PROCESS_CPUTIME_ID) - cpuStart
                appended += count
            }
        }
        let appendSeconds = appendTime.seconds

        // (b) Proofs at a large size.
        let size = configuration.proofTreeSize
        progress("building a tree of \(size) leaves…")
        let proofPath = directory.appendingPathComponent("proofs.sqlite").path
        let buildStart = clock.now
        try withTree(path: proofPath, synchronous: .normal) { tree in
            var appended: UInt64 = 0
            while appended < size {
                let count = min(UInt64(10_000), size - appended)
                let hashes = (appended..<(appended + count)).map { RFC9162.leafHash(payload(index: $0, byteCount: 16)) }
                try tree.append(contentsOf: hashes)
                appended += count
            }
        }
        let buildSeconds = (clock.now - buildStart).seconds
        let databaseBytes = [proofPath, proofPath + "-wal"].reduce(Int64(0)) { total, path in
            let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size]) as? NSNumber
            return total + (size?.int64Value ?? 0)
        }

        progress("measuring \(configuration.proofCount) proofs of each kind…")
        var rootTimes: [Duration] = []
        var inclusionTimes: [Duration] = []
        var consistencyTimes: [Duration] = []
        var inclusionCPU: [Duration] = []
        var consistencyCPU: [Duration] = []
        try withTree(path: proofPath, synchronous: .normal) { tree in
            let root = try tree.rootHash(atSize: size)
            for _ in 0..<configuration.proofCount {
                let oldSize = random.next(below: size - 1) + 1
                var oldRoot = MerkleHash.zero
                rootTimes.append(try clock.measure { oldRoot = try tree.rootHash(atSize: oldSize) })

                let index = random.next(below: size)
                var inclusion = InclusionProof(leafIndex: 0, treeSize: 0, hashes: [])
                var cpuStart = cpuTime(CLOCK_THREAD_CPUTIME_ID)
                inclusionTimes.append(try clock.measure { inclusion = try tree.inclusionProof(leafIndex: index, treeSize: size) })
                inclusionCPU.append(cpuTime(CLOCK_THREAD_CPUTIME_ID) - cpuStart)
                try inclusion.verify(leafHash: RFC9162.leafHash(payload(index: index, byteCount: 16)), rootHash: root)

                var consistency = ConsistencyProof(fromSize: 0, toSize: 0, hashes: [])
                cpuStart = cpuTime(CLOCK_THREAD_CPUTIME_ID)
                consistencyTimes.append(try clock.measure { consistency = try tree.consistencyProof(fromSize: oldSize, toSize: size) })
                consistencyCPU.append(cpuTime(CLOCK_THREAD_CPUTIME_ID) - cpuStart)
                try consistency.verify(fromRoot: oldRoot, toRoot: root)
            }
        }

        return Report(
            configuration: configuration,
            appendSeconds: appendSeconds,
            appendsPerSecond: Double(configuration.appendLeafCount) / max(appendSeconds, 1e-9),
            appendCPUSeconds: appendCPU.seconds,
            buildSeconds: buildSeconds,
            proofDatabaseBytes: databaseBytes,
            rootAtSize: Latency(rootTimes),
            inclusionProof: Latency(inclusionTimes),
            consistencyProof: Latency(consistencyTimes),
            inclusionProofCPU: Latency(inclusionCPU),
            consistencyProofCPU: Latency(consistencyCPU),
            loadBefore: loadBefore,
            loadAfter: loadAverage()
        )
    }

    /// Opens (creating if needed) a migrated database with its own pool, runs
    /// `body`, and closes the pool, so the next open starts cold.
    private static func withTree(
        path: String,
        synchronous: Synchronous,
        _ body: (LogTree<SQLiteSubtreeHashStore>) throws -> Void
    ) throws {
        var configuration = GRDB.Configuration()
        let pragma = "PRAGMA synchronous = \(synchronous == .full ? "FULL" : "NORMAL")"
        configuration.prepareDatabase { db in try db.execute(sql: pragma) }
        let pool = try DatabasePool(path: path, configuration: configuration)
        var migrator = DatabaseMigrator()
        SQLiteSubtreeHashStore.registerMigrations(&migrator)
        try migrator.migrate(pool)
        try body(try LogTree(writer: pool))
        try pool.close()
    }

    /// CPU time consumed so far by the process or the calling thread.
    private static func cpuTime(_ clockID: clockid_t) -> Duration {
        var time = timespec()
        guard clock_gettime(clockID, &time) == 0 else { return .zero }
        return .seconds(Int64(time.tv_sec)) + .nanoseconds(Int64(time.tv_nsec))
    }

    /// The first three fields of /proc/loadavg (Linux), else nil.
    private static func loadAverage() -> String? {
        guard let text = try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8) else { return nil }
        return text.split(separator: " ").prefix(3).joined(separator: " ")
    }

    /// Deterministic leaf data: the index followed by filler bytes.
    private static func payload(index: UInt64, byteCount: Int) -> [UInt8] {
        var bytes = [UInt8](repeating: 0x5A, count: max(byteCount, 8))
        for shift in 0..<8 {
            bytes[shift] = UInt8(truncatingIfNeeded: index >> (8 * UInt64(shift)))
        }
        return bytes
    }
}

/// A small seeded generator so benchmark runs pick the same proofs.
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) {
        state = seed
    }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var value = state
        value = (value ^ (value >> 30)) &* 0xBF58_476D_1CE4_E5B9
        value = (value ^ (value >> 27)) &* 0x94D0_49BB_1331_11EB
        return value ^ (value >> 31)
    }

    /// Uniform in 0..<bound (bound > 0).
    mutating func next(below bound: UInt64) -> UInt64 {
        UInt64.random(in: 0..<bound, using: &self)
    }
}

extension Duration {
    var seconds: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}
