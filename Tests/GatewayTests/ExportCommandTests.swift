import Foundation
import Gateway
import JSONDocument
import Testing
import WardgateTestSupport

@Suite("CLI: wardgate export --resources observation|provenance|all", .serialized)
struct ExportCommandTests {
    /// A journal with three signed Observations (one payload of the enrolled device "good") and a
    /// quarantined one (a device with no certificate), and a configuration file naming it.
    static func journalWithSignedAndQuarantined() throws -> (directory: String, config: String, signed: Set<String>, quarantined: String) {
        let ward = try SigningTests.makeWard()
        var config = TestSupport.config(directory: ward.directory, brokerPort: 1)
        config.identity = .init(keystore: ward.keystore.directory)
        let gateway = try Gateway(config: config, logger: TestSupport.quietLogger)
        let good = #"{"ts": 1763719200000, "hr": 72, "temp_f": 98.6, "bp": {"sys": 120, "dia": 80}}"#
        try gateway.journal.appendInbox(topic: "wards/w/devices/good/vitals", payload: Array(good.utf8), qos: 1, receivedAt: Date())
        let stranger = #"{"ts": 1763719201000, "hr": 64}"#
        try gateway.journal.appendInbox(topic: "wards/w/devices/stranger/vitals", payload: Array(stranger.utf8), qos: 1, receivedAt: Date())
        try gateway.processor.drain()
        let stored = try gateway.journal.observations()
        try gateway.journal.close()
        let signed = Set(stored.filter { $0.signature != nil }.map(\.id))
        let quarantined = try #require(stored.first { $0.signature == nil }?.id)
        #expect(signed.count == 3 && stored.count == 4)
        let path = try TestSupport.writeConfigFile(directory: ward.directory, brokerPort: 1, clientId: "wardgate-export")
        return (ward.directory, path, signed, quarantined)
    }

    static func export(_ arguments: [String]) throws -> (status: Int32, resources: [JSONValue], output: String) {
        let result = try ProcessRunner.run(TestSupport.wardgateBinary, ["export"] + arguments)
        let lines = result.stdout.split(separator: "\n").map(String.init)
        return (result.status, try lines.map { try JSONParser.parse($0) }, result.output)
    }

    static func ids(_ resources: [JSONValue], type: String) -> [String] {
        resources.filter { $0["resourceType"]?.stringValue == type }.compactMap { $0["id"]?.stringValue }
    }

    /// The Observation a Provenance's `target` references.
    static func target(_ provenance: JSONValue) -> String? {
        provenance["target"]?.arrayValue?.first?["reference"]?.stringValue.map { String($0.dropFirst("Observation/".count)) }
    }

    @Test("all (and no --resources at all, as before): each Observation, then the Provenance of each signed one, on the next line")
    func all() throws {
        let fixture = try Self.journalWithSignedAndQuarantined()
        defer { try? FileManager.default.removeItem(atPath: fixture.directory) }
        let byDefault = try Self.export(["--config", fixture.config])
        let all = try Self.export(["--config", fixture.config, "--resources", "all"])
        #expect(byDefault.status == 0 && all.status == 0, "\(byDefault.output)\(all.output)")
        #expect(byDefault.output == all.output)
        #expect(all.resources.count == 7)
        var lastObservation: String?
        for resource in all.resources {
            switch resource["resourceType"]?.stringValue {
            case "Observation": lastObservation = resource["id"]?.stringValue
            case "Provenance":
                #expect(Self.target(resource) == lastObservation, "a Provenance follows the Observation it signs")
                #expect(lastObservation.map(fixture.signed.contains) == true)
            default: Issue.record("unexpected resource \(resource)")
            }
        }
        #expect(Set(Self.ids(all.resources, type: "Observation")) == fixture.signed.union([fixture.quarantined]))
    }

    @Test("observation: only the Observations, quarantined ones included")
    func observationOnly() throws {
        let fixture = try Self.journalWithSignedAndQuarantined()
        defer { try? FileManager.default.removeItem(atPath: fixture.directory) }
        let exported = try Self.export(["--config", fixture.config, "--resources", "observation"])
        #expect(exported.status == 0, "\(exported.output)")
        #expect(exported.resources.count == 4)
        #expect(Set(Self.ids(exported.resources, type: "Observation")) == fixture.signed.union([fixture.quarantined]))

        let bundle = try Self.export(["--config", fixture.config, "--resources", "observation", "--format", "bundle"])
        #expect(bundle.status == 0, "\(bundle.output)")
        let entries = try #require(bundle.resources.first?["entry"]?.arrayValue)
        #expect(entries.count == 4)
        #expect(entries.allSatisfy { $0["resource"]?["resourceType"]?.stringValue == "Observation" })
    }

    @Test("provenance: only the Provenances, one per signed Observation, none for the quarantined one")
    func provenanceOnly() throws {
        let fixture = try Self.journalWithSignedAndQuarantined()
        defer { try? FileManager.default.removeItem(atPath: fixture.directory) }
        let exported = try Self.export(["--config", fixture.config, "--resources", "provenance"])
        #expect(exported.status == 0, "\(exported.output)")
        #expect(exported.resources.count == 3)
        #expect(exported.resources.allSatisfy { $0["resourceType"]?.stringValue == "Provenance" })
        #expect(Set(exported.resources.compactMap(Self.target)) == fixture.signed)
        #expect(exported.resources.allSatisfy { $0["signature"]?.arrayValue?.first?["data"]?.stringValue?.isEmpty == false })
    }

    @Test("any other value is refused with exit status 2, naming the accepted ones")
    func unknownValue() throws {
        let fixture = try Self.journalWithSignedAndQuarantined()
        defer { try? FileManager.default.removeItem(atPath: fixture.directory) }
        let result = try ProcessRunner.run(TestSupport.wardgateBinary, ["export", "--config", fixture.config, "--resources", "observations"])
        #expect(result.status == 2)
        #expect(result.stderr.contains("--resources must be observation, provenance or all"), "\(result.output)")
        #expect(result.stdout.isEmpty)
    }
}
