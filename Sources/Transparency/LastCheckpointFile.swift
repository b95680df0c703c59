import Foundation
import SigningKeys
import TransparencyLog

/// The last checkpoint this gateway signed, kept in a small file in the state directory beside
/// (not inside) the journal, so that losing or rolling back `journal.sqlite` cannot erase the
/// evidence of what was signed. It is replaced atomically and fsynced (file and directory)
/// before the checkpoint is used for anything.
public struct LastCheckpointFile: Sendable {
    public static let fileName = "last-signed-checkpoint"
    public let path: String

    public init(path: String) { self.path = path }

    /// The file in a state directory.
    public init(stateDirectory: String) {
        path = (stateDirectory as NSString).appendingPathComponent(LastCheckpointFile.fileName)
    }

    /// The stored note, verified with `verifier` (nil: no checkpoint was signed yet).
    public func read(verifyingWith verifier: any NoteVerifier) throws -> SignedCheckpoint? {
        guard SecureFile.exists(path) else { return nil }
        let text = try SecureFile.readText(path)
        do {
            return try SignedCheckpoint(verifying: text, using: [verifier])
        } catch {
            throw GatewayLogError("\(path) does not hold a checkpoint signed by this gateway's key (\(error)); it was replaced or damaged")
        }
    }

    /// Replaces the file with `signed`, durably.
    public func write(_ signed: SignedCheckpoint) throws {
        try SecureFile.writeAtomically(Array(signed.text.utf8), to: path, mode: 0o600)
    }
}
