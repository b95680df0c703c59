import Foundation
import JSONDocument
import Simulation

/// `--baseline-peer`: the Python pipeline a hospital engineer would write instead of wardgate
/// (`peer_pipeline.py`: paho-mqtt, rfc8785, cryptography, sqlite3), on the same broker, fed
/// the same payloads by the same simulated devices. It makes one Observation per message.
extension BenchRunner {
    /// The script's MQTT client id (fixed in the script): its persistent session is made before
    /// the devices publish, so no message is published before it is subscribed.
    static let peerClientId = "peer"

    /// Runs the peer over `readings` messages published flat out; nil with a note when it failed.
    static func peerBaseline(
        script: String, port: Int, devices: any BenchWorkload, readings: Int, notes: inout [String]
    ) async throws -> PeerBaseline? {
        guard let python = Executables.find("python3"), let mosquittoSub = Executables.find("mosquitto_sub") else {
            notes.append("baseline peer: python3 or mosquitto_sub is not installed")
            return nil
        }
        let filter = devices.topicFilter
        // Subscribe the script's persistent session now (the broker queues for it from here on)
        // and drop it afterwards, so the gateway's run does not feed a session nobody reads.
        guard try await subscribeOnce(mosquittoSub, port: port, filter: filter, persistent: true) else {
            notes.append("baseline peer: could not make the peer's MQTT session on the private broker")
            return nil
        }
        let figures = try await runPeer(python: python, script: script, port: port, devices: devices, readings: readings, notes: &notes)
        _ = try await subscribeOnce(mosquittoSub, port: port, filter: filter, persistent: false)
        return figures
    }

    private static func runPeer(
        python: String, script: String, port: Int, devices: any BenchWorkload, readings: Int, notes: inout [String]
    ) async throws -> PeerBaseline? {
        let rounds = max(1, readings / devices.deviceIds.count)
        let total = rounds * devices.deviceIds.count
        let output = Pipe(), errors = Pipe()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = [script, "\(port)", "\(total)", devices.topicFilter]
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        guard try await devices.connect(timeout: .seconds(10)) else {
            process.terminate()
            notes.append("baseline peer: the simulated devices could not connect")
            return nil
        }
        _ = try await devices.run(rounds: rounds, roundsPerSecond: 1_000_000) { _, _, _ in }
        let deadline = Date().addingTimeInterval(120)
        while process.isRunning, Date() < deadline { try await Task.sleep(for: .milliseconds(20)) }
        guard !process.isRunning else {
            process.terminate()
            notes.append("baseline peer: \(script) did not take all \(total) messages within 120 s")
            return nil
        }
        guard process.terminationStatus == 0, let figures = parsePeerOutput(Array(output.fileHandleForReading.readDataToEndOfFile())) else {
            let stderr = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            let last = stderr.split(separator: "\n").last.map(String.init) ?? ""
            notes.append("baseline peer: \(script) exited \(process.terminationStatus) without its figures (\(last); it needs paho-mqtt, rfc8785 and cryptography: scripts/install-deps)")
            return nil
        }
        return figures
    }

    /// The script's last line: `{"readings": N, "seconds": S, "readingsPerSecond": R}`.
    static func parsePeerOutput(_ bytes: [UInt8]) -> PeerBaseline? {
        guard let line = String(decoding: bytes, as: UTF8.self).split(separator: "\n").last,
              let json = try? JSONParser.parse(Array(line.utf8)),
              let readings = json["readings"]?.numberLexeme.flatMap({ Int($0) }),
              let seconds = json["seconds"]?.numberLexeme.flatMap({ Double($0) }), seconds > 0
        else { return nil }
        return PeerBaseline(readings: readings, seconds: seconds)
    }

    /// `mosquitto_sub -E` as the peer's client id: subscribes and exits. Persistent (`-c`), it
    /// leaves a session the broker queues QoS 1 messages for; clean, it removes that session.
    private static func subscribeOnce(_ binary: String, port: Int, filter: String, persistent: Bool) async throws -> Bool {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = ["-h", "127.0.0.1", "-p", "\(port)", "-q", "1", "-t", filter, "-i", peerClientId, "-E"] + (persistent ? ["-c"] : [])
        process.standardOutput = FileHandle(forWritingAtPath: "/dev/null")
        process.standardError = FileHandle(forWritingAtPath: "/dev/null")
        try process.run()
        let deadline = Date().addingTimeInterval(10)
        while process.isRunning, Date() < deadline { try await Task.sleep(for: .milliseconds(10)) }
        guard !process.isRunning else { process.terminate(); return false }
        return process.terminationStatus == 0
    }
}
