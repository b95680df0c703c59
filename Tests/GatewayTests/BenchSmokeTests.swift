import Foundation
import JSONDocument
import Testing
import WardgateTestSupport

@Suite("wardgate bench: a short run reports every field the issue names, and loses nothing", .serialized)
struct BenchSmokeTests {
    /// Runs `wardgate bench ... --format json` and parses what it printed.
    static func bench(_ arguments: [String]) throws -> JSONValue {
        let run = try ProcessRunner.run(TestSupport.wardgateBinary, ["bench"] + arguments + ["--format", "json", "--profiles", TestSupport.shippedProfiles])
        try #require(run.status == 0, "\(run.output.suffix(2000))")
        let json = try #require(run.stdout.firstIndex(of: "{").map { String(run.stdout[$0...]) })
        return try JSONParser.parse(Array(json.utf8))
    }

    static func number(_ value: JSONValue?) -> Double? { value?.numberLexeme.flatMap(Double.init) }

    @Test("bench --format json --baseline-peer: the fields exist with the right types and agree; lost and duplicated are 0; readings were anchored")
    func shortRun() throws {
        let result = try Self.bench(["--rate", "100", "--devices", "3", "--duration", "3", "--baseline-peer"])
        let number = Self.number
        for field in ["readingsPerSecond", "baselineSubscriberPerSecond", "ratioToSubscriber", "cpuSecondsPer1000",
                      "rssBytesPeak", "rssBytesSteady", "journalBytesPerReading", "lost", "duplicated",
                      "signingLimitPerSecond", "signingLimitCores", "ratioToSignatures", "stateBytesPerObservation", "journalBytesPerObservation",
                      "baselinePeerReadings", "baselinePeerObservationsPerSecond", "ratioToPeer"] {
            #expect(number(result[field]) != nil, "\(field) is missing or not a number: \(result["notes"].map { $0.serialized } ?? "")")
        }
        for stage in ["durable", "signed", "anchored"] {
            for percentile in ["p50", "p99", "p999"] {
                #expect(number(result["latencyMs"]?[stage]?[percentile]) != nil, "latencyMs.\(stage).\(percentile) is missing")
            }
        }
        #expect(number(result["lost"]) == 0)
        #expect(number(result["duplicated"]) == 0)
        #expect((number(result["published"]) ?? 0) > 0)
        #expect((number(result["readingsPerSecond"]) ?? 0) > 0)
        // The steady RSS splits into anonymous memory and mapped files, each part of the whole.
        let steady = try #require(number(result["rssBytesSteady"]))
        let anonymous = try #require(number(result["rssAnonymousBytesSteady"]))
        let files = try #require(number(result["rssFileBytesSteady"]))
        #expect(anonymous > 0 && files > 0 && anonymous + files <= steady)
        try Self.expectConsistentRatios(result)
    }

    /// The ratios are the Observations per second over the limits they name: the signing limit of
    /// the machine's cores (stated how), and the peer pipeline's Observations per second.
    static func expectConsistentRatios(_ result: JSONValue) throws {
        let number = Self.number
        let observationsPerSecond = try #require(number(result["readingsPerSecond"])) * 5
        #expect(abs(try #require(number(result["observationsPerSecond"])) - observationsPerSecond) < 0.01)
        #expect(number(result["signingLimitCores"]) == Double(ProcessInfo.processInfo.activeProcessorCount))
        let method = try #require(result["signingLimitMethod"]?.stringValue)
        #expect(method.contains("openssl speed"), "\(method)")
        let limit = try #require(number(result["signingLimitPerSecond"]))
        #expect(limit > 0)
        #expect(abs(try #require(number(result["ratioToSignatures"])) - observationsPerSecond / limit) < 0.001)
        let peer = try #require(number(result["baselinePeerObservationsPerSecond"]))
        #expect(peer > 0)
        #expect(abs(try #require(number(result["ratioToPeer"])) - observationsPerSecond / peer) < 0.01)
        // The peer took every message it was offered: as many as the run (300), whole rounds of 3 devices.
        #expect(number(result["baselinePeerReadings"]) == 300)
        // The journal is part of the state directory.
        let journal = try #require(number(result["journalBytesPerObservation"]))
        let state = try #require(number(result["stateBytesPerObservation"]))
        #expect(journal > 0 && journal <= state)
    }

    @Test("bench --backlog: the backlog builds with the ledger down (every leaf unanchored), then drains; nothing lost")
    func backlogRun() throws {
        let result = try Self.bench(["--rate", "100", "--devices", "3", "--duration", "3", "--backlog", "300"])
        let number = Self.number
        let backlog = try #require(result["backlog"]?["samples"] != nil ? result["backlog"] : nil, "no backlog object")
        let readings = try #require(number(backlog["readings"]))
        #expect(readings >= 300)
        let samples = try #require(backlog["samples"]?.arrayValue)
        #expect(samples.count >= 2)
        var previous = 0.0
        for sample in samples {
            let unanchored = try #require(number(sample["unanchoredLeaves"]))
            // The ledger is down from the first reading: each reading's 5 leaves wait unanchored.
            #expect(unanchored == 5 * (number(sample["readings"]) ?? -1))
            #expect(unanchored > previous)
            previous = unanchored
            let rss = try #require(number(sample["rssBytes"]))
            let anonymous = try #require(number(sample["rssAnonymousBytes"]))
            #expect(anonymous > 0 && anonymous < rss)
        }
        #expect((number(backlog["drainSeconds"]) ?? -1) >= 0, "the backlog never drained")
        #expect((number(result["published"]) ?? 0) > readings)
        #expect(number(result["lost"]) == 0)
        #expect(number(result["duplicated"]) == 0)
        #expect(number(result["latencyMs"]?["anchored"]?["p50"]) != nil)
    }

    @Test("bench --payload ieee11073: agents associate, every scan report becomes 2 signed, logged Observations; nothing lost")
    func personalHealthRun() throws {
        let result = try Self.bench(["--payload", "ieee11073", "--rate", "60", "--devices", "4", "--duration", "3"])
        let number = Self.number
        #expect(result["payload"]?.stringValue == "ieee11073")
        let published = try #require(number(result["published"]))
        #expect(published > 0)
        // Two numerics per report (SpO2 + pulse, or the pressure panel + pulse), each signed and in the log.
        #expect(number(result["observations"]) == 2 * published)
        #expect(number(result["signedObservations"]) == 2 * published)
        #expect(number(result["loggedObservations"]) == 2 * published)
        #expect(number(result["lost"]) == 0)
        #expect(number(result["duplicated"]) == 0)
        #expect((number(result["readingsPerSecond"]) ?? 0) > 0)
        #expect((number(result["baselineSubscriberPerSecond"]) ?? 0) > 0, "the plain subscriber saw no scan reports")
        #expect(number(result["latencyMs"]?["anchored"]?["p99"]) != nil)
        // A refused or unconfirmed report would leave a note from the agents.
        #expect(result["notes"]?.arrayValue?.isEmpty == true, "\(result["notes"].map { $0.serialized } ?? "no notes field")")
    }
}
