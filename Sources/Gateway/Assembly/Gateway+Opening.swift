import EmbeddedLedger
import FabricLedger
import Journal
import Ledger
import Logging
import Processing
import SigningKeys
import Transparency
import TransparencyLog

extension Gateway {
    /// The tables the other modules keep in the journal file, in the order their migrations run
    /// after the journal's own: one migrator for the whole file.
    public static let journalTables: [JournalTables] = [LeafIndex.tables, Outbox.tables, ManagerSessionStore.tables]

    /// Opens the configured journal with every module's tables (the daemon and every CLI
    /// command that reads the state directory open it this way).
    public static func openJournal(_ config: GatewayConfig, maxBytes: Int64? = nil) throws(JournalError) -> Journal {
        try Journal(directory: config.stateDirectory, durability: config.durability, maxBytes: maxBytes, tables: journalTables)
    }

    /// Opens the configured journal for reading only (every CLI command that only looks): a
    /// missing journal is `.missing`, and nothing is created or migrated.
    public static func openJournalForReading(_ config: GatewayConfig) throws(JournalError) -> Journal {
        try Journal(readingAt: config.stateDirectory, tables: journalTables)
    }

    /// The configured embedded ledger, trusting this gateway's checkpoint key for the log's
    /// origin (for the demo and tools that open it beside a gateway).
    public static func embeddedLedger(config: GatewayConfig, logger: Logger) throws(GatewayError) -> EmbeddedLedger {
        guard let log = config.log else { throw .ledger("a ledger needs the transparencyLog section: without a gateway key nothing is signed to anchor") }
        let verifier: any NoteVerifier
        do {
            verifier = try ECDSAP256NoteSigner(keyName: log.origin, privateKey: PrivateKeyFile.loadP256(log.gatewayKey)).verifier
        } catch {
            throw .log("\(error)")
        }
        return try embeddedLedger(config: config, origin: log.origin, verifier: verifier, logger: logger)
    }

    /// The configured Fabric adapter; its classified failures count in
    /// `wardgate_ledger_fabric_failures_total{reason}`.
    static func fabricLedger(config: GatewayConfig, logger: Logger, metrics: GatewayMetrics) throws(GatewayError) -> FabricLedger {
        guard let settings = config.ledger.fabric else { throw .ledger("kind fabric needs the ledger.fabric section") }
        var ledgerLogger = logger
        ledgerLogger[metadataKey: "component"] = "ledger"
        do {
            return try FabricLedger(settings: settings, logger: ledgerLogger, onFailure: { metrics.record($0) })
        } catch {
            throw .ledger(error.description)
        }
    }

    /// A remote ledger whose anchors serialize per origin (Fabric: every anchor reads and writes
    /// the origin's head) takes everything pending in one anchor; the embedded one, batch by batch.
    static func window(for ledger: any LedgerClient) -> LedgerForwarder.Window {
        ledger.kind == FabricReceipt.kind ? .coalescing : .oneBatch
    }

    static func embeddedLedger(config: GatewayConfig, origin: String, verifier: any NoteVerifier, logger: Logger) throws(GatewayError) -> EmbeddedLedger {
        var ledgerLogger = logger
        ledgerLogger[metadataKey: "component"] = "ledger"
        do {
            return try EmbeddedLedger(path: config.ledger.path, keyPath: config.ledger.key, trustedGateways: [origin: verifier], logger: ledgerLogger)
        } catch {
            throw .ledger(error.description)
        }
    }
}
