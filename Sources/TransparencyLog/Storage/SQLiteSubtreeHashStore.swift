import Foundation
import GRDB

/// Stores the tree's tiles in a SQLite database owned by someone else (the
/// gateway's journal), in tables prefixed `log_`.
///
/// The owner registers the migrations with its own migrator and runs them:
///
///     var migrator = DatabaseMigrator()
///     // … the journal's migrations …
///     SQLiteSubtreeHashStore.registerMigrations(&migrator)
///     try migrator.migrate(dbPool)
///     let tree = try LogTree(store: SQLiteSubtreeHashStore(writer: dbPool))
///
/// and can then commit its own rows and the tree in one transaction:
///
///     try dbPool.write { db in
///         try insertObservations(db)
///         try tree.append(contentsOf: leafHashes, in: db)
///     }
public struct SQLiteSubtreeHashStore: SubtreeHashStore {
    public let writer: any DatabaseWriter

    /// `writer` must already be migrated with `registerMigrations(_:)`.
    public init(writer: any DatabaseWriter) {
        self.writer = writer
    }

    /// Adds the `log_` tables to the owner's migrator.
    public static func registerMigrations(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("transparencyLog.v1") { db in
            try db.execute(sql: """
                CREATE TABLE log_tree_state (
                    id INTEGER PRIMARY KEY CHECK (id = 1),
                    tree_size INTEGER NOT NULL CHECK (tree_size >= 0)
                );
                INSERT INTO log_tree_state (id, tree_size) VALUES (1, 0);
                CREATE TABLE log_tiles (
                    level INTEGER NOT NULL CHECK (level >= 0 AND level % 4 = 0),
                    tile_index INTEGER NOT NULL CHECK (tile_index >= 0),
                    hashes BLOB NOT NULL CHECK (length(hashes) BETWEEN 32 AND 8192 AND length(hashes) % 32 = 0),
                    PRIMARY KEY (level, tile_index)
                );
                CREATE TABLE log_checkpoints (
                    tree_size INTEGER PRIMARY KEY CHECK (tree_size >= 0),
                    root_hash BLOB NOT NULL CHECK (length(root_hash) = 32),
                    note TEXT NOT NULL
                );
                """)
        }
    }

    public func read<Result>(_ body: (any TreeStorageReader) throws -> Result) throws -> Result {
        try writer.read { db in try body(SQLiteTreeAccess(db: db)) }
    }

    public func write<Result: Sendable>(_ body: (any TreeStorageTransaction) throws -> Result) throws -> Result {
        try writer.write { db in try body(SQLiteTreeAccess(db: db)) }
    }
}

/// Reads and writes the `log_` tables through one connection.
struct SQLiteTreeAccess: TreeStorageTransaction {
    let db: Database

    func persistedSize() throws -> UInt64 {
        try Self.storedSize(db)
    }

    static func storedSize(_ db: Database) throws -> UInt64 {
        let size = try Int64.fetchOne(db, sql: "SELECT tree_size FROM log_tree_state WHERE id = 1") ?? 0
        guard let unsigned = UInt64(exactly: size) else {
            throw TransparencyLogError.corruptTile(level: 0, tileIndex: 0, reason: "negative stored tree size \(size)")
        }
        return unsigned
    }

    func tile(_ id: TileID) throws -> [MerkleHash]? {
        guard let index = Int64(exactly: id.index) else { return nil }
        let statement = try db.cachedStatement(sql: "SELECT hashes FROM log_tiles WHERE level = ? AND tile_index = ?")
        guard let blob = try Data.fetchOne(statement, arguments: [id.level, index]) else { return nil }
        guard let hashes = blob.withUnsafeBytes({ HashBlob.decode($0) }), !hashes.isEmpty else {
            throw TransparencyLogError.corruptTile(level: id.level, tileIndex: id.index, reason: "blob of \(blob.count) bytes")
        }
        return hashes
    }

    func persist(_ update: TreeUpdate) throws {
        let stored = try persistedSize()
        guard stored == update.previousSize else {
            throw TransparencyLogError.storeOutOfSync(expectedSize: update.previousSize, storedSize: stored)
        }
        guard let newSize = Int64(exactly: update.newSize) else { throw TransparencyLogError.treeFull }
        let upsertTile = try db.cachedStatement(sql: """
            INSERT INTO log_tiles (level, tile_index, hashes) VALUES (?, ?, ?)
            ON CONFLICT (level, tile_index) DO UPDATE SET hashes = excluded.hashes
            """)
        for tile in update.tiles {
            guard let index = Int64(exactly: tile.id.index) else { throw TransparencyLogError.treeFull }
            try upsertTile.execute(arguments: [tile.id.level, index, Data(HashBlob.encode(tile.hashes))])
        }
        // The size goes last: if a tile write fails, the stored size still
        // describes complete data.
        try db.cachedStatement(sql: """
            INSERT INTO log_tree_state (id, tree_size) VALUES (1, ?)
            ON CONFLICT (id) DO UPDATE SET tree_size = excluded.tree_size
            """).execute(arguments: [newSize])
    }

    func onCompletion(_ handler: @escaping @Sendable (Bool, UInt64?) -> Void) {
        db.afterNextTransaction(
            onCommit: { db in handler(true, try? SQLiteTreeAccess.storedSize(db)) },
            onRollback: { _ in handler(false, nil) }
        )
    }
}

extension LogTree where Store == SQLiteSubtreeHashStore {
    /// Opens the tree stored in `writer` (migrated with `registerMigrations`).
    public convenience init(writer: any DatabaseWriter) throws {
        try self.init(store: SQLiteSubtreeHashStore(writer: writer))
    }

    /// Appends leaf hashes inside the caller's open transaction on `db` (which
    /// must be a connection of this tree's `writer`), so the caller's rows and
    /// the tree commit or roll back together. Queries see the new leaves once
    /// the transaction commits. Throws `notInTransaction` outside a transaction.
    @discardableResult
    public func append(contentsOf leafHashes: some Collection<MerkleHash>, in db: Database) throws -> Range<UInt64> {
        guard db.isInsideTransaction else { throw TransparencyLogError.notInTransaction }
        return try append(contentsOf: leafHashes, using: SQLiteTreeAccess(db: db))
    }
}
