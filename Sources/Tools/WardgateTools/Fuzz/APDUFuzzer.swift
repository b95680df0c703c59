import IEEE11073
import Simulation

/// Mutation fuzzing of the decoder and the manager over a seed corpus of valid APDUs.
///
/// Each mutated input goes through the raw decoder (with its work counter) and through three
/// fresh sessions (unassociated, waiting for a configuration, operating with the seed's
/// configuration). Invariants checked on every input: the decoder's work stays within its
/// input-size bound (no hang, counted in steps, not time); a refused input has a reason and no
/// Readings; every APDU the manager sends decodes again. A crash ends the process, so a run that
/// completes is the evidence of zero crashes.
public struct APDUFuzzer {
    public struct Seed: Sendable {
        public let name: String
        public let bytes: [UInt8]
        /// The configuration an operating session uses for this seed.
        public let configuration: Configuration

        public init(name: String, bytes: [UInt8], configuration: Configuration) {
            self.name = name
            self.bytes = bytes
            self.configuration = configuration
        }
    }

    public struct Statistics: Sendable, CustomStringConvertible {
        public var inputs = 0
        /// Inputs the operating session accepted (no rejection).
        public var accepted = 0
        /// Inputs the operating session refused, each with a reason.
        public var rejected = 0
        /// Inputs that are not valid MDER at all.
        public var undecodable = 0
        public var readings = 0
        public var crashes = 0
        public var violations: [String] = []
        /// Highest decoder work steps per input byte seen.
        public var maxStepsPerByte = 0.0

        public init() {}

        /// Adds another run's counts to these.
        public mutating func add(_ other: Statistics) {
            inputs += other.inputs
            accepted += other.accepted
            rejected += other.rejected
            undecodable += other.undecodable
            readings += other.readings
            crashes += other.crashes
            violations += other.violations
            maxStepsPerByte = max(maxStepsPerByte, other.maxStepsPerByte)
        }

        public var description: String {
            """
            inputs: \(inputs)
            accepted: \(accepted)
            rejected: \(rejected)
            undecodable: \(undecodable)
            readings: \(readings)
            crashes: \(crashes)
            invariant violations: \(violations.count)
            max decoder steps per byte: \((maxStepsPerByte * 100).rounded() / 100)
            """
        }
    }

    let seeds: [Seed]
    var random: SeededGenerator
    let settings = ManagerSettings(managerSystemId: SystemId(0x0102_0304_0506_0708), offsetRule: .utc)

    public init(seeds: [Seed], seed: UInt64) {
        self.seeds = seeds
        self.random = SeededGenerator(seed: seed)
    }

    /// Runs `count` mutated inputs. Stops recording violations after 50 (the count keeps going).
    public mutating func run(count: Int) -> Statistics {
        var stats = Statistics()
        guard !seeds.isEmpty else { return stats }
        for _ in 0..<count {
            let base = seeds[Int.random(in: 0..<seeds.count, using: &random)]
            let input = mutate(base.bytes)
            check(input, base: base, &stats)
        }
        return stats
    }

    /// Checks one input (exposed for targeted tests).
    public func check(_ input: [UInt8], base: Seed, _ stats: inout Statistics) {
        stats.inputs += 1
        let (decoded, steps) = APDU.decodeCountingWork(input)
        let bound = input.count * MDERReader.stepsPerByte + MDERReader.baseSteps
        if steps > bound { record("decoder used \(steps) steps for \(input.count) bytes (bound \(bound))", input, &stats) }
        if !input.isEmpty { stats.maxStepsPerByte = max(stats.maxStepsPerByte, Double(steps) / Double(input.count)) }
        if case .failure(let error) = decoded {
            stats.undecodable += 1
            if error.kind == .workBudgetExceeded { record("work budget exceeded: \(error)", input, &stats) }
        }

        var sessions = [
            ManagerSession(settings: settings, store: InMemoryConfigurationStore()),
            ManagerSession.preset(awaitingConfigurationFrom: SystemId(0x1122_3344_5566_7788), settings: settings),
            ManagerSession.preset(operatingWith: base.configuration, systemId: SystemId(0x1122_3344_5566_7788), settings: settings),
        ]
        for index in sessions.indices {
            let result = sessions[index].receive(input, now: .seconds(1))
            if let rejection = result.rejection {
                if rejection.reason.isEmpty { record("rejection without a reason", input, &stats) }
                if !result.readings.isEmpty { record("rejected input produced \(result.readings.count) readings", input, &stats) }
            }
            if index < 2, !result.readings.isEmpty { record("readings outside the operating state", input, &stats) }
            for outgoing in result.outgoing {
                if case .failure(let error) = APDU.decodeCountingWork(outgoing).result {
                    record("manager sent an undecodable APDU: \(error)", input, &stats)
                }
            }
            if index == 2 {
                if result.isRejected { stats.rejected += 1 } else { stats.accepted += 1 }
                stats.readings += result.readings.count
            }
        }
    }

    func record(_ violation: String, _ input: [UInt8], _ stats: inout Statistics) {
        guard stats.violations.count < 50 else {
            stats.violations.append("")
            return
        }
        stats.violations.append("\(violation) (input \(MDERHex.string(input)))")
    }

    // MARK: - Mutations

    mutating func mutate(_ original: [UInt8]) -> [UInt8] {
        var bytes = original
        let rounds = Int.random(in: 1...3, using: &random)
        for _ in 0..<rounds {
            switch Int.random(in: 0..<8, using: &random) {
            case 0: flipBits(&bytes)
            case 1: setByte(&bytes)
            case 2: truncate(&bytes)
            case 3: extend(&bytes)
            case 4, 5: corruptLength(&bytes)
            case 6: splice(&bytes)
            default: deleteOrDuplicate(&bytes)
            }
        }
        return bytes
    }

    mutating func flipBits(_ bytes: inout [UInt8]) {
        guard !bytes.isEmpty else { return }
        for _ in 0..<Int.random(in: 1...4, using: &random) {
            let index = Int.random(in: 0..<bytes.count, using: &random)
            bytes[index] ^= UInt8(1) << UInt8.random(in: 0...7, using: &random)
        }
    }

    mutating func setByte(_ bytes: inout [UInt8]) {
        guard !bytes.isEmpty else { return }
        let index = Int.random(in: 0..<bytes.count, using: &random)
        bytes[index] = [0x00, 0xFF, 0x7F, 0x80, UInt8.random(in: 0...255, using: &random)][Int.random(in: 0..<5, using: &random)]
    }

    mutating func truncate(_ bytes: inout [UInt8]) {
        guard !bytes.isEmpty else { return }
        bytes.removeLast(Int.random(in: 1...bytes.count, using: &random))
    }

    mutating func extend(_ bytes: inout [UInt8]) {
        for _ in 0..<Int.random(in: 1...8, using: &random) { bytes.append(UInt8.random(in: 0...255, using: &random)) }
    }

    /// Targets 16-bit fields that look like lengths or counts (values that fit in what follows).
    mutating func corruptLength(_ bytes: inout [UInt8]) {
        guard bytes.count >= 2 else { return }
        var candidates: [Int] = []
        for index in 0..<(bytes.count - 1) {
            let value = Int(bytes[index]) << 8 | Int(bytes[index + 1])
            if value <= bytes.count - index - 2 { candidates.append(index) }
        }
        let index = candidates.isEmpty
            ? Int.random(in: 0..<(bytes.count - 1), using: &random)
            : candidates[Int.random(in: 0..<candidates.count, using: &random)]
        let old = Int(bytes[index]) << 8 | Int(bytes[index + 1])
        let new: Int
        switch Int.random(in: 0..<4, using: &random) {
        case 0: new = old + Int.random(in: 1...4, using: &random)
        case 1: new = max(0, old - Int.random(in: 1...4, using: &random))
        case 2: new = 0xFFFF
        default: new = Int.random(in: 0...0xFFFF, using: &random)
        }
        bytes[index] = UInt8(truncatingIfNeeded: new >> 8)
        bytes[index + 1] = UInt8(truncatingIfNeeded: new)
    }

    mutating func splice(_ bytes: inout [UInt8]) {
        let other = seeds[Int.random(in: 0..<seeds.count, using: &random)].bytes
        guard !bytes.isEmpty, !other.isEmpty else { return }
        let cut = Int.random(in: 0...bytes.count, using: &random)
        let from = Int.random(in: 0...other.count, using: &random)
        bytes = Array(bytes[..<cut]) + Array(other[from...])
    }

    mutating func deleteOrDuplicate(_ bytes: inout [UInt8]) {
        guard bytes.count >= 2 else { return }
        let start = Int.random(in: 0..<bytes.count, using: &random)
        let length = Int.random(in: 1...min(8, bytes.count - start), using: &random)
        let chunk = Array(bytes[start..<start + length])
        if Bool.random(using: &random) {
            bytes.removeSubrange(start..<start + length)
        } else {
            bytes.insert(contentsOf: chunk, at: start)
        }
    }
}
