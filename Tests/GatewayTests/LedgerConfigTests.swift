import FabricLedger
import Foundation
@testable import Gateway
import StrictYAML
import Testing
import WardgateTestSupport

@Suite("Configuration: the ledger section (embedded and fabric)")
struct LedgerConfigTests {
    /// A directory holding the files a Fabric section names, so only the values under test fail.
    let directory: TemporaryDirectory

    init() throws {
        directory = try TemporaryDirectory(prefix: "wardgate-ledger-config")
        try FileManager.default.createDirectory(atPath: directory.file("fabric"), withIntermediateDirectories: true)
        for name in ["client.pem", "client.key", "tls-ca.pem", "tls-client.pem", "tls-client.key"] {
            try writeFile("placeholder\n", to: directory.file("fabric/\(name)"), mode: 0o600)
        }
    }

    func parse(_ ledger: String) throws(YAMLIssues) -> GatewayConfig {
        try GatewayConfig.parse("gateway: {id: ward-7b}\n" + ledger, file: "wardgate.yml", baseDirectory: directory.path)
    }

    func issues(_ ledger: String) -> String {
        do {
            _ = try parse(ledger)
            return ""
        } catch {
            return error.description
        }
    }

    static let fabricSection = """
        ledger:
          kind: fabric
          fabric:
            endpoint: "peer0.hospital.example:7051"
            mspId: WardOrgMSP
            certificate: ./fabric/client.pem
            key: ./fabric/client.key
            channel: wards
            chaincode: wardgate-anchor
            tls: {caFile: ./fabric/tls-ca.pem, certFile: ./fabric/tls-client.pem, keyFile: ./fabric/tls-client.key}
        """

    @Test("the embedded ledger stays the default, in the state directory")
    func embeddedIsTheDefault() throws {
        let config = try parse("")
        #expect(config.ledger.kind == .embedded)
        #expect(config.ledger.fabric == nil)
        #expect(config.ledger.path == directory.path + "/state/ledger.sqlite")
        #expect(config.ledger.retryInitial == .milliseconds(250) && config.ledger.retryMaximum == .seconds(30) && config.ledger.healthProbe == .seconds(1))
        let embedded = try parse("ledger: {kind: embedded, path: ./l.sqlite, key: ./l.key, retry: {initial: 1s, maximum: 5s}}")
        #expect(embedded.ledger.path == directory.path + "/l.sqlite" && embedded.ledger.key == directory.path + "/l.key")
        #expect(embedded.ledger.retryInitial == .seconds(1) && embedded.ledger.retryMaximum == .seconds(5))
    }

    @Test("ledger.kind: fabric with the issue's keys: every value lands, paths relative to the file, TLS and mTLS")
    func fabricSectionParses() throws {
        let config = try parse(Self.fabricSection)
        #expect(config.ledger.kind == .fabric)
        let fabric = try #require(config.ledger.fabric)
        #expect(fabric.endpoint == "peer0.hospital.example:7051")
        #expect(fabric.mspID == "WardOrgMSP")
        #expect(fabric.certificatePath == directory.file("fabric/client.pem"))
        #expect(fabric.keyPath == directory.file("fabric/client.key"))
        #expect(fabric.channel == "wards" && fabric.chaincode == "wardgate-anchor")
        #expect(fabric.tls == FabricSettings.TLS(caFile: directory.file("fabric/tls-ca.pem"), certFile: directory.file("fabric/tls-client.pem"),
                                                 keyFile: directory.file("fabric/tls-client.key")))
        #expect(fabric.endorsingOrganizations.isEmpty)
        #expect(fabric.timeouts == FabricSettings.Timeouts())
    }

    @Test("without tls the connection is plaintext; chaincode defaults to wardgate-anchor; optional keys are read")
    func fabricOptionalKeys() throws {
        let config = try parse("""
            ledger:
              kind: fabric
              fabric:
                endpoint: 127.0.0.1:7051
                mspId: WardOrgMSP
                certificate: ./fabric/client.pem
                key: ./fabric/client.key
                channel: wards
                endorsingOrganizations: [WardOrgMSP, RegulatorMSP]
                timeouts: {call: 5s, commitStatusCall: 2s, commit: 1m}
              retry: {initial: 100ms, maximum: 2s}
            """)
        let fabric = try #require(config.ledger.fabric)
        #expect(fabric.tls == nil)
        #expect(fabric.chaincode == "wardgate-anchor")
        #expect(fabric.endorsingOrganizations == ["WardOrgMSP", "RegulatorMSP"])
        #expect(fabric.timeouts == FabricSettings.Timeouts(call: .seconds(5), commitStatusCall: .seconds(2), commit: .seconds(60)))
        #expect(config.ledger.retryInitial == .milliseconds(100) && config.ledger.retryMaximum == .seconds(2))
    }

    @Test("the certificate may be given as PEM text instead of a file")
    func inlineCertificate() throws {
        let pem = "-----BEGIN CERTIFICATE-----\\nMIIB\\n-----END CERTIFICATE-----"
        let config = try parse(Self.fabricSection.replacingOccurrences(of: "certificate: ./fabric/client.pem", with: "certificate: \"\(pem)\""))
        #expect(config.ledger.fabric?.certificatePath.hasPrefix("-----BEGIN CERTIFICATE-----\n") == true)
    }

    @Test("bad values are errors naming their path; unknown keys stay errors")
    func fabricErrors() {
        func replacing(_ old: String, _ new: String) -> String { Self.fabricSection.replacingOccurrences(of: old, with: new) }
        #expect(issues("ledger: {kind: fabric}").contains("wardgate.yml: ledger.fabric: is required with kind: fabric"))
        #expect(issues("ledger: {kind: corda}").contains("ledger.kind: must be one of embedded, fabric"))
        #expect(issues(replacing("chaincode: wardgate-anchor", "chaincode: wardgate-anchor\n    peer: x")).contains("ledger.fabric.peer: unknown key"))
        #expect(issues(replacing("caFile: ./fabric/tls-ca.pem", "caFile: ./fabric/tls-ca.pem, verify: no")).contains("ledger.fabric.tls.verify: unknown key"))
        #expect(issues(replacing("\"peer0.hospital.example:7051\"", "peer0.hospital.example")).contains("ledger.fabric.endpoint: expected host:port"))
        #expect(issues(replacing("\"peer0.hospital.example:7051\"", "\"peer0:99999\"")).contains("ledger.fabric.endpoint: expected host:port"))
        #expect(issues(replacing("    mspId: WardOrgMSP\n", "")).contains("ledger.fabric.mspId: is required"))
        #expect(issues(replacing("mspId: WardOrgMSP", "mspId: \"Ward Org\"")).contains("ledger.fabric.mspId: must be the MSP id"))
        #expect(issues(replacing("./fabric/client.key", "./fabric/missing.key")).contains("ledger.fabric.key: no such file \(directory.file("fabric/missing.key"))"))
        #expect(issues(replacing("channel: wards", "channel: Wards_7B")).contains("ledger.fabric.channel: a Fabric channel name is lower-case"))
        #expect(issues(replacing("chaincode: wardgate-anchor", "chaincode: wardgate--anchor")).contains("ledger.fabric.chaincode: a chaincode name"))
        #expect(issues(replacing(", keyFile: ./fabric/tls-client.key", "")).contains("ledger.fabric.tls: certFile and keyFile go together (mutual TLS)"))
        #expect(issues(replacing("./fabric/tls-ca.pem", "./fabric/nope.pem")).contains("ledger.fabric.tls.caFile: no such file"))
        #expect(issues(replacing("  kind: fabric", "  kind: fabric\n  path: ./ledger.sqlite")).contains("ledger.path: belongs to the embedded ledger"))
        #expect(issues(replacing("  kind: fabric", "  kind: embedded")).contains("ledger.fabric: is only read with kind: fabric"))
        #expect(issues(Self.fabricSection) == "")
        #expect(issues(Self.fabricSection + "\n    timeouts: {commit: 0s}").contains("ledger.fabric.timeouts.commit: must be longer than 0 s"))
    }

    @Test("config init prints the embedded ledger in force; config init --ledger fabric prints Fabric with TLS and mTLS on, and both parse")
    func printedDefaults() throws {
        let embedded = try GatewayConfig.parse(GatewayConfig.defaultYAML, file: "wardgate.yml", baseDirectory: directory.path)
        #expect(embedded.ledger.kind == .embedded)
        #expect(GatewayConfig.defaultYAML.contains("# kind: fabric"))
        let fabric = try GatewayConfig.parse(GatewayConfig.defaultFabricYAML, file: "wardgate.yml", baseDirectory: directory.path)
        #expect(fabric.ledger.kind == .fabric)
        let settings = try #require(fabric.ledger.fabric)
        #expect(settings.tls?.caFile != nil && settings.tls?.certFile != nil && settings.tls?.keyFile != nil)
        #expect(settings.mspID == "WardOrgMSP" && settings.channel == "wards" && settings.chaincode == "wardgate-anchor")

        let printed = try ProcessRunner.run(TestSupport.wardgateBinary, ["config", "init", "--ledger", "fabric"])
        #expect(printed.status == 0 && printed.stdout.contains("kind: fabric") && printed.stdout.contains("caFile: ./fabric/tls-ca.pem"), "\(printed.output)")
        let plain = try ProcessRunner.run(TestSupport.wardgateBinary, ["config", "init"])
        #expect(plain.status == 0 && plain.stdout.contains("kind: embedded"))
    }
}
