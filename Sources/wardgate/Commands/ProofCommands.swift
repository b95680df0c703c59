import ArgumentParser
import Crypto
import DeviceIdentity
import Evidence
import FabricLedger
import Foundation
import Gateway
import JSONDocument
import Journal
import X509

struct ProofCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "proof",
        abstract: "Print the proof bundle of one reading (Observation, JWS, device certificate, inclusion proof, signed checkpoint).",
        discussion: "Exit 1 when the reading is unknown, quarantined, or not yet covered by a signed checkpoint.")

    @OptionGroup var configFile: ConfigFileOption

    @Option(name: .long, help: "The Observation id.")
    var observation: String?

    @Option(name: .customLong("leaf-index"), help: "The log leaf index.")
    var leafIndex: UInt64?

    func validate() throws {
        guard (observation == nil) != (leafIndex == nil) else { throw ValidationError("give exactly one of --observation ID or --leaf-index N") }
    }

    func run() throws {
        let settings = try configFile.load()
        guard let identity = settings.identity else {
            CommandSupport.printError("the configuration has no identity section: no reading is signed, so none has a proof")
            throw ExitCode(1)
        }
        do {
            let journal = try Gateway.openJournalForReading(settings)
            let selector: ProofBundle.Selector = observation.map { .observation($0) } ?? .leafIndex(leafIndex ?? 0)
            let bundle = try ProofBundle.build(selector, journal: journal, keystore: Keystore(directory: identity.keystore))
            print(bundle.serialized)
        } catch let error as ProofBundle.BuildError {
            CommandSupport.printError("wardgate proof: \(error)")
            throw ExitCode(1)
        } catch {
            CommandSupport.printError("wardgate proof: \(error)")
            throw ExitCode(1)
        }
    }
}

struct VerifyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check a proof bundle offline: signature, signer, device certificate at the signing time, checkpoint signature, inclusion, receipt (embedded: --ledger-key; Fabric: --fabric-ca, with its four checks), signing time.",
        discussion: "Prints each check as passed or failed. Exit 0 only if all pass; 1 otherwise, naming the first failing check. Needs no network and no gateway state.")

    @Argument(help: "The proof bundle (JSON file).")
    var bundle: String

    @Option(name: .long, help: "The ward CA certificate (PEM).")
    var ca: String

    @Option(name: .customLong("gateway-cert"), help: "The gateway certificate (PEM) that signs checkpoints.")
    var gatewayCert: String

    @Option(name: .customLong("ledger-key"), help: "The ledger's public key (PEM), to check a receipt.")
    var ledgerKey: String?

    @Option(name: .long, help: "A CRL (PEM or DER) the device certificate must not be on.")
    var crl: String?

    @Option(name: .customLong("fabric-ca"), help: "The CA certificates (PEM) of an organization that endorses Fabric anchors, as its MSP holds them: its root CA and any intermediate CAs in one file; repeat it, once per endorsing organization, to check a Fabric receipt.")
    var fabricCA: [String] = []

    func run() async throws {
        let document: JSONValue
        let caCertificate: Certificate
        let gatewayCertificate: Certificate
        var revocations: CertificateRevocationList?
        var ledgerPublicKey: P256.Signing.PublicKey?
        var fabricCAs: [FabricOrganizationCA] = []
        do {
            guard let data = FileManager.default.contents(atPath: bundle) else { throw ValidationError("cannot read \(bundle)") }
            document = try JSONParser.parse(Array(data))
            caCertificate = try CertificateCoding.loadCertificate(ca)
            gatewayCertificate = try CertificateCoding.loadCertificate(gatewayCert)
            if let crl { revocations = try CertificateRevocationList.load(crl) }
            fabricCAs = try fabricCA.map { path in try FabricOrganizationCA(certificates: try CertificateCoding.loadCertificates(path), name: path) }
            if let ledgerKey {
                guard let pem = try? String(contentsOfFile: ledgerKey, encoding: .utf8) else { throw ValidationError("cannot read \(ledgerKey)") }
                do { ledgerPublicKey = try P256.Signing.PublicKey(pemRepresentation: pem) } catch { throw ValidationError("\(ledgerKey) is not a P-256 public key in PEM form") }
            }
        } catch {
            CommandSupport.printError("wardgate verify: \(error)")
            throw ExitCode(1)
        }
        let checks = await ProofVerification.verify(bundle: document, ca: caCertificate, gatewayCertificate: gatewayCertificate, crl: revocations, ledgerKey: ledgerPublicKey, fabricCAs: fabricCAs)
        for check in checks {
            print("\(check.passed ? "passed" : "FAILED")  \(check.name): \(check.detail)")
        }
        if let failed = checks.first(where: { !$0.passed }) {
            CommandSupport.printError("verification failed at check \"\(failed.name)\"")
            throw ExitCode(1)
        }
    }
}
