import Foundation
import Journal
import Logging
import MQTTIngest
import StrictYAML
import Timing

/// Reads the sections of the configuration file, one function each. Every default lives in
/// `GatewayConfig` and its settings types; a section only overrides what the file says, and
/// reports a bad value with its path.
struct ConfigSections {
    let reader: YAMLReader
    let baseDirectory: String

    /// Relative paths are relative to the configuration file's directory.
    func resolve(_ path: String) -> String {
        path.hasPrefix("/") ? path : URL(fileURLWithPath: baseDirectory).appendingPathComponent(path).standardizedFileURL.path
    }

    /// Reports `field` of `object` when `path` names no file.
    func requireFile(_ path: String?, _ object: YAMLObject, _ field: String) {
        if let path, !FileManager.default.fileExists(atPath: path) { reader.report(object.fieldPath(field), "no such file \(path)") }
    }

    /// `gateway:` (required): the id and the state directory, which the other defaults derive from.
    func gateway(_ root: YAMLObject) -> GatewayConfig {
        let gateway = root.optionalObject("gateway")
        if !root.has("gateway") { reader.report("gateway", "is required") }
        let id = gateway?.string("id") ?? "wardgate"
        let state = resolve(gateway?.optionalString("stateDirectory") ?? "./state")
        gateway?.finish()
        return GatewayConfig(gatewayId: id, stateDirectory: state, mqtt: MQTTSettings(clientId: "wardgate-\(id)"), profilesDirectory: resolve("./DeviceProfiles"))
    }

    func mqtt(_ root: YAMLObject, into config: inout GatewayConfig) {
        guard let m = root.optionalObject("mqtt") else { return }
        config.mqtt.host = m.optionalString("host") ?? config.mqtt.host
        if let port = m.optionalInt("port") {
            if (1...65535).contains(port) { config.mqtt.port = port } else { reader.report(m.fieldPath("port"), "must be 1–65535") }
        }
        config.mqtt.clientId = m.optionalString("clientId") ?? config.mqtt.clientId
        if m.optionalChoice("protocol", ["5", "3.1.1"]) == "3.1.1" { config.mqtt.protocolVersion = .v311 }
        if let keepAlive = m.optionalDuration("keepAlive") { config.mqtt.keepAliveSeconds = max(5, Int(keepAlive.inSeconds)) }
        if let expiry = m.optionalDuration("sessionExpiry") { config.mqtt.sessionExpirySeconds = UInt32(clamping: Int64(expiry.inSeconds)) }
        config.mqtt.username = m.optionalString("username")
        if let passwordFile = m.optionalString("passwordFile") {
            let path = resolve(passwordFile)
            if let secret = try? String(contentsOfFile: path, encoding: .utf8) {
                config.mqtt.password = secret.trimmingCharacters(in: .whitespacesAndNewlines)
            } else {
                reader.report(m.fieldPath("passwordFile"), "cannot read \(path)")
            }
        }
        if let tls = m.optionalObject("tls") {
            let ca = tls.string("caFile").map(resolve)
            let cert = tls.optionalString("certFile").map(resolve)
            let key = tls.optionalString("keyFile").map(resolve)
            if (cert == nil) != (key == nil) { reader.report(tls.path, "certFile and keyFile go together (mTLS)") }
            for (field, path) in [("caFile", ca), ("certFile", cert), ("keyFile", key)] { requireFile(path, tls, field) }
            if let ca { config.mqtt.tls = MQTTSettings.TLS(caFile: ca, certFile: cert, keyFile: key) }
            tls.finish()
        }
        if let reconnect = m.optionalObject("reconnect") {
            config.mqtt.reconnect.initial = reconnect.optionalDuration("initial") ?? config.mqtt.reconnect.initial
            config.mqtt.reconnect.maximum = reconnect.optionalDuration("maximum") ?? config.mqtt.reconnect.maximum
            reconnect.finish()
        }
        m.finish()
    }

    func profiles(_ root: YAMLObject, into config: inout GatewayConfig) {
        guard let profiles = root.optionalObject("profiles") else { return }
        config.profilesDirectory = profiles.optionalString("directory").map(resolve) ?? config.profilesDirectory
        config.assignmentsFile = profiles.optionalString("assignments").map(resolve)
        config.silentProfileGrace = profiles.optionalDuration("silenceWarning") ?? config.silentProfileGrace
        profiles.finish()
    }

    func journal(_ root: YAMLObject, into config: inout GatewayConfig) {
        guard let journal = root.optionalObject("journal") else { return }
        if let durability = journal.optionalChoice("durability", Durability.allCases.map(\.rawValue)).flatMap(Durability.init(rawValue:)) {
            config.durability = durability
        }
        config.maxJournalBytes = journal.optionalByteCount("maxBytes") ?? config.maxJournalBytes
        if journal.optionalString("retention") == "forever" {
            config.retention = nil
        } else if let value = journal.optionalDuration("retention") {
            config.retention = value
        }
        if let text = journal.optionalString("deadLetterRetention"), ["forever", "0"].contains(text) {
            config.deadLetterRetention = nil
        } else if let value = journal.optionalDuration("deadLetterRetention") {
            config.deadLetterRetention = value > .zero ? value : nil
        }
        if let interval = journal.optionalDuration("integrityCheck") {
            if interval >= .seconds(1) { config.integrityCheckInterval = interval } else { reader.report(journal.fieldPath("integrityCheck"), "must be at least 1s") }
        }
        if let skew = journal.optionalDuration("maxClockSkew") {
            if skew >= .seconds(1) { config.maxClockSkew = skew } else { reader.report(journal.fieldPath("maxClockSkew"), "must be at least 1s") }
        }
        journal.finish()
    }

    func identity(_ root: YAMLObject) -> GatewayConfig.IdentitySettings? {
        guard let section = root.optionalObject("identity") else { return nil }
        defer { section.finish() }
        guard let keystore = section.string("keystore").map(resolve) else { return nil }
        return GatewayConfig.IdentitySettings(
            keystore: keystore, caCertificate: section.optionalString("caCertificate").map(resolve), crl: section.optionalString("crl").map(resolve))
    }

    /// `transparencyLog:`, or the same section under its old name `log:` (the Merkle log's,
    /// easily taken for logging's) with a deprecation naming the new key.
    func transparencyLog(_ root: YAMLObject, deprecations: inout [String]) -> GatewayConfig.LogSettings? {
        guard root.has("log") else { return transparencyLog(root.optionalObject("transparencyLog")) }
        if root.has("transparencyLog") {
            reader.report("log", "is the old name of transparencyLog: keep only transparencyLog")
            return transparencyLog(root.optionalObject("transparencyLog"))
        }
        deprecations.append("the log: section is deprecated and will be removed: rename it to transparencyLog: (the same keys)")
        return transparencyLog(root.optionalObject("log"))
    }

    private func transparencyLog(_ section: YAMLObject?) -> GatewayConfig.LogSettings? {
        guard let section else { return nil }
        defer { section.finish() }
        let origin = section.string("origin")
        let certificate = section.string("gatewayCertificate").map(resolve)
        let key = section.string("gatewayKey").map(resolve)
        if section.has("checkpointInterval") {
            reader.report(section.fieldPath("checkpointInterval"), "moved to batch.maxAge: a checkpoint is signed whenever a batch is cut")
        }
        if let origin, origin.isEmpty || origin.contains(where: { $0.isWhitespace || $0 == "+" }) {
            reader.report(section.fieldPath("origin"), "must be a non-empty name without spaces or '+', e.g. wardgate/hospital.example/ward-7b")
        }
        guard let origin, let certificate, let key else { return nil }
        return GatewayConfig.LogSettings(origin: origin, gatewayCertificate: certificate, gatewayKey: key)
    }

    func batch(_ root: YAMLObject, into batch: inout GatewayConfig.BatchSettings) {
        guard let section = root.optionalObject("batch") else { return }
        if let maxLeaves = section.optionalInt("maxLeaves") {
            if (1...100_000).contains(maxLeaves) { batch.maxLeaves = maxLeaves } else { reader.report(section.fieldPath("maxLeaves"), "must be 1–100000") }
        }
        if let maxAge = section.optionalDuration("maxAge") {
            if maxAge >= .milliseconds(10) { batch.maxAge = maxAge } else { reader.report(section.fieldPath("maxAge"), "must be at least 10ms") }
        }
        section.finish()
    }

    func logging(_ root: YAMLObject, into config: inout GatewayConfig) {
        guard let logging = root.optionalObject("logging") else { return }
        config.logLevel = logging.optionalChoice("level", Logger.Level.allCases.map(\.rawValue)).flatMap(Logger.Level.init(rawValue:)) ?? config.logLevel
        config.logFormat = GatewayConfig.parseLogFormat(logging)
        logging.finish()
    }
}
