import EmbeddedLedger
import Foundation
import Ledger
import Transparency
import TransparencyLog

/// What the gateway checks at start and in `/readyz` before it signs or anchors anything more:
/// the journal's Merkle log must contain the last checkpoint anchored (as the outbox records it,
/// and as the ledger holds it), and the ledger must hold everything the outbox has receipts for.
/// The last signed checkpoint (journal and `LastCheckpointFile`) is checked by `GatewayLog`.
enum AnchorCheck {
    static let recovery = "see \"Faults and recovery\" in docs/deployment.md"

    /// Before the embedded ledger is opened (opening creates it): a missing ledger file while
    /// the outbox holds receipts is an error, never a new empty ledger.
    static func requireLedgerFile(config: GatewayConfig, outbox: Outbox, log: GatewayLog) throws(GatewayError) {
        guard !FileManager.default.fileExists(atPath: config.ledger.path) else { return }
        let anchored: Checkpoint?
        do {
            anchored = try outbox.lastAnchoredCheckpoint()
        } catch {
            throw .journal(.storage("the outbox cannot be read: \(error)"))
        }
        guard let anchored else { return }
        throw .anchoring("""
            the ledger file \(config.ledger.path) is missing, but the journal's outbox holds receipts up to size \(anchored.size) \
            (root \(anchored.rootHash.hex)). Restore ledger.sqlite with its key from a backup, or re-anchor the outbox's checkpoints \
            into a new ledger with `wardgate ledger reanchor --config FILE` (\(recovery))
            """)
    }

    /// Why the log, the outbox and the ledger disagree (nil: they agree).
    static func problem(log: GatewayLog, outbox: Outbox, ledger: (any LedgerClient)?) -> String? {
        do {
            let anchored = try outbox.lastAnchoredCheckpoint()
            if let anchored {
                try log.requireExtends(anchored, source: "the last checkpoint anchored, as the journal's outbox records it")
            }
            if let file = log.lastCheckpointFile, let verifier = log.checkpointVerifier, let signed = try file.read(verifyingWith: verifier) {
                try log.requireExtends(signed.checkpoint, source: "the last checkpoint this gateway signed, kept in \(file.path)")
            }
            guard let embedded = ledger as? EmbeddedLedger else { return nil }
            let held = try embedded.latestAnchored(origin: log.origin)
            if let held {
                try log.requireExtends(held, source: "the last checkpoint the ledger \(embedded.path) anchored")
            }
            if let anchored, (held?.size ?? 0) < anchored.size {
                let holds = held.map { "checkpoints up to size \($0.size) (root \($0.rootHash.hex))" } ?? "no checkpoint"
                return """
                    the ledger \(embedded.path) holds \(holds) of \(log.origin), but the journal's outbox has receipts up to size \
                    \(anchored.size) (root \(anchored.rootHash.hex)): the ledger file was replaced or restored from an older copy. \
                    Re-anchor with `wardgate ledger reanchor --config FILE` (\(recovery))
                    """
            }
            return nil
        } catch {
            return "\(error)"
        }
    }

    /// Why the ledger's head (nil: it holds nothing of the origin) disagrees with the journal
    /// (nil: they agree). The head may be ahead of the outbox's receipts only by the batch offered
    /// when a run ended (its receipt not stored yet: the resend returns it).
    static func headProblem(_ head: Checkpoint?, ledger name: String, log: GatewayLog, outbox: Outbox) -> String? {
        do {
            let anchored = try outbox.lastAnchoredCheckpoint()
            let holds = head.map { "the last checkpoint \(name) anchored for \(log.origin), size \($0.size) (root \($0.rootHash.hex))," }
            if let head {
                try log.requireExtends(head, source: "the last checkpoint \(name) anchored for \(log.origin)")
                if let signed = log.lastSignedSize, head.size > signed {
                    return "\(holds ?? "") is ahead of the last checkpoint this gateway signed (size \(signed)): \(lostState)"
                }
            }
            let size = head?.size ?? 0
            if let anchored, size < anchored.size {
                return """
                    \(holds ?? "\(name) holds no checkpoint of \(log.origin),") but the journal's outbox has receipts up to size \(anchored.size) \
                    (root \(anchored.rootHash.hex)): the peer answers for another channel or chaincode, or the channel was rebuilt. \
                    Check ledger.fabric.channel and chaincode; nothing is anchored until they agree (\(recovery))
                    """
            }
            if let head, size > anchored?.size ?? 0, try outbox.batch(treeSize: size) == nil {
                let receipts = anchored.map { "receipts up to size \($0.size) (root \($0.rootHash.hex))" } ?? "no receipt"
                return "\(holds ?? "") is ahead of the journal's outbox, which has \(receipts) and no batch cut at size \(head.size): \(lostState)"
            }
            return nil
        } catch {
            return "\(error)"
        }
    }

    private static let lostState = """
        the journal lost anchored state (restored from an older copy, or replaced). Refusing to run, so that no checkpoint \
        contradicting one already anchored is ever signed. Restore the journal and the state directory from a backup that holds \
        at least the channel's size, or start a new log (a new transparencyLog.origin) and keep the old journal for audit (\(recovery))
        """
}
