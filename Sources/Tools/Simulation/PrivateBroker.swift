import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// A mosquitto broker of our own on a free loopback port, for `wardgate demo`, tests and benchmarks.
///
/// It persists to its own directory with a deliberate `max_queued_messages`: mosquitto's
/// default of 1000 silently drops messages for an offline persistent subscriber.
public final class PrivateBroker: Sendable {
    public let port: Int
    public let directory: String
    public let configPath: String
    private let process: ProcessBox

    public static func start(
        directory: String? = nil, maxQueuedMessages: Int = 1_000_000, extraConfig: String = "", port: Int? = nil
    ) throws(SimulationError) -> PrivateBroker {
        let dir = directory ?? NSTemporaryDirectory() + "wardgate-broker-\(UUID().uuidString.prefix(8))"
        do {
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        } catch {
            throw .broker("cannot create \(dir): \(error.localizedDescription)")
        }
        let chosenPort: Int
        if let port { chosenPort = port } else { chosenPort = try FreePort.find() }
        let config = """
            listener \(chosenPort) 127.0.0.1
            allow_anonymous true
            persistence true
            persistence_location \(dir)/
            autosave_interval 1
            max_queued_messages \(maxQueuedMessages)
            max_inflight_messages 100
            log_dest file \(dir)/mosquitto.log
            log_type error
            log_type warning
            log_type notice
            \(geteuid() == 0 ? "user root" : "")
            \(extraConfig)
            """
        let configPath = dir + "/mosquitto.conf"
        do {
            try config.write(toFile: configPath, atomically: true, encoding: .utf8)
        } catch {
            throw .broker("cannot write \(configPath): \(error.localizedDescription)")
        }
        let broker = PrivateBroker(port: chosenPort, directory: dir, configPath: configPath, process: ProcessBox())
        try broker.launch()
        return broker
    }

    private init(port: Int, directory: String, configPath: String, process: ProcessBox) {
        self.port = port
        self.directory = directory
        self.configPath = configPath
        self.process = process
    }

    deinit { stop() }

    private func launch() throws(SimulationError) {
        guard let binary = Executables.find("mosquitto", extra: ["/usr/sbin"]) else {
            throw .broker("the mosquitto binary is not installed (Debian: apt-get install mosquitto)")
        }
        let child = try ChildProcess.spawn(binary, arguments: ["-c", configPath])
        process.set(child)
        guard FreePort.waitUntilListening(port: port, timeout: 10) else {
            child.stop(grace: 1)
            throw .broker("mosquitto did not start listening on port \(port); see \(directory)/mosquitto.log")
        }
    }

    /// Stops the broker with SIGTERM; it saves its persistence file on the way out.
    public func stop() {
        process.take()?.stop()
    }

    /// Stops and starts the broker again on the same port with the same persistent state.
    public func restart() throws(SimulationError) {
        stop()
        try launch()
    }
}

/// Holds the running broker process behind a lock.
final class ProcessBox: Sendable {
    private let child = Mutex<ChildProcess?>(nil)

    func set(_ process: ChildProcess) { child.withLock { $0 = process } }
    func take() -> ChildProcess? { child.withLock { current in defer { current = nil }; return current } }
}

/// A child process started with posix_spawn and reaped with waitpid, so its exit is seen at once.
public struct ChildProcess: Sendable {
    public let pid: pid_t

    public static func spawn(_ path: String, arguments: [String]) throws(SimulationError) -> ChildProcess {
        var pid: pid_t = 0
        let argv = ([path] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        let rc = posix_spawn(&pid, path, &actions, nil, argv, environ)
        guard rc == 0 else { throw .broker("cannot start \(path): \(String(cString: strerror(rc)))") }
        return ChildProcess(pid: pid)
    }

    /// SIGTERM, then SIGKILL if it has not exited after `grace` seconds; always reaps it.
    public func stop(grace: TimeInterval = 5) {
        kill(pid, SIGTERM)
        let deadline = Date().addingTimeInterval(grace)
        var status: Int32 = 0
        while Date() < deadline {
            let reaped = waitpid(pid, &status, WNOHANG)
            // ECHILD: someone else in the process (Foundation) already reaped it.
            if reaped == pid || (reaped == -1 && errno == ECHILD) { return }
            usleep(5_000)
        }
        kill(pid, SIGKILL)
        waitpid(pid, &status, 0)
    }
}

public enum SimulationError: Error, Sendable, CustomStringConvertible {
    case broker(String)
    case publish(String)

    public var description: String {
        switch self {
        case .broker(let reason): "private broker: \(reason)"
        case .publish(let reason): "simulated device: \(reason)"
        }
    }
}

public enum Executables {
    public static func find(_ name: String, extra: [String] = []) -> String? {
        let path = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":").map(String.init)
        return (path + extra).map { "\($0)/\(name)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }
}

public enum FreePort {
    /// A port the kernel just handed out on 127.0.0.1; free at the moment of the call.
    public static func find() throws(SimulationError) -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw .broker("socket() failed") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard bound else { throw .broker("cannot bind a free port") }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    public static func waitUntilListening(port: Int, timeout: TimeInterval) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if isListening(port: port) { return true }
            usleep(20_000)
        }
        return false
    }

    public static func isListening(port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
    }
}
