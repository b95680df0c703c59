import Foundation
import GRDB

/// "v9-compact-observations" (issue #16): the observation table rebuilt compact. The JWS text
/// (about 210 bytes, and the 43-byte thumbprint beside it) becomes a reference to its header
/// (`jws_header`: the header JSON around its `iat`, one row per signing certificate), the `iat`
/// and the raw 64-byte r‖s; reading ids are kept as 16 bytes (`ObservationKey`). Indexes: only
/// those a query plan uses (EXPLAIN QUERY PLAN, docs/BENCHMARKS.md): `observation_by_issued`
/// goes (the `since` queries scan in rowid order, their ORDER BY), the device index keeps only
/// `device_id` (rowid order within a device, no sort). Every row keeps its rowid, so the
/// journal order and every leaf stay as they were.
///
/// Registered after the other owners' migrations: their columns on the table (the Merkle log's
/// `leaf_index`) and the indexes on them are carried over; an owner that registers later adds
/// its columns to the compact table.
enum CompactObservationsMigration {
    static let identifier = "v9-compact-observations"

    /// The columns this migration rewrites; any other (the Merkle log's `leaf_index`, or what
    /// another owner added) is carried over as it is, with the indexes on it.
    static let rewritten: Set<String> = [
        "id", "inbox_seq", "device_id", "metric_code", "effective_at_ms", "issued_at_ms", "implausible", "resource",
        "jws", "signed_at_ms", "signer_thumbprint", "quarantine_reason",
    ]
    /// The old indexes this migration redefines or drops (no query plan used them as they were).
    static let replacedIndexes: Set<String> = ["observation_by_device", "observation_by_issued", "observation_quarantined"]

    static func migrate(_ db: Database) throws {
        let carried = try db.columns(in: "observation").filter { !rewritten.contains($0.name) }
        let carriedIndexes = try String.fetchAll(db, sql: "SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'observation' AND sql IS NOT NULL AND name NOT IN (\(replacedIndexes.map { "'\($0)'" }.joined(separator: ", ")))")
        let carriedDefinitions = carried.map { ",\n    \($0.name.quotedDatabaseIdentifier) \($0.type)" }.joined()
        try db.execute(sql: """
            CREATE TABLE jws_header (
                id INTEGER PRIMARY KEY,
                prefix BLOB NOT NULL,
                suffix BLOB NOT NULL,
                thumbprint TEXT NOT NULL,
                UNIQUE (prefix, suffix, thumbprint)
            );
            CREATE TABLE observation_compact (
                seq INTEGER PRIMARY KEY,
                id BLOB NOT NULL UNIQUE,
                inbox_seq INTEGER NOT NULL REFERENCES inbox(seq),
                device_id TEXT NOT NULL,
                metric_code INTEGER NOT NULL,
                effective_at_ms INTEGER NOT NULL,
                issued_at_ms INTEGER NOT NULL,
                implausible INTEGER NOT NULL,
                resource BLOB NOT NULL,
                header_id INTEGER REFERENCES jws_header(id),
                iat INTEGER,
                signature BLOB,
                jws TEXT,
                signed_at_ms INTEGER,
                quarantine_reason TEXT\(carriedDefinitions)
            );
            """)
        try copyRows(db, carrying: carried.map(\.name))
        try db.execute(sql: """
            DROP TABLE observation;
            ALTER TABLE observation_compact RENAME TO observation;
            CREATE INDEX observation_by_device ON observation(device_id);
            CREATE INDEX observation_quarantined ON observation(quarantine_reason) WHERE quarantine_reason IS NOT NULL;
            """)
        for index in carriedIndexes { try db.execute(sql: index) }
    }

    /// Every row, in rowid order, with its JWS split (`StoredSignature`).
    private static func copyRows(_ db: Database, carrying carried: [String]) throws {
        let carriedNames = carried.map { ", " + $0.quotedDatabaseIdentifier }.joined()
        let insert = try db.makeStatement(sql: """
            INSERT INTO observation_compact (seq, id, inbox_seq, device_id, metric_code, effective_at_ms, issued_at_ms, implausible, resource,
              header_id, iat, signature, jws, signed_at_ms, quarantine_reason\(carriedNames))
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?\(String(repeating: ", ?", count: carried.count)))
            """)
        var headers = SignatureHeaders(db)
        let rows = try Row.fetchCursor(db, sql: "SELECT rowid AS old_rowid, * FROM observation ORDER BY rowid")
        while let row = try rows.next() {
            let jws: String? = row["jws"]
            let signature = jws.map { ObservationSignature(jws: $0, signedAtMs: row["signed_at_ms"] ?? 0, certificateThumbprint: row["signer_thumbprint"] ?? "") }
            var values: [DatabaseValue] = [
                row["old_rowid"], ObservationKey.value(row["id"]), row["inbox_seq"], row["device_id"], row["metric_code"],
                row["effective_at_ms"], row["issued_at_ms"], row["implausible"], row["resource"],
            ]
            var signatureColumns = try headers.columns(signature)
            // A row signed before signed_at_ms existed keeps NULL there, as it had.
            if jws != nil, (row["signed_at_ms"] as DatabaseValue).isNull { signatureColumns[4] = .null }
            values += signatureColumns
            values.append(row["quarantine_reason"])
            values += carried.map { row[$0] as DatabaseValue }
            try insert.execute(arguments: StatementArguments(values))
        }
    }
}
