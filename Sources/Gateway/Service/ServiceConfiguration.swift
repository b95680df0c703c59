import DeviceIdentity
import Foundation
import StaffAPI
import StrictYAML

/// How log lines are written to stderr.
public enum LogFormat: String, Sendable, CaseIterable {
    /// `journald` when stderr goes to the systemd journal (`JOURNAL_STREAM` is set), else `text`.
    case auto
    /// `<N>level label: message key=value ...`: the `<N>` syslog priority prefix lets journald
    /// file the line at the right priority; journald adds the time.
    case journald
    /// `2026-11-21T08:00:00.123Z level label: message key=value ...`
    case text

    /// `auto` made concrete for this process.
    public func resolved(environment: [String: String] = ProcessInfo.processInfo.environment) -> LogFormat {
        guard self == .auto else { return self }
        return (environment["JOURNAL_STREAM"]?.isEmpty == false) ? .journald : .text
    }
}

extension GatewayConfig {
    /// The `http:` section (the staff API); nil when absent, which leaves the API off.
    ///
    /// ```yaml
    /// http:
    ///   listen: 127.0.0.1:8080                # loopback by default
    ///   bearerTokenFile: ./secrets/api-token  # required (or mTLS) for a non-loopback address
    ///   tls: {certFile: ./tls/api.pem, keyFile: ./tls/api.key, clientCAFile: ./tls/staff-ca.pem}
    ///   rateLimit: {requestsPerSecond: 20, burst: 40}   # per client address
    ///   maxPageSize: 1000                     # the largest _count
    ///   idleTimeout: 60s                      # close connections idle this long
    /// ```
    static func parseHTTP(_ root: YAMLObject, resolve: (String) -> String) -> StaffAPIConfiguration? {
        guard let section = root.optionalObject("http") else { return nil }
        let reader = section.reader
        var config = StaffAPIConfiguration()
        if let listen = section.string("listen") {
            if let (host, port) = StaffAPIConfiguration.parseListen(listen) {
                config.host = host
                config.port = port
            } else {
                reader.report(section.fieldPath("listen"), "expected host:port such as 127.0.0.1:8080 or [::1]:8080, found \"\(listen)\"")
            }
        }
        if let tokenFile = section.optionalString("bearerTokenFile") {
            // The token is a secret like a private key, and follows the key files' rule: refused
            // when group or others may access the file.
            let path = resolve(tokenFile)
            do {
                let token = try SecretFile.readText(path, describedAs: "bearer token file").trimmingCharacters(in: .whitespacesAndNewlines)
                if token.isEmpty {
                    reader.report(section.fieldPath("bearerTokenFile"), "cannot read a token from \(path): the file is empty")
                } else {
                    config.bearerToken = token
                }
            } catch .insecureSecretFile(let path, let mode, let what) {
                reader.report(section.fieldPath("bearerTokenFile"), IdentityError.insecureSecretFile(path: path, mode: mode, what: what).description)
            } catch {
                reader.report(section.fieldPath("bearerTokenFile"), "cannot read a token from \(path): \(error)")
            }
        }
        if let tls = section.optionalObject("tls") {
            let cert = tls.string("certFile").map(resolve)
            let key = tls.string("keyFile").map(resolve)
            let clientCA = tls.optionalString("clientCAFile").map(resolve)
            for (field, path) in [("certFile", cert), ("keyFile", key), ("clientCAFile", clientCA)] {
                if let path, !FileManager.default.fileExists(atPath: path) { reader.report(tls.fieldPath(field), "no such file \(path)") }
            }
            if let cert, let key { config.tls = .init(certFile: cert, keyFile: key, clientCAFile: clientCA) }
            tls.finish()
        }
        if let rate = section.optionalObject("rateLimit") {
            if let text = rate.optionalString("requestsPerSecond") {
                if let value = Double(text), value > 0, value.isFinite {
                    config.rateLimit.requestsPerSecond = value
                } else {
                    reader.report(rate.fieldPath("requestsPerSecond"), "expected a positive number, found \"\(text)\"")
                }
            }
            if let burst = rate.optionalInt("burst") {
                if burst >= 1 { config.rateLimit.burst = burst } else { reader.report(rate.fieldPath("burst"), "must be at least 1") }
            }
            rate.finish()
        }
        if let maxPage = section.optionalInt("maxPageSize") {
            if maxPage >= 1 {
                config.maxPageSize = maxPage
                config.defaultPageSize = min(config.defaultPageSize, maxPage)
            } else {
                reader.report(section.fieldPath("maxPageSize"), "must be at least 1")
            }
        }
        if let idle = section.optionalDuration("idleTimeout") {
            if idle > .zero { config.idleTimeout = idle } else { reader.report(section.fieldPath("idleTimeout"), "must be longer than 0 s") }
        }
        section.finish()
        for problem in config.problems() { reader.report(section.path, problem) }
        return config
    }

    /// `logging.format`: auto (default), journald or text.
    static func parseLogFormat(_ logging: YAMLObject?) -> LogFormat {
        logging?.optionalChoice("format", LogFormat.allCases.map(\.rawValue)).flatMap(LogFormat.init(rawValue:)) ?? .auto
    }
}
