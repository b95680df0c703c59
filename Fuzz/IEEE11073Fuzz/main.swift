import Foundation
import IEEE11073
import WardgateTools

// ieee11073-fuzz --count 1000000 --seed 42 [--vectors path/to/ieee11073-apdus.json]
//
// Mutates the shipped APDU vectors (and simulated-agent APDUs) and feeds every input to the
// decoder and to fresh manager sessions, checking the fuzz invariants. Prints the counts; exits 1
// if any invariant was violated. A crash would end the run, so finishing means zero crashes.

func argument(_ name: String) -> String? {
    let arguments = CommandLine.arguments
    guard let index = arguments.firstIndex(of: name), index + 1 < arguments.count else { return nil }
    return arguments[index + 1]
}

func findVectors() -> URL? {
    if let explicit = argument("--vectors") { return URL(fileURLWithPath: explicit) }
    for start in [FileManager.default.currentDirectoryPath, #filePath] {
        var directory = URL(fileURLWithPath: start)
        for _ in 0..<12 {
            let candidate = directory.appendingPathComponent("shared/testdata/ieee11073-apdus.json")
            if FileManager.default.fileExists(atPath: candidate.path) { return candidate }
            directory.deleteLastPathComponent()
        }
    }
    return nil
}

func loadVectors(_ url: URL) -> [(name: String, bytes: [UInt8])] {
    guard let data = try? Data(contentsOf: url),
          let root = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
          let vectors = root["vectors"] as? [[String: Any]] else { return [] }
    return vectors.compactMap { vector in
        guard let name = vector["name"] as? String, let hex = vector["hex"] as? String, let bytes = MDERHex.bytes(hex) else { return nil }
        return (name, bytes)
    }
}

let count = argument("--count").flatMap(Int.init) ?? 1_000_000
let seed = argument("--seed").flatMap(UInt64.init) ?? 1
var apdus: [(name: String, bytes: [UInt8])] = []
if let url = findVectors() {
    apdus = loadVectors(url)
    print("vectors: \(apdus.count) from \(url.path)")
} else {
    print("vectors: none found (pass --vectors PATH); using simulated-agent APDUs only")
}
apdus += FuzzCorpus.simulatedAgentAPDUs()
let seeds = FuzzCorpus.seeds(named: apdus)
print("seeds: \(seeds.count), count: \(count), seed: \(seed)")

var fuzzer = APDUFuzzer(seeds: seeds, seed: seed)
var total = APDUFuzzer.Statistics()
let batch = 100_000
var done = 0
while done < count {
    let size = min(batch, count - done)
    let stats = fuzzer.run(count: size)
    total.add(stats)
    done += size
    FileHandle.standardError.write(Data("\(done) inputs...\n".utf8))
}
print(total)
for violation in total.violations.prefix(20) where !violation.isEmpty { print("VIOLATION: \(violation)") }
exit(total.violations.isEmpty ? 0 : 1)
