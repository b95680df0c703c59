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

    /// The Merkle log's checkpoints (`transparencyLog:`, formerly `log:`); nil means leaves are
    /// appended but nothing is signed.
    public var log: LogSettings?

    /// What the file says in a deprecated way, each naming its replacement: `Gateway` logs them
    /// as warnings at start and `config check` prints them.
    public var deprecations: [String] = []

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

    /// `ledger:`: where batches are anchored (Configuration/LedgerConfiguration.swift).
    public var ledger: LedgerSettings

    /// `journal.retention`: anchored readings older than this may be pruned (nil keeps everything).
    public var retention: Duration? = .seconds(30 * 86_400)
    /// How long a subscribed profile may hear nothing, while devices are enrolled, before
    /// `/readyz` warns about it (`profiles.silenceWarning`).
    public var silentProfileGrace: Duration = .seconds(600)
    /// `journal.deadLetterRetention`: dead letters written longer ago are pruned with the inbox
    /// records that were their only evidence, by retention's two clocks (nil keeps them).
    public var deadLetterRetention: Duration? = .seconds(90 * 86_400)
    /// `journal.integrityCheck`: how often `PRAGMA quick_check` runs while the gateway runs (it
    /// also runs at every start).
    public var integrityCheckInterval: Duration = .seconds(3600)
    /// `journal.maxClockSkew`: how far the wall clock may run ahead of the newest time the
    /// journal recorded before this start (plus the time since, on the monotonic clock) before
    /// pruning pauses with an alarm.
    public var maxClockSkew: Duration = .seconds(86_400)

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
        let sections = ConfigSections(reader: reader, baseDirectory: baseDirectory)
        var config = sections.gateway(root)
        sections.mqtt(root, into: &config)
        sections.profiles(root, into: &config)
        sections.journal(root, into: &config)
        config.identity = sections.identity(root)
        config.log = sections.transparencyLog(root, deprecations: &config.deprecations)
        sections.batch(root, into: &config.batch)
        sections.ledger(root, into: &config.ledger)
        sections.logging(root, into: &config)
        config.http = parseHTTP(root, resolve: sections.resolve)
        root.finish()
        try reader.throwIfIssues()
        return config
    }
}
