import Foundation
import Synchronization
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// A datagram socket of the test's own, standing in for systemd's notify socket: it records
/// every sd_notify message a child daemon sends.
final class NotifyListener: Sendable {
    let path: String
    private let fd: Int32
    private let received = Mutex<[String]>([])
    private let stopped = Atomic<Bool>(false)
    private let finished = DispatchSemaphore(value: 0)

    /// Binds `path` (a filesystem socket) or, with `abstract`, the abstract name `@path`.
    init(abstract: Bool = false) throws {
        let name = "wardgate-notify-\(UUID().uuidString.prefix(8))"
        path = abstract ? "@\(name)" : NSTemporaryDirectory() + name + ".sock"
        fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        guard fd >= 0 else { throw ServiceTestError("socket() failed") }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        var bytes = Array(path.utf8)
        if abstract { bytes[0] = 0 }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in for (i, b) in bytes.enumerated() { raw[i] = b } }
        let length = socklen_t(MemoryLayout<sockaddr_un>.offset(of: \sockaddr_un.sun_path)! + bytes.count + (abstract ? 0 : 1))
        let rc = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }
        guard rc == 0 else { throw ServiceTestError("bind(\(path)) failed: \(String(cString: strerror(errno)))") }
        var timeout = timeval(tv_sec: 0, tv_usec: 100_000)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let thread = Thread { [self] in receiveLoop() }
        thread.start()
    }

    private func receiveLoop() {
        var buffer = [UInt8](repeating: 0, count: 65536)
        while !stopped.load(ordering: .relaxed) {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n > 0 {
                let message = String(decoding: buffer[0..<n], as: UTF8.self)
                received.withLock { $0.append(message) }
            }
        }
        finished.signal()
    }

    func close() {
        stopped.store(true, ordering: .relaxed)
        finished.wait()
        Glibc.close(fd)
        if !path.hasPrefix("@") { unlink(path) }
    }

    /// Every datagram so far, in arrival order.
    var messages: [String] { received.withLock { $0 } }

    /// Waits until `condition` holds over the messages received so far.
    func wait(timeout: Duration = .seconds(60), _ condition: ([String]) -> Bool) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if condition(messages) { return true }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return condition(messages)
    }
}

extension [String] {
    /// Datagrams with a line exactly `line`.
    func indices(ofLine line: String) -> [Int] {
        enumerated().filter { $0.element.split(separator: "\n").contains(Substring(line)) }.map(\.offset)
    }

    /// Datagrams with a line starting with `prefix`.
    func indices(ofLinePrefix prefix: String) -> [Int] {
        enumerated().filter { $0.element.split(separator: "\n").contains { $0.hasPrefix(prefix) } }.map(\.offset)
    }
}

/// Strings collected from several threads.
final class SharedList: Sendable {
    private let list = Mutex<[String]>([])
    func append(_ item: String) { list.withLock { $0.append(item) } }
    var items: [String] { list.withLock { $0 } }
}

struct ServiceTestError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// `wardgate run` as a child with an environment of the test's choosing (NOTIFY_SOCKET, ...).
final class ServiceDaemon {
    let process = Process()
    let logPath: String

    init(configPath: String, logPath: String, environment: [String: String]) throws {
        self.logPath = logPath
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        process.executableURL = URL(fileURLWithPath: TestSupport.wardgateBinary)
        process.arguments = ["run", "--config", configPath]
        var env = ProcessInfo.processInfo.environment
        for key in ["NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID", "JOURNAL_STREAM"] { env[key] = nil }
        env.merge(environment) { $1 }
        process.environment = env
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        process.standardError = log
        process.standardOutput = log
        try process.run()
    }

    var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    func signal(_ number: Int32) { kill(process.processIdentifier, number) }

    /// SIGTERM and wait (without blocking a thread of the shared pool); returns the exit status.
    func terminate() async -> Int32 {
        signal(SIGTERM)
        while process.isRunning { try? await Task.sleep(for: .milliseconds(20)) }
        return process.terminationStatus
    }

    deinit {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }
}

/// A minimal HTTP/1.1 client over a POSIX socket: one request, `Connection: close`.
enum PlainHTTP {
    struct Response {
        let status: Int
        let headers: [String: String]
        let body: String
    }

    /// The socket I/O runs on a dispatch thread, not on the Swift concurrency pool: an
    /// in-process server needs that pool to answer, and blocking it could starve the server.
    static func get(port: Int, path: String, headers: [String: String] = [:]) async throws -> Response {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(with: Result { try getBlocking(port: port, path: path, headers: headers) })
            }
        }
    }

    static func getBlocking(port: Int, path: String, headers: [String: String]) throws -> Response {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw ServiceTestError("socket() failed") }
        defer { close(fd) }
        var timeout = timeval(tv_sec: 60, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
        guard connected else { throw ServiceTestError("cannot connect to 127.0.0.1:\(port)") }
        var request = "GET \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nConnection: close\r\n"
        for (name, value) in headers { request += "\(name): \(value)\r\n" }
        request += "\r\n"
        _ = request.withCString { send(fd, $0, strlen($0), Int32(MSG_NOSIGNAL)) }
        var data = [UInt8]()
        var buffer = [UInt8](repeating: 0, count: 16384)
        while true {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n <= 0 { break }
            data += buffer[0..<n]
        }
        let text = String(decoding: data, as: UTF8.self)
        guard let split = text.range(of: "\r\n\r\n") else { throw ServiceTestError("no HTTP response: \(text)") }
        let head = text[..<split.lowerBound].components(separatedBy: "\r\n")
        let statusParts = head.first?.split(separator: " ") ?? []
        guard statusParts.count >= 2, let status = Int(statusParts[1]) else { throw ServiceTestError("bad status line: \(head.first ?? "")") }
        var fields: [String: String] = [:]
        for line in head.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            fields[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        var body = String(text[split.upperBound...])
        if fields["transfer-encoding"]?.lowercased() == "chunked" { body = dechunk(body) }
        return Response(status: status, headers: fields, body: body)
    }

    static func dechunk(_ text: String) -> String {
        var rest = Substring(text)
        var out = ""
        while let lineEnd = rest.range(of: "\r\n"), let size = Int(rest[..<lineEnd.lowerBound], radix: 16), size > 0 {
            let start = lineEnd.upperBound
            let utf8 = rest[start...].utf8
            let end = utf8.index(utf8.startIndex, offsetBy: min(size, utf8.count))
            out += String(rest[start..<end])
            rest = rest[end...].dropFirst(2)
        }
        return out
    }
}

/// Holds SQLite's write lock on a journal from another process (python3's sqlite3 module),
/// the way a wedged writer would, until released.
final class JournalWriteLock {
    let process = Process()
    private let input = Pipe()
    private let output = Pipe()

    init(databasePath: String) throws {
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", """
            import sqlite3, sys
            c = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=30)
            c.execute("BEGIN IMMEDIATE")
            print("locked", flush=True)
            sys.stdin.readline()
            c.execute("COMMIT")
            print("released", flush=True)
            """, databasePath]
        process.standardInput = input
        process.standardOutput = output
        process.standardError = FileHandle.standardError
        try process.run()
        let line = String(decoding: output.fileHandleForReading.availableData, as: UTF8.self)
        guard line.hasPrefix("locked") else { throw ServiceTestError("the lock holder did not lock: \(line)") }
    }

    func release() {
        input.fileHandleForWriting.write(Data("go\n".utf8))
        process.waitUntilExit()
    }

    deinit {
        if process.isRunning { process.terminate() }
    }
}
