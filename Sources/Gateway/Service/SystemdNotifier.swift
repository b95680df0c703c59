import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// The sd_notify protocol, implemented directly: datagrams of `KEY=value` lines sent to the
/// `AF_UNIX` socket named by `NOTIFY_SOCKET` (a path, or `@name` for the abstract namespace).
///
/// Without `NOTIFY_SOCKET` (not started by systemd with `Type=notify`) every send is a no-op.
/// Sending never blocks the daemon for long and never fails it: systemd being gone is not a
/// reason to stop journaling readings.
public final class SystemdNotifier: Sendable {
    /// The socket address as given (`/run/systemd/notify` or `@abstract`), nil when disabled.
    public let socketPath: String?
    private let fd: Int32
    private let failures = Atomic<Int>(0)

    /// Reads `NOTIFY_SOCKET` from `environment` (the process environment by default).
    public convenience init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.init(socketPath: environment["NOTIFY_SOCKET"].flatMap { $0.isEmpty ? nil : $0 })
    }

    public init(socketPath: String?) {
        guard let socketPath, socketPath.hasPrefix("/") || socketPath.hasPrefix("@"),
              socketPath.utf8.count < MemoryLayout.size(ofValue: sockaddr_un().sun_path)
        else {
            self.socketPath = nil
            self.fd = -1
            return
        }
        self.socketPath = socketPath
        self.fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
    }

    deinit {
        if fd >= 0 { close(fd) }
    }

    public var isEnabled: Bool { socketPath != nil && fd >= 0 }

    /// Sends failed so far (for diagnostics; the daemon carries on).
    public var failedSends: Int { failures.load(ordering: .relaxed) }

    /// Sends one datagram with the given lines; returns whether it was sent.
    @discardableResult
    public func send(_ fields: [NotifyField]) -> Bool {
        guard isEnabled, let socketPath, !fields.isEmpty else { return false }
        let message = fields.map(\.line).joined(separator: "\n")
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        var pathBytes = Array(socketPath.utf8)
        if pathBytes.first == UInt8(ascii: "@") { pathBytes[0] = 0 }  // abstract namespace
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (i, byte) in pathBytes.enumerated() { raw[i] = byte }
        }
        // For an abstract address the length counts exactly the name's bytes (no terminator).
        let length = socklen_t(MemoryLayout<sockaddr_un>.offset(of: \sockaddr_un.sun_path)! + pathBytes.count + (pathBytes.first == 0 ? 0 : 1))
        let sent = message.withCString { text in
            withUnsafePointer(to: &address) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { sendto(fd, text, strlen(text), Int32(MSG_NOSIGNAL), $0, length) }
            }
        }
        if sent < 0 {
            failures.add(1, ordering: .relaxed)
            return false
        }
        return true
    }

    public func ready(status: String? = nil) { send([.ready] + (status.map { [.status($0)] } ?? [])) }
    public func status(_ text: String) { send([.status(text)]) }
    public func watchdog() { send([.watchdog]) }
    public func stopping(status: String? = nil) { send([.stopping] + (status.map { [.status($0)] } ?? [])) }

    /// `RELOADING=1` with `MONOTONIC_USEC` (CLOCK_MONOTONIC now), as systemd expects for a reload.
    public func reloading() {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        send([.reloading, .monotonicMicroseconds(UInt64(now.tv_sec) * 1_000_000 + UInt64(now.tv_nsec) / 1000)])
    }
}

/// One line of an sd_notify message.
public enum NotifyField: Sendable, Hashable {
    case ready
    case reloading
    case stopping
    case watchdog
    case status(String)
    case monotonicMicroseconds(UInt64)

    public var line: String {
        switch self {
        case .ready: "READY=1"
        case .reloading: "RELOADING=1"
        case .stopping: "STOPPING=1"
        case .watchdog: "WATCHDOG=1"
        // One line: a newline would start a new field.
        case .status(let text): "STATUS=" + text.replacingOccurrences(of: "\n", with: " ")
        case .monotonicMicroseconds(let usec): "MONOTONIC_USEC=\(usec)"
        }
    }
}

/// The watchdog systemd asks for: `WATCHDOG_USEC` (the interval), meant for us when
/// `WATCHDOG_PID` is absent or our pid. Pings go out at half the interval.
public struct WatchdogSettings: Sendable, Hashable {
    public let interval: Duration

    public var pingInterval: Duration { interval / 2 }

    public init(interval: Duration) { self.interval = interval }

    public static func fromEnvironment(_ environment: [String: String] = ProcessInfo.processInfo.environment,
                                       pid: Int32 = getpid()) -> WatchdogSettings? {
        guard let text = environment["WATCHDOG_USEC"], let usec = UInt64(text), usec > 0 else { return nil }
        if let owner = environment["WATCHDOG_PID"], !owner.isEmpty {
            guard let ownerPid = Int32(owner), ownerPid == pid else { return nil }
        }
        return WatchdogSettings(interval: .microseconds(Int64(clamping: usec)))
    }
}
