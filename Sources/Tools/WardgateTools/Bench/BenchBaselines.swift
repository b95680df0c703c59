import Foundation
import Gateway
import Simulation

#if canImport(Glibc)
import Glibc
#endif

/// The baselines a bench run measures beside wardgate: the signing and transport limits.
extension BenchRunner {
    /// The signing limit of the `cores` the gateway has: `openssl speed -multi N` (N processes
    /// at once, their signatures summed), or, when that fails, N times the one-core figure.
    static func signingLimit(cores: Int, oneCore: Double?) -> SigningLimit? {
        if cores > 1, let all = opensslSignsPerSecond(processes: cores) {
            return SigningLimit(perSecond: all, cores: cores, method: "openssl speed -multi \(cores) -seconds 3 ecdsap256")
        }
        guard let oneCore else { return nil }
        let method = cores > 1 ? "\(cores) x one core (openssl speed -seconds 3 ecdsap256)" : "openssl speed -seconds 3 ecdsap256 (one core)"
        return SigningLimit(perSecond: oneCore * Double(cores), cores: cores, method: method)
    }

    /// `openssl speed -seconds 3 ecdsap256`: ECDSA P-256 signatures per second on one core, or
    /// with `processes` > 1 (`-multi`) the sum over that many processes signing at once.
    static func opensslSignsPerSecond(processes: Int = 1) -> Double? {
        guard let binary = Executables.find("openssl") else { return nil }
        // posix_spawn with an empty signal mask: this process blocks signals in its threads, and
        // `openssl speed` times itself with SIGALRM (inherited blocked, it would never stop).
        let outPath = NSTemporaryDirectory() + "wardgate-bench-openssl-\(UUID().uuidString.prefix(8)).txt"
        defer { try? FileManager.default.removeItem(atPath: outPath) }
        var pid: pid_t = 0
        let arguments: [String] = [binary, "speed"] + (processes > 1 ? ["-multi", "\(processes)"] : []) + ["-seconds", "3", "ecdsap256"]
        let argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, outPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attributes, &empty)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK))
        guard posix_spawn(&pid, binary, &actions, &attributes, argv, environ) == 0 else { return nil }
        var status: Int32 = 0
        let deadline = Date().addingTimeInterval(20)
        while waitpid(pid, &status, WNOHANG) == 0 {
            if Date() > deadline { kill(pid, SIGKILL); waitpid(pid, &status, 0); return nil }
            usleep(50_000)
        }
        let data = FileManager.default.contents(atPath: outPath) ?? Data()
        let output = String(decoding: data, as: UTF8.self)
        // " 256 bits ecdsa (nistp256)   0.0000s   0.0001s  33672.0  11283.6": sign/s, verify/s last
        // (with -multi, the summary line has the same form).
        for line in output.split(separator: "\n") where line.contains("ecdsa (nistp256)") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            if fields.count >= 2, let signs = Double(fields[fields.count - 2]) { return signs }
        }
        return nil
    }

    /// A plain QoS 1 subscriber (`mosquitto_sub -q 1 -t FILTER -C K > /dev/null`) on the same
    /// broker, while the same simulated devices publish K of the same payloads as fast as they
    /// can: the time from the first publish to mosquitto_sub exiting after its K-th message.
    static func subscriberBaseline(port: Int, devices: any BenchWorkload) async throws -> Double? {
        guard let binary = Executables.find("mosquitto_sub") else { return nil }
        let rounds = max(1, 20_000 / devices.deviceIds.count)
        let total = rounds * devices.deviceIds.count
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = ["-h", "127.0.0.1", "-p", "\(port)", "-q", "1", "-t", devices.topicFilter, "-C", "\(total)", "-i", "bench-baseline-sub"]
        process.standardOutput = FileHandle(forWritingAtPath: "/dev/null")
        process.standardError = FileHandle(forWritingAtPath: "/dev/null")
        try process.run()
        // Let it connect and subscribe.
        try await Task.sleep(for: .milliseconds(500))
        guard try await devices.connect(timeout: .seconds(10)) else { process.terminate(); return nil }
        let start = Date()
        _ = try await devices.run(rounds: rounds, roundsPerSecond: 1_000_000) { _, _, _ in }
        let deadline = Date().addingTimeInterval(30)
        while process.isRunning, Date() < deadline { try await Task.sleep(for: .milliseconds(1)) }
        let seconds = Date().timeIntervalSince(start)
        guard !process.isRunning else { process.terminate(); return nil }
        return Double(total) / seconds
    }
}
