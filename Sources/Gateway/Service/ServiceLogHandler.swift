import Foundation
import Logging
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// swift-log to stderr, one line per event, for journald (or a terminal).
///
/// - `journald`: `<6>info wardgate: MQTT connected broker=127.0.0.1:1883`. The `<N>` prefix is
///   the syslog priority, which journald reads from a service's stderr (`SyslogLevelPrefix=`,
///   on by default), so `journalctl -p warning` works. journald stamps the time itself.
/// - `text`: the same with an ISO 8601 UTC timestamp instead of the prefix.
///
/// Every line is one line: newlines and other control characters in messages and metadata are
/// escaped. Metadata values with spaces, `=` or quotes are quoted.
///
/// A safety net for the rule "no measurement values, patient identifiers or payloads at info
/// or above": metadata under the keys in `ServiceLogHandler.sensitiveKeys` is replaced by
/// `<redacted>` at levels info and higher (it is kept at debug and trace, which are for
/// troubleshooting on a test bench). The code's own log calls do not pass such values at info.
public struct ServiceLogHandler: LogHandler {
    public static let sensitiveKeys: Set<String> = [
        "payload", "value", "values", "reading", "readings", "patient", "subject", "mrn", "observation", "resource", "body",
    ]

    public var logLevel: Logger.Level
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    let label: String
    let format: LogFormat
    let sink: LogSink

    public init(label: String, level: Logger.Level, format: LogFormat, sink: LogSink = .standardError) {
        self.label = label
        self.logLevel = level
        self.format = format.resolved()
        self.sink = sink
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var merged = metadata
        if let provided = metadataProvider?.get() { merged.merge(provided) { $1 } }
        if let extra = event.metadata { merged.merge(extra) { $1 } }
        sink.write(ServiceLogHandler.line(
            level: event.level, label: label, message: event.message.description, metadata: merged, format: format, now: Date()))
    }

    /// The formatted line, with its newline.
    public static func line(level: Logger.Level, label: String, message: String, metadata: Logger.Metadata,
                            format: LogFormat, now: Date) -> String {
        var out = ""
        switch format {
        case .journald, .auto:
            out += "<\(syslogPriority(level))>"
        case .text:
            out += timestamp(now) + " "
        }
        out += level.rawValue + " " + label + ": " + escape(message)
        let redact = level >= .info
        for key in metadata.keys.sorted() {
            let value: String
            if redact && sensitiveKeys.contains(key.lowercased()) {
                value = "<redacted>"
            } else {
                value = render(metadata[key]!)
            }
            out += " " + escape(key) + "=" + quoteIfNeeded(escape(value))
        }
        return out + "\n"
    }

    /// RFC 5424 severities, which journald uses as priorities.
    public static func syslogPriority(_ level: Logger.Level) -> Int {
        switch level {
        case .trace, .debug: 7
        case .info: 6
        case .notice: 5
        case .warning: 4
        case .error: 3
        case .critical: 2
        }
    }

    static func render(_ value: Logger.Metadata.Value) -> String {
        switch value {
        case .string(let s): s
        case .stringConvertible(let c): c.description
        case .array(let a): "[" + a.map(render).joined(separator: ",") + "]"
        case .dictionary(let d): "{" + d.keys.sorted().map { "\($0):\(render(d[$0]!))" }.joined(separator: ",") + "}"
        }
    }

    /// Control characters become visible escapes, so one event is always one line.
    static func escape(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) else { return text }
        var out = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 || scalar.value == 0x7F {
                    out += String(format: "\\x%02x", scalar.value)
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out
    }

    static func quoteIfNeeded(_ value: String) -> String {
        guard value.isEmpty || value.contains(where: { $0 == " " || $0 == "=" || $0 == "\"" }) else { return value }
        return "\"" + value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }

    static func timestamp(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: date)
    }
}

/// Where log lines go: stderr (one `write` per line, so lines from several threads never
/// interleave), or a buffer for tests.
public final class LogSink: Sendable {
    private let capturing: Bool
    private let lines = Mutex<[String]>([])

    private init(capturing: Bool) { self.capturing = capturing }

    public static let standardError = LogSink(capturing: false)
    public static func capture() -> LogSink { LogSink(capturing: true) }

    public var captured: [String] { lines.withLock { $0 } }

    func write(_ line: String) {
        if capturing {
            lines.withLock { $0.append(line) }
            return
        }
        var bytes = Array(line.utf8)
        bytes.withUnsafeMutableBytes { raw in
            var offset = 0
            while offset < raw.count {
                let n = Glibc.write(2, raw.baseAddress! + offset, raw.count - offset)
                if n <= 0 {
                    if n < 0 && errno == EINTR { continue }
                    return
                }
                offset += n
            }
        }
    }
}

extension ServiceLogHandler {
    /// Installs the handler process-wide (once, at startup).
    public static func bootstrap(level: Logger.Level, format: LogFormat) {
        LoggingSystem.bootstrap { label in ServiceLogHandler(label: label, level: level, format: format) }
    }
}
