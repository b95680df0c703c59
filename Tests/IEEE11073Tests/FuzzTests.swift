import IEEE11073
import Simulation
import Testing
import WardgateTools

@Suite("Fuzzing")
struct FuzzTests {
    static func seeds() -> [APDUFuzzer.Seed] {
        FuzzCorpus.seeds(named: Vectors.all.map { ($0.name, $0.bytes) } + FuzzCorpus.simulatedAgentAPDUs())
    }

    /// 20,000 seeded mutations: no crash, no decoder work beyond its bound, every refusal has a
    /// reason and no Readings, every manager answer decodes.
    @Test func mutationsOfTheShippedVectors() {
        let seeds = Self.seeds()
        #expect(seeds.count >= 20)
        var fuzzer = APDUFuzzer(seeds: seeds, seed: 20_601)
        let stats = fuzzer.run(count: 20_000)
        #expect(stats.inputs == 20_000)
        #expect(stats.violations.isEmpty, "\(stats.violations.prefix(3))")
        #expect(stats.accepted + stats.rejected == stats.inputs)
        // The mutations reach both outcomes, so the invariants were exercised on each.
        #expect(stats.accepted > 100)
        #expect(stats.rejected > 10_000)
        #expect(stats.maxStepsPerByte <= 4)
    }

    @Test func seedsDecodeCleanlyBeforeMutation() {
        for seed in Self.seeds() {
            #expect((try? APDU.decode(seed.bytes)) != nil, "\(seed.name)")
        }
    }

    @Test func theCheckerCatchesARejectionWithReadings() {
        // Guards the guard: a clean scan under its own configuration is accepted with readings.
        guard let seed = Self.seeds().first(where: { $0.name == "scan-fixed-blood-pressure-std-config-700" }) else {
            Issue.record("seed missing"); return
        }
        let fuzzer = APDUFuzzer(seeds: [seed], seed: 1)
        var stats = APDUFuzzer.Statistics()
        fuzzer.check(seed.bytes, base: seed, &stats)
        #expect(stats.accepted == 1 && stats.readings == 2 && stats.violations.isEmpty)
    }
}
