import ArgumentParser
import Foundation
import Gateway
import Journal
import UnixSignals
import WardgateTools

struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Benchmark the pipeline: private broker, simulated ward, gateway with signing and the log.",
        discussion: """
            A reading is one published payload = one MQTT message: 5 Observations from a json or senml payload, 2 from an ieee11073 scan report.
            Exit status 1: the run failed (the reason is printed); 130: interrupted.
            """)

    @Option(name: .long, help: "Total readings (published payloads) per second; with --find-max, the starting rate.")
    var rate: Double = 1000

    @Option(name: .long, help: "How many simulated devices.")
    var devices: Int = 10

    @Option(name: .long, help: "Seconds to publish (with --find-max: seconds per step, 3 to 8).")
    var duration: Double = 20

    @Option(name: .long, help: "json | senml | ieee11073 (11073 pulse oximeters and cuffs: association, then confirmed scan reports).")
    var payload: String = "json"

    @Option(name: .long, help: "Journal durability: process | power.")
    var durability: String = "process"

    @Flag(name: .long, help: "Raise the rate step by step until the backlog grows; report the highest sustainable rate.")
    var findMax = false

    @Option(name: .long, help: "First publish this many readings with the ledger held down, then run the measurement while that backlog drains (0: none).")
    var backlog: Int = 0

    @Option(name: .long, help: "text | json")
    var format: String = "text"

    @Option(name: .long, help: "embedded | fabric (the gateway's Fabric adapter against the Fabric peer TEST DOUBLE, Python; needs scripts/install-deps and a source checkout).")
    var ledger: ToolLedgerKind = .embedded

    @Option(name: .customLong("commit-delay-ms"), help: "With --ledger fabric: the double's simulated commit time per transaction, in ms.")
    var commitDelayMs: Int = 1000

    @Flag(name: .customLong("baseline-peer"), help: "Also run the Python peer pipeline (../shared/bench/peer_pipeline.py) on the same broker and payloads, and report wardgate's ratio to it (json payloads).")
    var baselinePeer = false

    @Option(name: .customLong("peer-script"), help: "The peer pipeline script for --baseline-peer (default: $WARDGATE_PEER_PIPELINE, else ../shared/bench/peer_pipeline.py beside the source checkout).")
    var peerScript: String?

    @OptionGroup var profiles: ShippedProfilesOption

    func validate() throws {
        guard rate > 0, devices > 0, devices <= 10_000, duration >= 1 else {
            throw ValidationError("--rate and --devices must be positive (at most 10000 devices), --duration at least 1")
        }
        guard BenchOptions.Payload(rawValue: payload) != nil else { throw ValidationError("--payload must be json, senml or ieee11073") }
        guard Durability(rawValue: durability) != nil else { throw ValidationError("--durability must be process or power") }
        guard format == "text" || format == "json" else { throw ValidationError("--format must be text or json") }
        guard backlog >= 0 else { throw ValidationError("--backlog must be 0 or more readings") }
        guard commitDelayMs >= 0 else { throw ValidationError("--commit-delay-ms must be 0 or more") }
        guard backlog == 0 || !findMax else { throw ValidationError("--backlog and --find-max measure different things; use one at a time") }
        if baselinePeer {
            // The script makes its one Observation from a JSON payload's "hr" and "ts".
            guard payload == BenchOptions.Payload.json.rawValue else { throw ValidationError("--baseline-peer needs --payload json (the peer pipeline reads JSON payloads)") }
            let script = peerScript ?? BenchOptions.defaultPeerScript
            guard FileManager.default.fileExists(atPath: script) else {
                throw ValidationError("--baseline-peer: no peer pipeline at \(script) (give --peer-script PATH or set WARDGATE_PEER_PIPELINE)")
            }
        }
    }

    func run() async throws {
        let kind = BenchOptions.Payload(rawValue: payload) ?? .json
        let directory = try profiles.directory()
        var options = BenchOptions(
            rate: rate, devices: devices, duration: duration, payload: kind,
            durability: Durability(rawValue: durability) ?? .process, findMax: findMax, profilesDirectory: directory)
        options.backlog = backlog
        options.ledger = ledger
        options.fabricCommitDelayMs = commitDelayMs
        options.baselinePeer = baselinePeer
        if let peerScript { options.peerScript = peerScript }
        let runner = BenchRunner(options: options)
        // Progress goes to stderr so `--format json` stays parseable.
        let bench = Task { try await runner.run { FileHandle.standardError.write(Data(("bench: " + $0 + "\n").utf8)) } }
        // Ctrl-C or SIGTERM cancels the run, so its private broker and files are cleaned up.
        let interrupt = Task {
            for await _ in await UnixSignalsSequence(trapping: .sigint, .sigterm) {
                FileHandle.standardError.write(Data("bench: interrupted; stopping the private broker\n".utf8))
                bench.cancel()
                break
            }
        }
        defer { interrupt.cancel() }
        do {
            let result = try await bench.value
            print(format == "json" ? result.json : result.text)
        } catch is CancellationError {
            throw ExitCode(130)
        } catch let error as BenchError {
            CommandSupport.printError("bench: \(error)")
            throw ExitCode(1)
        } catch {
            CommandSupport.printError("bench failed: \(error)")
            throw ExitCode(1)
        }
    }
}
