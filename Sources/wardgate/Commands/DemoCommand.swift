import ArgumentParser
import Foundation
import Gateway
import UnixSignals
import WardgateTools

extension ToolLedgerKind: ExpressibleByArgument {}

struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Run a private broker, simulated ward devices and the gateway; show a live summary.")

    @Option(name: .long, help: "How long to run, in seconds.")
    var duration: Double = 20

    @Option(name: .long, help: "How many simulated devices.")
    var devices: Int = 6

    @Option(name: .long, help: "Payloads per second per device.")
    var rate: Double = 1

    @Option(name: .long, help: "Where to anchor: embedded, or fabric (the Fabric peer TEST DOUBLE, Python; needs scripts/install-deps and a source checkout).")
    var ledger: ToolLedgerKind = .embedded

    @OptionGroup var profiles: ShippedProfilesOption

    func validate() throws {
        guard duration > 0, devices > 0, devices <= 10_000, rate > 0 else {
            throw ValidationError("--duration, --devices and --rate must be positive (at most 10000 devices)")
        }
    }

    func run() async throws {
        let directory = try profiles.directory()
        let runner = DemoRunner(devices: devices, duration: duration, profilesDirectory: directory, ratePerDevice: rate, ledger: ledger)
        // Written unbuffered, so the live view shows up when piped too.
        let demo = Task { try await runner.run { FileHandle.standardOutput.write(Data(($0 + "\n").utf8)) } }
        let interrupt = Task {
            for await _ in await UnixSignalsSequence(trapping: .sigint, .sigterm) {
                print("\nstopping the demo…")
                demo.cancel()
                break
            }
        }
        do {
            let summary = try await demo.value
            interrupt.cancel()
            print(summary.text)
        } catch {
            interrupt.cancel()
            CommandSupport.printError("demo failed: \(error)")
            throw ExitCode(1)
        }
    }
}
