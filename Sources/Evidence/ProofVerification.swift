import Crypto
import DeviceIdentity
import EmbeddedLedger
import Foundation
import HexEncoding
import JSONDocument
import Ledger
import Observations
import Transparency
import TransparencyLog
import X509

/// `wardgate verify`: checks a proof bundle offline, each check named, in this order:
/// signature → device certificate → checkpoint signature → inclusion → receipt.
public enum ProofVerification {
    public struct Check: Sendable, Equatable {
        public let name: String
        public let passed: Bool
        public let detail: String
    }

    public static let checkNames = ["signature", "device-certificate", "checkpoint-signature", "inclusion", "receipt"]

    public static func verify(
        bundle: JSONValue, ca: Certificate, gatewayCertificate: Certificate, crl: CertificateRevocationList? = nil,
        ledgerKey: P256.Signing.PublicKey? = nil
    ) async -> [Check] {
        var checks: [Check] = []
        func record(_ name: String, _ result: Result<String, CheckFailure>) {
            switch result {
            case .success(let detail): checks.append(Check(name: name, passed: true, detail: detail))
            case .failure(let failure): checks.append(Check(name: name, passed: false, detail: failure.reason))
            }
        }
        guard bundle["format"]?.stringValue == ProofBundle.format,
            let observation = bundle["observation"], let jws = bundle["jws"]?.stringValue,
            let pems = bundle["deviceCertificates"]?.arrayValue, let note = bundle["checkpoint"]?.stringValue
        else {
            return [Check(name: "bundle", passed: false, detail: "not a \(ProofBundle.format) document (missing or mistyped fields)")]
        }

        // 1. The JWS over the Observation, with the device certificate its header names.
        var device: Certificate?
        var thumbprint = ""
        record("signature", Result { () throws(CheckFailure) -> String in
            let parsed = try CheckFailure.wrap { try JWSVerifier.parse(jws) }
            thumbprint = parsed.header.certificateThumbprint ?? ""
            let certificates = pems.compactMap { $0.stringValue.flatMap { try? Certificate(pemEncoded: $0) } }
            guard let certificate = certificates.first(where: { CertificateCoding.thumbprintBase64URL($0) == thumbprint }) else {
                throw CheckFailure("no certificate in the bundle has the JWS x5t#S256 \(thumbprint)")
            }
            _ = try CheckFailure.wrap { try JWSVerifier.verify(jws, observation: observation, certificate: certificate) }
            device = certificate
            return "ES256 by \(parsed.header.keyID ?? "?") over the RFC 8785 form of the Observation"
        })

        // 2. The device certificate chains to the ward CA, valid when the reading was taken, not revoked.
        let readingTime = observation["effectiveDateTime"]?.stringValue.flatMap { FHIRTime.parseRFC3339($0)?.date } ?? Date()
        if let device {
            let result = await ChainVerification.verify(device, anchor: ca, at: readingTime, crl: crl)
            switch result {
            case .success: record("device-certificate", .success("chains to \(ca.subject), valid at \(FHIRTime.instant(readingTime))\(crl == nil ? "" : ", not on the CRL")"))
            case .failure(let failure): record("device-certificate", .failure(CheckFailure("\(failure)")))
            }
        } else {
            record("device-certificate", .failure(CheckFailure("no verified device certificate")))
        }

        // 3. The checkpoint is signed by the gateway's key.
        var checkpoint: Checkpoint?
        record("checkpoint-signature", Result { () throws(CheckFailure) -> String in
            guard let key = P256.Signing.PublicKey(gatewayCertificate.publicKey) else {
                throw CheckFailure("the gateway certificate does not hold a P-256 key")
            }
            let origin = String(note.prefix { $0 != "\n" })
            let verifier = try CheckFailure.wrap { try ECDSAP256NoteVerifier(keyName: origin, publicKey: key) }
            let signed = try CheckFailure.wrap { try SignedCheckpoint(verifying: note, using: [verifier]) }
            checkpoint = signed.checkpoint
            return "origin \(signed.checkpoint.origin), size \(signed.checkpoint.size), signed by \(gatewayCertificate.subject)"
        })

        // 4. The leaf, recomputed from the bundle, is in the tree the checkpoint commits to.
        record("inclusion", Result { () throws(CheckFailure) -> String in
            guard let checkpoint else { throw CheckFailure("no verified checkpoint to prove inclusion against") }
            guard let indexText = bundle["leafIndex"]?.numberLexeme, let index = UInt64(indexText),
                let sizeText = bundle["treeSize"]?.numberLexeme, let size = UInt64(sizeText),
                let path = bundle["inclusionProof"]?.arrayValue
            else { throw CheckFailure("leafIndex, treeSize or inclusionProof is missing") }
            guard size == checkpoint.size else { throw CheckFailure("treeSize \(size) is not the checkpoint's size \(checkpoint.size)") }
            let hashes = try path.map { element throws(CheckFailure) -> MerkleHash in
                guard let hex = element.stringValue, let bytes = try? Hex.decode(hex), let hash = MerkleHash(bytes: bytes) else {
                    throw CheckFailure("an inclusion path element is not a 32-byte hex hash")
                }
                return hash
            }
            let leafHash = try CheckFailure.wrap { try LeafEncoding.leafHash(observation: observation, jws: jws, certificateThumbprint: thumbprint) }
            try CheckFailure.wrap { try InclusionProof(leafIndex: index, treeSize: size, hashes: hashes).verify(leafHash: leafHash, rootHash: checkpoint.rootHash) }
            return "leaf \(index) of \(size) reaches the checkpoint root"
        })

        // 5. The ledger receipt anchors this very checkpoint in a block signed by the ledger key.
        if let receipt = bundle["ledgerReceipt"], receipt != .null {
            record("receipt", Result { () throws(CheckFailure) -> String in
                guard receipt["ledger"]?.stringValue == EmbeddedReceipt.kind else {
                    throw CheckFailure("cannot check receipts of ledger kind \(receipt["ledger"]?.stringValue ?? "?")")
                }
                guard let ledgerKey else {
                    throw CheckFailure("the bundle holds a ledger receipt; pass the ledger's public key (wardgate ledger key) to check it")
                }
                guard checkpoint != nil else { throw CheckFailure("no verified checkpoint for the receipt to anchor") }
                return try CheckFailure.wrap { try EmbeddedReceipt(document: receipt).verify(checkpointNote: note, ledgerKey: ledgerKey) }
            })
        } else {
            record("receipt", .success("none in the bundle: the reading is not anchored in the ledger yet"))
        }
        return checks
    }

    struct CheckFailure: Error {
        let reason: String
        init(_ reason: String) { self.reason = reason }

        static func wrap<T>(_ body: () throws -> T) throws(CheckFailure) -> T {
            do { return try body() } catch { throw CheckFailure("\(error)") }
        }
    }
}

extension Result where Failure == ProofVerification.CheckFailure {
    init(_ body: () throws(ProofVerification.CheckFailure) -> Success) {
        do { self = .success(try body()) } catch { self = .failure(error) }
    }
}
