import Foundation
import Journal
import Ledger
import Logging
import MQTTIngest
import StaffAPI
import StrictYAML
import Timing

/// The daemon's configuration file (YAML). Unknown keys are errors with their path.
/// Relative paths are resolved against the directory of the configuration file.
public struct GatewayConfig: Sendable {
    public var gatewayId: String
    public var stateDirectory: String
    public var mqtt: MQTTSettings
    public var profilesDirectory: String
    public var assignmentsFile: String?
    public var durability: Durability
    public var maxJournalBytes: Int64
    public var logLevel: Logger.Level
    /// Where device keys and certificates live; nil means signing is not configured and every
    /// reading is journaled unsigned and quarantined.
    public var identity: IdentitySettings?
    /// The staff HTTP API (`http:` section); nil leaves it off. Parsed in Service/ServiceConfiguration.swift.
    public var http: StaffAPIConfiguration? = nil
    /// `logging.format`: auto, journald or text.
    public var logFormat: LogFormat = .auto

    /// The Merkle log's checkpoints (`log:`); nil means leaves are appended but nothing is signed.
    public var log: LogSettings?

    public struct LogSettings: Sendable, Hashable {
        public var origin: String
        public var gatewayCertificate: String
        public var gatewayKey: String

        public init(origin: String, gatewayCertificate: String, gatewayKey: String) {
            self.origin = origin
            self.gatewayCertificate = gatewayCertificate
            self.gatewayKey = gatewayKey
        }
    }

    /// `batch:`: when the batcher signs a checkpoint and cuts a batch for the ledger.
    public var batch = BatchSettings()

    /// The batcher's settings (`Ledger.BatchSettings`).
    public typealias BatchSettings = Ledger.BatchSettings

    /// `ledger:`: where batches are anchored. Defaults to the embedded ledger in the state directory.
    public var ledger: LedgerSettings

    public struct LedgerSettings: Sendable, Hashable {
        public enum Kind: String, Sendable, CaseIterable { case embedded }
        public var kind: Kind
        /// The embedded ledger's SQLite file.
        public var path: String
        /// Its signing key; nil means `ledger.key` beside `path`, generated on first start.
        public var key: String?
        public var retryInitial: Duration
        public var retryMaximum: Duration
        public var healthProbe: Duration

        public init(kind: Kind = .embedded, path: String, key: String? = nil, retryInitial: Duration = .milliseconds(250),
                    retryMaximum: Duration = .seconds(30), healthProbe: Duration = .seconds(1)) {
            self.kind = kind
            self.path = path
            self.key = key
            self.retryInitial = retryInitial
            self.retryMaximum = retryMaximum
            self.healthProbe = healthProbe
        }
    }

    /// `journal.retention`: anchored readings older than this may be pruned (nil keeps everything).
    public var retention: Duration? = .seconds(30 * 86_400)

    public struct IdentitySettings: Sendable, Hashable {
        public var keystore: String
        public var caCertificate: String?
        public var crl: String?

        public init(keystore: String, caCertificate: String? = nil, crl: String? = nil) {
            self.keystore = keystore
            self.caCertificate = caCertificate
            self.crl = crl
        }
    }

    public static let defaultMaxJournalBytes: Int64 = 2 << 30

    public init(gatewayId: String, stateDirectory: String, mqtt: MQTTSettings, profilesDirectory: String,
                assignmentsFile: String? = nil, durability: Durability = .process,
                maxJournalBytes: Int64 = GatewayConfig.defaultMaxJournalBytes, logLevel: Logger.Level = .info,
                identity: IdentitySettings? = nil, log: LogSettings? = nil) {
        self.gatewayId = gatewayId
        self.stateDirectory = stateDirectory
        self.mqtt = mqtt
        self.profilesDirectory = profilesDirectory
        self.assignmentsFile = assignmentsFile
        self.durability = durability
        self.maxJournalBytes = maxJournalBytes
        self.logLevel = logLevel
        self.identity = identity
        self.log = log
        ledger = LedgerSettings(path: (stateDirectory as NSString).appendingPathComponent("ledger.sqlite"))
    }

    public static func load(path: String) throws(YAMLIssues) -> GatewayConfig {
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
            throw YAMLIssues([YAMLIssue(file: path, path: "", message: "cannot be read")])
        }
        let base = (URL(fileURLWithPath: path).standardizedFileURL.deletingLastPathComponent()).path
        return try parse(text, file: path, baseDirectory: base)
    }

    public static func parse(_ text: String, file: String, baseDirectory: String) throws(YAMLIssues) -> GatewayConfig {
        let reader = YAMLReader(file: file)
        guard let root = reader.root(text) else { throw YAMLIssues(reader.issues) }
        func resolve(_ path: String) -> String {
            path.hasPrefix("/") ? path : URL(fileURLWithPath: baseDirectory).appendingPathComponent(path).standardizedFileURL.path
        }

        let gateway = root.optionalObject("gateway")
        if !root.has("gateway") { reader.report("gateway", "is required") }
        let id = gateway?.string("id") ?? "wardgate"
        let state = resolve(gateway?.optionalString("stateDirectory") ?? "./state")
        gateway?.finish()

        let mqttObject = root.optionalObject("mqtt")
        var mqtt = MQTTSettings(clientId: "wardgate-\(id)")
        if let m = mqttObject {
            mqtt.host = m.optionalString("host") ?? mqtt.host
            if let port = m.optionalInt("port") {
                if (1...65535).contains(port) { mqtt.port = port } else { reader.report(m.fieldPath("port"), "must be 1–65535") }
            }
            mqtt.clientId = m.optionalString("clientId") ?? mqtt.clientId
            switch m.optionalChoice("protocol", ["5", "3.1.1"]) {
            case "3.1.1": mqtt.protocolVersion = .v311
            default: mqtt.protocolVersion = .v5
            }
            if let keepAlive = m.optionalDuration("keepAlive") { mqtt.keepAliveSeconds = max(5, Int(keepAlive.inSeconds)) }
            if let expiry = m.optionalDuration("sessionExpiry") { mqtt.sessionExpirySeconds = UInt32(clamping: Int64(expiry.inSeconds)) }
            mqtt.username = m.optionalString("username")
            if let passwordFile = m.optionalString("passwordFile") {
                let path = resolve(passwordFile)
                if let secret = try? String(contentsOfFile: path, encoding: .utf8) {
                    mqtt.password = secret.trimmingCharacters(in: .whitespacesAndNewlines)
                } else {
                    reader.report(m.fieldPath("passwordFile"), "cannot read \(path)")
                }
            }
            if let tls = m.optionalObject("tls") {
                let ca = tls.string("caFile").map(resolve)
                let cert = tls.optionalString("certFile").map(resolve)
                let key = tls.optionalString("keyFile").map(resolve)
                if (cert == nil) != (key == nil) { reader.report(tls.path, "certFile and keyFile go together (mTLS)") }
                for (field, path) in [("caFile", ca), ("certFile", cert), ("keyFile", key)] {
                    if let path, !FileManager.default.fileExists(atPath: path) { reader.report(tls.fieldPath(field), "no such file \(path)") }
                }
                if let ca { mqtt.tls = MQTTSettings.TLS(caFile: ca, certFile: cert, keyFile: key) }
                tls.finish()
            }
            if let reconnect = m.optionalObject("reconnect") {
                mqtt.reconnect.initial = reconnect.optionalDuration("initial") ?? mqtt.reconnect.initial
                mqtt.reconnect.maximum = reconnect.optionalDuration("maximum") ?? mqtt.reconnect.maximum
                reconnect.finish()
            }
            m.finish()
        }

        let profiles = root.optionalObject("profiles")
        let profilesDirectory = resolve(profiles?.optionalString("directory") ?? "./DeviceProfiles")
        let assignments = profiles?.optionalString("assignments").map(resolve)
        profiles?.finish()

        let journal = root.optionalObject("journal")
        let durability = journal?.optionalChoice("durability", Durability.allCases.map(\.rawValue)).flatMap(Durability.init(rawValue:)) ?? .process
        let maxBytes = journal?.optionalByteCount("maxBytes") ?? defaultMaxJournalBytes
        var retention: Duration? = .seconds(30 * 86_400)
        if journal?.optionalString("retention") == "forever" {
            retention = nil
        } else if let value = journal?.optionalDuration("retention") {
            retention = value
        }
        journal?.finish()

        var identity: IdentitySettings?
        if let section = root.optionalObject("identity") {
            if let keystore = section.string("keystore").map(resolve) {
                identity = IdentitySettings(
                    keystore: keystore, caCertificate: section.optionalString("caCertificate").map(resolve),
                    crl: section.optionalString("crl").map(resolve))
            }
            section.finish()
        }

        var log: LogSettings?
        if let section = root.optionalObject("log") {
            let origin = section.string("origin")
            let certificate = section.string("gatewayCertificate").map(resolve)
            let key = section.string("gatewayKey").map(resolve)
            if section.has("checkpointInterval") {
                reader.report(section.fieldPath("checkpointInterval"), "moved to batch.maxAge: a checkpoint is signed whenever a batch is cut")
            }
            if let origin, origin.isEmpty || origin.contains(where: { $0.isWhitespace || $0 == "+" }) {
                reader.report(section.fieldPath("origin"), "must be a non-empty name without spaces or '+', e.g. wardgate/hospital.example/ward-7b")
            }
            if let origin, let certificate, let key {
                log = LogSettings(origin: origin, gatewayCertificate: certificate, gatewayKey: key)
            }
            section.finish()
        }

        var batch = BatchSettings()
        if let section = root.optionalObject("batch") {
            if let maxLeaves = section.optionalInt("maxLeaves") {
                if (1...100_000).contains(maxLeaves) { batch.maxLeaves = maxLeaves } else { reader.report(section.fieldPath("maxLeaves"), "must be 1–100000") }
            }
            if let maxAge = section.optionalDuration("maxAge") {
                if maxAge >= .milliseconds(10) { batch.maxAge = maxAge } else { reader.report(section.fieldPath("maxAge"), "must be at least 10ms") }
            }
            section.finish()
        }

        var ledger = LedgerSettings(path: (state as NSString).appendingPathComponent("ledger.sqlite"))
        if let section = root.optionalObject("ledger") {
            if let kind = section.optionalChoice("kind", LedgerSettings.Kind.allCases.map(\.rawValue)).flatMap(LedgerSettings.Kind.init(rawValue:)) {
                ledger.kind = kind
            }
            ledger.path = section.optionalString("path").map(resolve) ?? ledger.path
            ledger.key = section.optionalString("key").map(resolve)
            if let retry = section.optionalObject("retry") {
                ledger.retryInitial = retry.optionalDuration("initial") ?? ledger.retryInitial
                ledger.retryMaximum = retry.optionalDuration("maximum") ?? ledger.retryMaximum
                if ledger.retryMaximum < ledger.retryInitial { reader.report(retry.fieldPath("maximum"), "must not be below initial") }
                retry.finish()
            }
            ledger.healthProbe = section.optionalDuration("healthProbe") ?? ledger.healthProbe
            section.finish()
        }

        let logging = root.optionalObject("logging")
        let level = logging?.optionalChoice("level", Logger.Level.allCases.map(\.rawValue)).flatMap(Logger.Level.init(rawValue:)) ?? .info
        let logFormat = parseLogFormat(logging)
        logging?.finish()

        let http = parseHTTP(root, resolve: resolve)

        root.finish()
        try reader.throwIfIssues()
        var config = GatewayConfig(gatewayId: id, stateDirectory: state, mqtt: mqtt, profilesDirectory: profilesDirectory,
                             assignmentsFile: assignments, durability: durability, maxJournalBytes: maxBytes, logLevel: level,
                             identity: identity, log: log)
        config.http = http
        config.logFormat = logFormat
        config.batch = batch
        config.ledger = ledger
        config.retention = retention
        return config
    }

    /// What `wardgate config init` prints.
    public static let defaultYAML = """
        # wardgate configuration. Relative paths are relative to this file's directory.
        # Unknown keys are errors, so a typo never silently falls back to a default.

        gateway:
          id: ward-7b                   # names this gateway in logs and (later) its log origin
          stateDirectory: ./state       # the journal lives here; give it its own disk quota

        mqtt:
          host: 127.0.0.1
          port: 1883
          clientId: wardgate-ward-7b    # must be stable: the broker keeps our session under it
          protocol: 5                   # 5 or 3.1.1
          keepAlive: 30s
          sessionExpiry: 7d             # MQTT 5: how long the broker queues for us while we are down
          # username: wardgate
          # passwordFile: ./secrets/mqtt-password
          # tls:                        # omit for plain TCP on loopback
          #   caFile: ./tls/ca.pem      # verifies the broker
          #   certFile: ./tls/gateway.pem   # mTLS client certificate (with keyFile)
          #   keyFile: ./tls/gateway.key
          # reconnect: {initial: 250ms, maximum: 30s}   # exponential backoff with jitter

        profiles:
          directory: ./DeviceProfiles   # every *.yml here is loaded; an invalid one stops startup
          # assignments: ./assignments.yml   # device id -> patient and bed; reloaded when it changes

        journal:
          durability: process           # process: survives kill -9 (WAL, synchronous=NORMAL)
                                        # power: survives power loss (synchronous=FULL, fsync per commit)
          maxBytes: 2GiB                # hard quota: at the limit, acknowledgements stop (the broker holds messages)
          retention: 30d                # anchored readings older than this are pruned ("forever" keeps them)

        identity:                       # per-device signing keys (see docs/identity.md)
          keystore: ./keys              # wardgate device enroll --keystore ./keys ...
          caCertificate: ./ca/ca.pem    # the ward CA that issued the device certificates
          # crl: ./ca/crl.pem           # revocations; reloaded when it changes and on SIGHUP

        log:                            # the Merkle log's signed checkpoints (see docs/proof-bundle.md)
          origin: wardgate/hospital.example/ward-7b
          gatewayCertificate: ./keys/gateways/ward-7b/cert.pem   # wardgate gateway enroll --id ward-7b ...
          gatewayKey: ./keys/gateways/ward-7b/key.pem

        batch:                          # a checkpoint is signed and a batch cut for the ledger when either is reached
          maxLeaves: 1000
          maxAge: 1s

        ledger:                         # where batches are anchored (see docs/ledger.md)
          kind: embedded                # a signed, hash-chained block file on this gateway
          path: ./state/ledger.sqlite
          # key: ./keys/ledger.key      # default: ledger.key beside path, generated (0600) on first start
          retry: {initial: 250ms, maximum: 30s}   # full-jitter backoff while the ledger is unreachable
          healthProbe: 1s               # while backing off, resume as soon as the ledger answers

        logging:
          level: info                   # trace, debug, info, notice, warning, error, critical
          format: auto                  # auto (journald under systemd, else text), journald, text

        # http:                         # the staff HTTP API (docs/deployment.md); omit to leave it off
        #   listen: 127.0.0.1:8080      # a non-loopback address needs bearerTokenFile or tls.clientCAFile
        #   bearerTokenFile: ./secrets/api-token
        #   tls: {certFile: ./tls/api.pem, keyFile: ./tls/api.key, clientCAFile: ./tls/staff-ca.pem}
        #   rateLimit: {requestsPerSecond: 20, burst: 40}   # per client address; 429 beyond
        """
}
