import Crypto
import DeviceIdentity
import FabricLedger
import Foundation
import JSONDocument
import X509

/// `wardgate verify`: checks a proof bundle offline, each check named, in this order:
/// signature → signer → device certificate → checkpoint signature → inclusion → receipt →
/// signing time. A check that needs an earlier one's result fails when that one failed. A Fabric
/// receipt (with `--fabric-ca`) adds, after `receipt`, `fabric-endorsements`,
/// `fabric-endorser-chain`, `fabric-write-set` and `fabric-covers-leaf` (ProofChecks+Fabric.swift).
///
/// Trust is judged at the signing time the signature itself carries (the JWS `iat`), by the
/// `SigningTimePolicy` the gateway signed by; the device's own clock (`effectiveDateTime`) is
/// used only for signatures made before `iat` existed, exactly as they were always checked.
public enum ProofVerification {
    public struct Check: Sendable, Equatable {
        public let name: String
        public let passed: Bool
        public let detail: String
    }

    public static let checkNames = [
        "signature", "signer", "device-certificate", "checkpoint-signature", "inclusion", "receipt", "signing-time",
    ]
    /// The checks a Fabric receipt adds after `receipt`.
    public static let fabricCheckNames = [
        FabricReceiptCheck.endorsements, FabricReceiptCheck.endorserChain, FabricReceiptCheck.writeSet, FabricReceiptCheck.coversLeaf,
    ]

    public static func verify(
        bundle: JSONValue, ca: Certificate, gatewayCertificate: Certificate, crl: CertificateRevocationList? = nil,
        ledgerKey: P256.Signing.PublicKey? = nil, fabricCAs: [FabricOrganizationCA] = [], policy: SigningTimePolicy = .standard
    ) async -> [Check] {
        guard let parts = BundleParts(bundle) else {
            return [Check(name: "bundle", passed: false, detail: "not a \(ProofBundle.format) document (missing or mistyped fields)")]
        }
        var checks = CheckList()
        let signed = checks.run("signature") { () throws(CheckFailure) in try checkSignature(parts) }
        checks.run("signer") { () throws(CheckFailure) in try checkSigner(signed, observation: parts.observation) }
        let signingTime = signed.flatMap { SigningTime(of: $0, observation: parts.observation, policy: policy) }
        checks.record("device-certificate", await checkDeviceCertificate(signed, at: signingTime, ca: ca, crl: crl))
        let checkpoint = checks.run("checkpoint-signature") { () throws(CheckFailure) in
            try checkCheckpoint(parts.checkpointNote, gatewayCertificate: gatewayCertificate)
        }
        let included: Void? = checks.run("inclusion") { () throws(CheckFailure) in try checkInclusion(parts, signed: signed, checkpoint: checkpoint) }
        let anchoring = checks.run("receipt") { () throws(CheckFailure) in
            try checkReceipt(parts, checkpointVerified: checkpoint != nil, ledgerKey: ledgerKey, fabricCAs: fabricCAs)
        }
        if anchoring != nil, let fabric = fabricReceipt(in: parts) {
            for check in await fabricChecks(fabric, parts: parts, inclusionVerified: included != nil, fabricCAs: fabricCAs) { checks.append(check) }
        }
        checks.run("signing-time") { () throws(CheckFailure) in
            try checkSigningTime(signingTime, signatureVerified: signed != nil, anchoring: anchoring, policy: policy)
        }
        return checks.checks
    }

    /// The members every bundle has, typed.
    struct BundleParts {
        let document: JSONValue
        let observation: JSONValue
        let jws: String
        let certificatePEMs: [String]
        let checkpointNote: String

        init?(_ bundle: JSONValue) {
            guard bundle["format"]?.stringValue == ProofBundle.format,
                let observation = bundle["observation"], let jws = bundle["jws"]?.stringValue,
                let pems = bundle["deviceCertificates"]?.arrayValue, let note = bundle["checkpoint"]?.stringValue
            else { return nil }
            self.document = bundle
            self.observation = observation
            self.jws = jws
            self.certificatePEMs = pems.compactMap(\.stringValue)
            self.checkpointNote = note
        }
    }

    /// A check's result when it passed: what later checks need, and what to print.
    struct Passed<Value> {
        let value: Value
        let detail: String
        init(_ value: Value, _ detail: String) {
            self.value = value
            self.detail = detail
        }
    }

    struct CheckList {
        private(set) var checks: [Check] = []

        @discardableResult
        mutating func record<Value>(_ name: String, _ result: Result<Passed<Value>, CheckFailure>) -> Value? {
            switch result {
            case .success(let passed):
                checks.append(Check(name: name, passed: true, detail: passed.detail))
                return passed.value
            case .failure(let failure):
                checks.append(Check(name: name, passed: false, detail: failure.reason))
                return nil
            }
        }

        mutating func append(_ check: Check) { checks.append(check) }

        @discardableResult
        mutating func run<Value>(_ name: String, _ body: () throws(CheckFailure) -> Passed<Value>) -> Value? {
            record(name, Result(body))
        }
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
