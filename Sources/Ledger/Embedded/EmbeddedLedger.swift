import Crypto
import Foundation
import GRDB
import Journal
import Ledger
import Logging
import SigningKeys
import TransparencyLog

/// Why the embedded ledger could not open.
public enum LedgerError: Error, Sendable, CustomStringConvertible {
    case cannotOpen(path: String, reason: String)
    case key(path: String, reason: String)
    case keyMismatch(path: String, expected: String, found: String)
    case storage(String)
    /// A read-only command was pointed at a ledger file (or key) that is not there.
    case missing(path: String)

    public var description: String {
        switch self {
        case .missing(let path): "there is no ledger file at \(path) (nothing was created; check ledger.path and ledger.key in the configuration)"
        case .cannotOpen(let path, let reason): "ledger \(path) cannot be opened: \(reason)"
        case .key(let path, let reason): "ledger key \(path): \(reason)"
        case .keyMismatch(let path, let expected, let found):
            "ledger key \(path) has key id \(found), but this ledger's blocks are signed by key id \(expected); refusing to sign with another key"
        case .storage(let reason): "ledger storage: \(reason)"
        }
    }
}

/// The embedded ledger: hash-chained blocks in their own SQLite file (synchronous=FULL: an
/// issued receipt survives power loss), each signed with the ledger's own P-256 key.
///
/// Before anchoring it checks the checkpoint's signature against the key trusted for its origin
/// (and pinned on first anchor), and the consistency proof against the last checkpoint it holds
/// for that origin. A checkpoint that forks the log is a permanent failure and a loud alarm.
public final class EmbeddedLedger: LedgerClient {
    public let kind = EmbeddedReceipt.kind
    public let path: String
    public let keyPath: String
    /// The ledger's public key: DER SubjectPublicKeyInfo, PEM (`wardgate ledger key`) and key id.
    public let publicKeyDER: [UInt8]
    public let publicKeyPEM: String
    public let keyID: String
    private let queue: DatabaseQueue
    /// The private key's raw scalar; a key object is rebuilt per block (once a batch), which
    /// keeps this type plainly Sendable.
    private let privateKeyBytes: [UInt8]
    private let trustedGateways: [String: any NoteVerifier]
    private let logger: Logger

    /// The key file beside the ledger file: `ledger.sqlite` → `ledger.key`.
    public static func defaultKeyPath(forLedgerAt path: String) -> String {
        (path as NSString).deletingPathExtension + ".key"
    }

    /// Opens (or creates) the ledger. Without `keyPath` the key lives beside the file; a
    /// missing key file is generated (mode 0600). `trustedGateways` maps a log origin to the
    /// key its checkpoints must be signed with.
    public convenience init(path: String, keyPath: String? = nil, trustedGateways: [String: any NoteVerifier], logger: Logger) throws(LedgerError) {
        let keyPath = keyPath ?? EmbeddedLedger.defaultKeyPath(forLedgerAt: path)
        let key: P256.Signing.PrivateKey
        do {
            try FileManager.default.createDirectory(
                atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            try FileManager.default.createDirectory(
                atPath: (keyPath as NSString).deletingLastPathComponent, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            throw .cannotOpen(path: path, reason: "\(error)")
        }
        do throws(JournalError) {
            // Mode 0600 like the journal, whatever the umask: it holds every anchored checkpoint.
            try JournalFiles.prepare(directory: (path as NSString).deletingLastPathComponent, databasePath: path)
        } catch {
            if case .cannotOpen(_, let reason) = error { throw .cannotOpen(path: path, reason: reason) }
            throw .cannotOpen(path: path, reason: "\(error)")
        }
        do {
            if FileManager.default.fileExists(atPath: keyPath) {
                key = try PrivateKeyFile.loadP256(keyPath)
            } else {
                key = try PrivateKeyFile.createP256(at: keyPath)
                logger.notice("generated the embedded ledger's signing key", metadata: ["key": "\(keyPath)", "keyId": "\(LedgerKeyID.of(key.publicKey))"])
            }
        } catch {
            throw .key(path: keyPath, reason: "\(error)")
        }
        try self.init(path: path, keyPath: keyPath, key: key, readOnly: false, trustedGateways: trustedGateways, logger: logger)
    }

    /// Opens an existing ledger for reading only (`wardgate ledger verify|key`, the gateway's
    /// start check): it never creates the file, its directory or a key, and never migrates.
    public convenience init(readingAt path: String, keyPath: String? = nil, logger: Logger) throws(LedgerError) {
        let keyPath = keyPath ?? EmbeddedLedger.defaultKeyPath(forLedgerAt: path)
        guard FileManager.default.fileExists(atPath: path) else { throw .missing(path: path) }
        guard FileManager.default.fileExists(atPath: keyPath) else { throw .key(path: keyPath, reason: "the ledger key file is missing") }
        let key: P256.Signing.PrivateKey
        do {
            key = try PrivateKeyFile.loadP256(keyPath)
        } catch {
            throw .key(path: keyPath, reason: "\(error)")
        }
        try self.init(path: path, keyPath: keyPath, key: key, readOnly: true, trustedGateways: [:], logger: logger)
    }

    private init(path: String, keyPath: String, key: P256.Signing.PrivateKey, readOnly: Bool, trustedGateways: [String: any NoteVerifier], logger: Logger) throws(LedgerError) {
        self.path = path
        self.keyPath = keyPath
        self.trustedGateways = trustedGateways
        self.logger = logger
        privateKeyBytes = Array(key.rawRepresentation)
        publicKeyDER = Array(key.publicKey.derRepresentation)
        publicKeyPEM = key.publicKey.pemRepresentation
        keyID = LedgerKeyID.of(key.publicKey)
        do {
            var configuration = Configuration()
            configuration.busyMode = .timeout(10)
            configuration.readonly = readOnly
            if !readOnly { configuration.prepareDatabase { db in try db.execute(sql: "PRAGMA synchronous = FULL") } }
            queue = try DatabaseQueue(path: path, configuration: configuration)
            if readOnly {
                guard try queue.read({ db in try EmbeddedLedger.migrator.hasCompletedMigrations(db) }) else {
                    throw LedgerError.cannotOpen(path: path, reason: "it is not a wardgate ledger, or one not yet migrated")
                }
            } else {
                try EmbeddedLedger.migrator.migrate(queue)
            }
        } catch let error as LedgerError {
            throw error
        } catch {
            throw .cannotOpen(path: path, reason: "\(error)")
        }
        let spki = Array(key.publicKey.derRepresentation)
        let stored: [UInt8]?
        do {
            stored = try queue.read { db in try Data.fetchOne(db, sql: "SELECT value FROM ledger_meta WHERE name = 'public_key'").map { Array($0) } }
            if stored == nil, !readOnly {
                try queue.write { db in try db.execute(sql: "INSERT INTO ledger_meta (name, value) VALUES ('public_key', ?)", arguments: [Data(spki)]) }
            }
        } catch {
            throw .storage("\(error)")
        }
        if let stored, stored != spki {
            let expected = (try? P256.Signing.PublicKey(derRepresentation: stored)).map(LedgerKeyID.of) ?? "unknown"
            throw .keyMismatch(path: keyPath, expected: expected, found: LedgerKeyID.of(key.publicKey))
        }
    }

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1-blocks") { db in
            try db.execute(sql: """
                CREATE TABLE ledger_meta (name TEXT PRIMARY KEY, value BLOB NOT NULL);
                CREATE TABLE block (
                    height INTEGER PRIMARY KEY,
                    previous_hash BLOB NOT NULL,
                    time_ms INTEGER NOT NULL,
                    entry_count INTEGER NOT NULL,
                    entries_root BLOB NOT NULL,
                    hash BLOB NOT NULL,
                    signature BLOB NOT NULL
                );
                CREATE TABLE block_entry (
                    height INTEGER NOT NULL REFERENCES block(height),
                    idx INTEGER NOT NULL,
                    origin TEXT NOT NULL,
                    tree_size INTEGER NOT NULL,
                    root_hash BLOB NOT NULL,
                    checkpoint TEXT NOT NULL,
                    PRIMARY KEY (height, idx)
                );
                CREATE UNIQUE INDEX block_entry_by_checkpoint ON block_entry(origin, tree_size);
                CREATE TABLE gateway_key (origin TEXT PRIMARY KEY, key_id INTEGER NOT NULL, pinned_at_ms INTEGER NOT NULL);
                """)
        }
        return migrator
    }

    // MARK: LedgerClient

    public func health() async -> LedgerHealth {
        do {
            _ = try await queue.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM ledger_meta") }
            return .available
        } catch {
            return .unavailable("\(error)")
        }
    }

    public func receipt(for key: BatchKey) async throws -> LedgerReceipt? {
        try await queue.read { db in try EmbeddedLedger.storedReceipt(for: key, in: db, keyID: self.keyID)?.receipt }
    }

    public func submit(_ batch: LedgerBatch) async -> SubmitOutcome {
        do {
            return try await queue.write { db in try self.anchor(batch, in: db) }
        } catch {
            // A storage error on our own file: the batch itself may be fine.
            return .retryable("ledger storage: \(error)")
        }
    }

    /// Why a batch is not anchored: the outcome the submit answers with. Storage errors are
    /// thrown as themselves (the batch may be fine).
    private struct Refusal: Error {
        let outcome: SubmitOutcome
        static func permanent(_ reason: String) -> Refusal { Refusal(outcome: .permanent(reason)) }
        static func retryable(_ reason: String) -> Refusal { Refusal(outcome: .retryable(reason)) }
    }

    /// Checks the batch step by step, each refusal ending it, then appends its block.
    private func anchor(_ batch: LedgerBatch, in db: Database) throws -> SubmitOutcome {
        do {
            let checkpoint = try Self.checkpoint(of: batch)
            if let receipt = try existingReceipt(for: batch.key, checkpoint: checkpoint, in: db) { return .anchored(receipt) }
            let verifier = try trustedVerifier(for: batch, in: db)
            let lastSize = try checkConsistency(of: batch, checkpoint: checkpoint, in: db)
            try Self.checkEntries(of: batch, after: lastSize)
            return .anchored(try appendBlock(for: batch, checkpoint: checkpoint, verifier: verifier, in: db))
        } catch let refusal as Refusal {
            return refusal.outcome
        }
    }

    /// The batch's checkpoint, which must parse and name the batch's origin and size.
    private static func checkpoint(of batch: LedgerBatch) throws -> Checkpoint {
        let key = batch.key
        let checkpoint: Checkpoint
        do {
            checkpoint = try Checkpoint(parsing: SignedNote(parsing: batch.checkpointNote).text)
        } catch {
            throw Refusal.permanent("the checkpoint note does not parse: \(error)")
        }
        guard checkpoint.origin == key.origin, checkpoint.size == key.treeSize else {
            throw Refusal.permanent("the batch key \(key) does not match its checkpoint \(checkpoint.origin)@\(checkpoint.size)")
        }
        return checkpoint
    }

    /// Idempotent: the same checkpoint again gets the receipt it already has; another root at
    /// an anchored size is a fork. nil: the size is not anchored yet.
    private func existingReceipt(for key: BatchKey, checkpoint: Checkpoint, in db: Database) throws -> LedgerReceipt? {
        guard let row = try Row.fetchOne(db, sql: "SELECT root_hash FROM block_entry WHERE origin = ? AND tree_size = ?", arguments: [key.origin, Int64(key.treeSize)]) else {
            return nil
        }
        guard MerkleHash(bytes: (row["root_hash"] as Data?) ?? Data()) == checkpoint.rootHash else {
            throw Refusal(outcome: fork(key, "size \(key.treeSize) is already anchored with another root hash"))
        }
        guard let receipt = try EmbeddedLedger.storedReceipt(for: key, in: db, keyID: keyID) else {
            throw Refusal.retryable("the anchored checkpoint \(key) has no readable block")
        }
        return receipt.receipt
    }

    /// The gateway key trusted for the origin, which must have signed the checkpoint and be the
    /// key the origin is pinned to (if it is).
    private func trustedVerifier(for batch: LedgerBatch, in db: Database) throws -> any NoteVerifier {
        let key = batch.key
        guard let verifier = trustedGateways[key.origin] else {
            throw Refusal.permanent("origin \(key.origin) is not trusted by this ledger (no gateway key configured for it)")
        }
        do {
            try SignedNote(parsing: batch.checkpointNote).verify(using: verifier)
        } catch {
            throw Refusal.permanent("the checkpoint signature does not verify with the key trusted for \(key.origin): \(error)")
        }
        if let pinned = try Int64.fetchOne(db, sql: "SELECT key_id FROM gateway_key WHERE origin = ?", arguments: [key.origin]),
            UInt32(truncatingIfNeeded: pinned) != verifier.keyID {
            throw Refusal.permanent("origin \(key.origin) is pinned to gateway key id \(String(UInt32(truncatingIfNeeded: pinned), radix: 16)); this checkpoint is signed by \(String(verifier.keyID, radix: 16))")
        }
        return verifier
    }

    /// The checkpoint must be newer than the origin's last anchored one and proved consistent
    /// with it. Returns the last anchored size.
    private func checkConsistency(of batch: LedgerBatch, checkpoint: Checkpoint, in db: Database) throws -> UInt64 {
        let key = batch.key
        let last = try Row.fetchOne(db, sql: "SELECT tree_size, root_hash FROM block_entry WHERE origin = ? ORDER BY tree_size DESC LIMIT 1", arguments: [key.origin])
        let lastSize = UInt64((last?["tree_size"] as Int64?) ?? 0)
        let proof = batch.consistencyProof
        guard key.treeSize > lastSize else {
            throw Refusal.permanent("checkpoint \(key) is older than the last anchored checkpoint of size \(lastSize)")
        }
        guard proof.fromSize == lastSize, proof.toSize == key.treeSize else {
            throw Refusal.permanent("the consistency proof runs \(proof.fromSize)→\(proof.toSize); the ledger needs \(lastSize)→\(key.treeSize)")
        }
        if let last, lastSize > 0 {
            guard let lastRoot = MerkleHash(bytes: (last["root_hash"] as Data?) ?? Data()) else {
                throw Refusal.retryable("the last anchored checkpoint of \(key.origin) has an unreadable root")
            }
            do {
                try proof.verify(fromRoot: lastRoot, toRoot: checkpoint.rootHash)
            } catch {
                throw Refusal(outcome: fork(key, "the checkpoint is not consistent with the anchored checkpoint of size \(lastSize): \(error)"))
            }
        }
        return lastSize
    }

    /// Entries must lie in the batch's range, in increasing leaf order.
    private static func checkEntries(of batch: LedgerBatch, after lastSize: UInt64) throws {
        var previousIndex: UInt64?
        for entry in batch.entries {
            guard entry.leafIndex >= lastSize, entry.leafIndex < batch.key.treeSize, previousIndex.map({ entry.leafIndex > $0 }) ?? true else {
                throw Refusal.permanent("entry for leaf \(entry.leafIndex) is outside the batch's range \(lastSize)..<\(batch.key.treeSize) or out of order")
            }
            previousIndex = entry.leafIndex
        }
    }

    /// Appends the signed block holding the checkpoint, pins the origin's key, and returns the
    /// receipt as any later lookup rebuilds it, so a resend gets exactly this one.
    private func appendBlock(for batch: LedgerBatch, checkpoint: Checkpoint, verifier: any NoteVerifier, in db: Database) throws -> LedgerReceipt {
        let key = batch.key
        let tip = try Row.fetchOne(db, sql: "SELECT height, hash FROM block ORDER BY height DESC LIMIT 1")
        let block = LedgerBlock(
            height: UInt64((tip?["height"] as Int64?) ?? 0) + 1,
            previousHash: tip.map { Array(($0["hash"] as Data?) ?? Data()) } ?? [UInt8](repeating: 0, count: 32),
            timeMs: UInt64(max(0, Date().timeIntervalSince1970 * 1000)),
            checkpointNotes: [batch.checkpointNote])
        let hash = try block.hash
        let signature = Array(try P256.Signing.PrivateKey(rawRepresentation: privateKeyBytes).signature(for: hash).derRepresentation)
        try db.execute(
            sql: "INSERT INTO block (height, previous_hash, time_ms, entry_count, entries_root, hash, signature) VALUES (?, ?, ?, ?, ?, ?, ?)",
            arguments: [Int64(block.height), Data(block.previousHash), Int64(block.timeMs), block.checkpointNotes.count, Data(try block.entriesRoot.bytes), Data(hash), Data(signature)])
        try db.execute(
            sql: "INSERT INTO block_entry (height, idx, origin, tree_size, root_hash, checkpoint) VALUES (?, 0, ?, ?, ?, ?)",
            arguments: [Int64(block.height), key.origin, Int64(key.treeSize), Data(checkpoint.rootHash.bytes), batch.checkpointNote])
        try db.execute(
            sql: "INSERT OR IGNORE INTO gateway_key (origin, key_id, pinned_at_ms) VALUES (?, ?, ?)",
            arguments: [key.origin, Int64(verifier.keyID), Int64(block.timeMs)])
        guard let receipt = try EmbeddedLedger.storedReceipt(for: key, in: db, keyID: keyID) else {
            throw Refusal.retryable("block \(block.height) was written but cannot be read back")
        }
        return receipt.receipt
    }

    private func fork(_ key: BatchKey, _ reason: String) -> SubmitOutcome {
        logger.critical("ALARM: refusing a checkpoint that forks the log", metadata: ["checkpoint": "\(key)", "reason": "\(reason)"])
        return .permanent("fork: \(reason)")
    }

    static func storedReceipt(for key: BatchKey, in db: Database, keyID: String) throws -> EmbeddedReceipt? {
        guard let entry = try Row.fetchOne(db, sql: "SELECT height, idx FROM block_entry WHERE origin = ? AND tree_size = ?", arguments: [key.origin, Int64(key.treeSize)]),
            let block = try Row.fetchOne(db, sql: "SELECT * FROM block WHERE height = ?", arguments: [entry["height"] as Int64])
        else { return nil }
        let notes = try String.fetchAll(db, sql: "SELECT checkpoint FROM block_entry WHERE height = ? ORDER BY idx", arguments: [entry["height"] as Int64])
        let index: Int64 = entry["idx"]
        return EmbeddedReceipt(
            key: key, height: UInt64(block["height"] as Int64), index: UInt64(index), entryCount: UInt64(notes.count),
            entryPath: try EntryTree(notes: notes).path(index: UInt64(index)),
            previousBlockHash: Array(block["previous_hash"] as Data), timeMs: UInt64(block["time_ms"] as Int64),
            blockHash: Array(block["hash"] as Data), signature: Array(block["signature"] as Data), ledgerKeyID: keyID)
    }

    // MARK: Inspection

    /// The largest checkpoint anchored for `origin` (nil: none), as this ledger holds it.
    public func latestAnchored(origin: String) throws -> Checkpoint? {
        try queue.read { db in
            try String.fetchOne(db, sql: "SELECT checkpoint FROM block_entry WHERE origin = ? ORDER BY tree_size DESC LIMIT 1", arguments: [origin])
                .map { note in try Checkpoint(parsing: SignedNote(parsing: note).text) }
        }
    }

    public func close() throws { try queue.close() }

    var databaseQueue: DatabaseQueue { queue }
}
