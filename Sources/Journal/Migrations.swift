import GRDB

/// Versioned schema. Never edit a shipped migration: add a new one. The journal's own tables come
/// first; the other owners' (`JournalTables`) follow, so there is one migrator for the file.
/// "v4-log-leaves" belongs to the Merkle log (Transparency) and "v5-ledger-outbox" to the ledger
/// outbox (Ledger): they shipped under those names before they moved. The compact observation
/// table (`CompactObservationsMigration`) comes last of all.
enum JournalMigrations {
    static func migrator(with tables: [JournalTables]) -> DatabaseMigrator {
        var migrator = DatabaseMigrator()
        for (identifier, sql) in own {
            migrator.registerMigration(identifier) { db in try db.execute(sql: sql) }
        }
        for owner in tables { owner.register(&migrator) }
        // After the owners': it carries over the Merkle log's leaf column when that exists.
        migrator.registerMigration(CompactObservationsMigration.identifier) { db in try CompactObservationsMigration.migrate(db) }
        return migrator
    }

    /// The journal's own migrations in the order they run: identifier, then SQL.
    private static let own: [(String, String)] = [
        ("v1-inbox-observations", inboxAndObservations),
        ("v2-signatures-quarantine", signaturesAndQuarantine),
        ("v3-device-configurations", deviceConfigurations),
        ("v7-inbox-packet-id", inboxPacketId),
        ("v8-inbox-cut-evidence", inboxCutEvidence),
    ]

    private static let inboxAndObservations = """
        CREATE TABLE inbox (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            topic TEXT NOT NULL,
            payload BLOB NOT NULL,
            qos INTEGER NOT NULL,
            received_at_ms INTEGER NOT NULL
        );
        CREATE TABLE observation (
            id TEXT PRIMARY KEY,
            inbox_seq INTEGER NOT NULL REFERENCES inbox(seq),
            device_id TEXT NOT NULL,
            metric_code INTEGER NOT NULL,
            effective_at_ms INTEGER NOT NULL,
            issued_at_ms INTEGER NOT NULL,
            implausible INTEGER NOT NULL,
            resource BLOB NOT NULL
        );
        CREATE INDEX observation_by_device ON observation(device_id, effective_at_ms);
        CREATE INDEX observation_by_issued ON observation(issued_at_ms);
        CREATE TABLE dead_letter (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            inbox_seq INTEGER NOT NULL REFERENCES inbox(seq),
            topic TEXT NOT NULL,
            device_id TEXT,
            kind TEXT NOT NULL,
            reason TEXT NOT NULL,
            created_at_ms INTEGER NOT NULL
        );
        CREATE TABLE cursor (
            name TEXT PRIMARY KEY,
            seq INTEGER NOT NULL
        );
        """

    private static let signaturesAndQuarantine = """
        ALTER TABLE observation ADD COLUMN jws TEXT;
        ALTER TABLE observation ADD COLUMN signed_at_ms INTEGER;
        ALTER TABLE observation ADD COLUMN signer_thumbprint TEXT;
        ALTER TABLE observation ADD COLUMN quarantine_reason TEXT;
        CREATE INDEX observation_quarantined ON observation(quarantine_reason) WHERE quarantine_reason IS NOT NULL;
        """

    // Configurations that devices taught the gateway (IEEE 11073 extended configurations),
    // per (system id, configuration id), so a re-association is accepted at once.
    private static let deviceConfigurations = """
        CREATE TABLE device_configuration (
            system_id TEXT NOT NULL,
            config_id INTEGER NOT NULL,
            encoded BLOB NOT NULL,
            learned_at_ms INTEGER NOT NULL,
            PRIMARY KEY (system_id, config_id)
        );
        """

    // The MQTT packet identifier of each QoS 1 message, so a broker's redelivery after a
    // crash (same identifier, topic and payload) is recognised (`RecentDeliveries`).
    private static let inboxPacketId = "ALTER TABLE inbox ADD COLUMN packet_id INTEGER"

    // A message the router refused to journal whole (oversized payload, overlong topic or
    // device id): the row keeps a bounded prefix, and these the length and SHA-256 of all of it.
    private static let inboxCutEvidence = """
        ALTER TABLE inbox ADD COLUMN cut_kind TEXT;
        ALTER TABLE inbox ADD COLUMN cut_reason TEXT;
        ALTER TABLE inbox ADD COLUMN topic_bytes INTEGER;
        ALTER TABLE inbox ADD COLUMN topic_sha256 TEXT;
        ALTER TABLE inbox ADD COLUMN payload_bytes INTEGER;
        ALTER TABLE inbox ADD COLUMN payload_sha256 TEXT;
        CREATE INDEX dead_letter_by_time ON dead_letter(created_at_ms);
        """
}
