import Crypto
import DeviceIdentity
import Foundation
import HexEncoding
import JSONDocument
import Journal
import Ledger
import Observations
import Transparency
import TransparencyLog
import X509

/// One self-contained document per reading that an auditor checks offline with only the ward
/// CA certificate and the gateway certificate. Format: docs/proof-bundle.md.
public enum ProofBundle {
    public static let format = "wardgate-proof-bundle/1"

    public enum Selector: Sendable {
        case observation(String)
        case leafIndex(UInt64)
    }

    public enum BuildError: Error, Sendable, CustomStringConvertible {
        case notFound(String)
        case notLogged(String)
        case notYetCheckpointed(leafIndex: UInt64, checkpointSize: UInt64?)
        case missingCertificate(String)
        case failed(String)

        public var description: String {
            switch self {
            case .notFound(let what): "no such reading: \(what)"
            case .notLogged(let why): "the reading is not in the log: \(why)"
            case .notYetCheckpointed(let index, let size):
                "not yet checkpointed: leaf \(index) is not covered by a signed checkpoint yet" + (size.map { " (latest covers \($0) leaves)" } ?? " (none signed yet)") + "; try again after batch.maxAge"
            case .missingCertificate(let thumbprint): "the signing certificate \(thumbprint) is not in the keystore"
            case .failed(let reason): reason
            }
        }
    }

    /// Builds the bundle against the checkpoint that anchored the reading (with the ledger's
    /// receipt) or, before that, the latest signed checkpoint; never against an unsigned root.
    /// `journal` must have been opened with the log's and the outbox's tables.
    public static func build(_ selector: Selector, journal: Journal, keystore: Keystore, receipt: JSONValue? = nil) throws(BuildError) -> JSONValue {
        do {
            let leaves = try LeafIndex(journal: journal)
            let outbox = try Outbox(journal: journal)
            let stored: StoredObservation?
            switch selector {
            case .observation(let id): stored = try journal.observation(id: id)
            case .leafIndex(let index): stored = try leaves.observation(leafIndex: index)
            }
            guard let observation = stored else {
                switch selector {
                case .observation(let id): throw BuildError.notFound("observation \(id)")
                case .leafIndex(let index): throw BuildError.notFound("leaf \(index)")
                }
            }
            guard let signature = observation.signature, let leafIndex = try leaves.leafIndex(ofObservation: observation.id) else {
                throw BuildError.notLogged(observation.quarantineReason.map { "it is quarantined: \($0)" } ?? "it has no leaf yet")
            }
            let tree = try leaves.tree()
            // An anchored reading is proven against the checkpoint its receipt anchors, so the
            // receipt checks against the same note; otherwise against the latest checkpoint.
            let anchoring = try outbox.anchoringBatch(forLeaf: leafIndex)
            let receipt = try anchoring?.receipt.map { try JSONParser.parse($0) } ?? receipt
            guard let note = try anchoring?.checkpointNote ?? tree.store.latestSignedCheckpointNote() else {
                throw BuildError.notYetCheckpointed(leafIndex: leafIndex, checkpointSize: nil)
            }
            let checkpoint = try Checkpoint(parsing: SignedNote(parsing: note).text)
            guard leafIndex < checkpoint.size else {
                throw BuildError.notYetCheckpointed(leafIndex: leafIndex, checkpointSize: checkpoint.size)
            }
            let proof = try tree.inclusionProof(leafIndex: leafIndex, treeSize: checkpoint.size)
            guard let certificate = keystore.archivedCertificate(thumbprint: signature.certificateThumbprint) else {
                throw BuildError.missingCertificate(signature.certificateThumbprint)
            }
            return .object([
                "format": .string(format),
                "observation": try JSONParser.parse(observation.resource),
                "jws": .string(signature.jws),
                "deviceCertificates": [.string(CertificateCoding.pemString(certificate))],
                "leafIndex": .integer(leafIndex),
                "treeSize": .integer(checkpoint.size),
                "inclusionProof": .array(proof.hashes.map { .string(Hex.encode($0.bytes)) }),
                "checkpoint": .string(note),
                "ledgerReceipt": receipt ?? .null,
            ])
        } catch let error as BuildError {
            throw error
        } catch {
            throw .failed("\(error)")
        }
    }
}
