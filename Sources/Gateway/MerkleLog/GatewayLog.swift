import Crypto
import DeviceIdentity
import Foundation
import GRDB
import JSONDocument
import Journal
import Logging
import TransparencyLog

/// The gateway's RFC 9162 log: every signed Observation becomes a leaf, in the same transaction
/// that journals it, and checkpoints are signed with the gateway key once leaves have waited
/// `checkpointInterval`.
final class GatewayLog: Sendable {
    let tree: LogTree<SQLiteSubtreeHashStore>
    let origin: String
    let checkpointInterval: Duration
    private let signer: CheckpointSigner?
    private let journal: Journal
    private let logger: Logger

    init(journal: Journal, settings: GatewayConfig.LogSettings?, gatewayId: String, logger: Logger) throws(GatewayError) {
        self.journal = journal
        self.logger = logger
        origin = settings?.origin ?? "wardgate/\(gatewayId)"
        checkpointInterval = settings?.checkpointInterval ?? .seconds(1)
        do {
            var migrator = DatabaseMigrator()
            SQLiteSubtreeHashStore.registerMigrations(&migrator)
            try migrator.migrate(journal.databaseWriter)
            tree = try LogTree(writer: journal.databaseWriter)
            if let settings {
                let key = try PrivateKeyFile.loadP256(settings.gatewayKey)
                let noteSigner = try ECDSAP256NoteSigner(keyName: origin, privateKey: key)
                // Refuses to start if the stored tree is not consistent with the last checkpoint we signed.
                signer = try CheckpointSigner(origin: origin, signer: noteSigner, lastSignedNote: try tree.store.latestSignedCheckpointNote())
            } else {
                signer = nil
                logger.warning("no log section: leaves are appended but no checkpoint is signed")
            }
        } catch {
            throw .log("\(error)")
        }
    }

    /// Appends the new signed Observations as leaves; runs inside the journal's commit.
    /// `canonicalObservations` are the signed payloads by Observation id; an entry without one
    /// is canonicalized from its stored JSON.
    func appendLeaves(_ entries: [ObservationEntry], canonicalObservations: [String: [UInt8]] = [:], in db: Database) throws {
        let signed = entries.compactMap { entry -> (ObservationEntry, ObservationSignature)? in entry.signature.map { (entry, $0) } }
        guard !signed.isEmpty else { return }
        var hashes: [MerkleHash] = []
        hashes.reserveCapacity(signed.count)
        for (entry, signature) in signed {
            let canonical = try canonicalObservations[entry.id] ?? JCS.canonicalize(JSONParser.parse(entry.resource))
            hashes.append(RFC9162.leafHash(try LeafEncoding.leafData(
                canonicalObservation: canonical, jws: signature.jws, certificateThumbprint: signature.certificateThumbprint)))
        }
        let range = try tree.append(contentsOf: hashes, in: db)
        for (offset, (entry, _)) in signed.enumerated() {
            try Journal.recordLeafIndex(range.lowerBound + UInt64(offset), observationId: entry.id, in: db)
        }
    }

    /// Signs a checkpoint if the tree grew since the last one. Never signs a second root for a size.
    @discardableResult
    func checkpointIfGrown() throws -> SignedCheckpoint? {
        guard let signer else { return nil }
        let size = try tree.size
        if let last = signer.lastSigned, last.size >= size { return nil }
        if size == 0 { return nil }
        let signed = try signer.signCheckpoint(for: tree)
        try tree.store.recordSignedCheckpoint(signed)
        return signed
    }

    func latestCheckpointNote() throws -> String? { try tree.store.latestSignedCheckpointNote() }

    /// Signs checkpoints until cancelled.
    func run(metrics: GatewayMetrics) async {
        while !Task.isCancelled {
            try? await Task.sleep(for: checkpointInterval)
            do {
                if let signed = try checkpointIfGrown() {
                    metrics.checkpointsSigned.increment()
                    logger.debug("checkpoint signed", metadata: ["size": "\(signed.checkpoint.size)"])
                }
            } catch {
                logger.error("ALARM: checkpoint not signed", metadata: ["reason": "\(error)"])
            }
        }
    }
}
