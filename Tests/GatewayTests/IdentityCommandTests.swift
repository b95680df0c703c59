import DeviceIdentity
import Foundation
import Testing
import WardgateTestSupport

/// The identity commands of the `wardgate` binary, as an administrator runs them.
@Suite("CLI: device and gateway identities")
struct IdentityCommandTests {
    /// `wardgate <arguments>`; status and stdout+stderr.
    static func wardgate(_ arguments: [String]) throws -> ProcessResult {
        try ProcessRunner.run(TestSupport.wardgateBinary, arguments)
    }

    @Test("device list shows the gateway's decision: another CA, another device's certificate, a key that does not match")
    func deviceListShowsTheGatewaysDecision() throws {
        let directory = TestSupport.temporaryDirectory("device-list")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let ca = directory + "/ca", keys = directory + "/keys", otherCA = directory + "/other-ca", otherKeys = directory + "/other-keys"
        #expect(try Self.wardgate(["ca", "init", "--dir", ca, "--name", "Ward 7B CA"]).status == 0)
        #expect(try Self.wardgate(["ca", "init", "--dir", otherCA, "--name", "Ward 7B CA"]).status == 0)
        for device in ["bed-ok", "bed-foreign", "bed-copy", "bed-mismatch"] {
            #expect(try Self.wardgate(["device", "enroll", "--ca-dir", ca, "--keystore", keys, "--device", device]).status == 0)
        }
        #expect(try Self.wardgate(["device", "enroll", "--ca-dir", otherCA, "--keystore", otherKeys, "--device", "bed-foreign"]).status == 0)
        #expect(try Self.wardgate(["device", "enroll", "--ca-dir", otherCA, "--keystore", otherKeys, "--device", "bed-spare"]).status == 0)
        let store = Keystore(directory: keys), other = Keystore(directory: otherKeys)
        func copy(_ file: String, from source: String, to target: String) throws {
            try FileManager.default.removeItem(atPath: target + "/" + file)
            try FileManager.default.copyItem(atPath: source + "/" + file, toPath: target + "/" + file)
        }
        for file in ["cert.pem", "key.pem"] {
            try copy(file, from: other.identityDirectory(kind: .device, id: "bed-foreign"), to: store.identityDirectory(kind: .device, id: "bed-foreign"))
            try copy(file, from: store.identityDirectory(kind: .device, id: "bed-ok"), to: store.identityDirectory(kind: .device, id: "bed-copy"))
        }
        try copy("key.pem", from: other.identityDirectory(kind: .device, id: "bed-spare"), to: store.identityDirectory(kind: .device, id: "bed-mismatch"))

        let listed = try Self.wardgate(["device", "list", "--keystore", keys])
        #expect(listed.status == 0, "\(listed.output)")
        let rows = Dictionary(uniqueKeysWithValues: listed.output.split(separator: "\n").dropFirst().map { line in
            (String(line.split(separator: " ").first ?? ""), String(line))
        })
        #expect(rows["bed-ok"]?.hasSuffix("  valid") == true, "\(listed.output)")
        #expect(rows["bed-foreign"]?.contains("untrusted: its signature does not verify with the keystore's CA key") == true, "\(listed.output)")
        #expect(rows["bed-copy"]?.contains("untrusted: its subjectAltName names urn:wardgate:device:bed-ok, not urn:wardgate:device:bed-copy") == true, "\(listed.output)")
        #expect(rows["bed-mismatch"]?.contains("key-mismatch") == true, "\(listed.output)")

        // With --config, the identity section of the gateway's configuration decides.
        let config = directory + "/wardgate.yml"
        try "gateway: {id: ward-7b, stateDirectory: \(directory)/state}\nprofiles: {directory: \(TestSupport.shippedProfiles)}\nidentity: {keystore: \(keys)}\n"
            .write(toFile: config, atomically: true, encoding: .utf8)
        let viaConfig = try Self.wardgate(["device", "list", "--config", config])
        #expect(viaConfig.status == 0, "\(viaConfig.output)")
        #expect(viaConfig.output == listed.output)
        #expect(try Self.wardgate(["device", "list"]).status == 64)
    }

    @Test("device enroll under a gateway's id, and gateway enroll under a device's, fail with a message that says why")
    func namespacesAreDisjoint() throws {
        let directory = TestSupport.temporaryDirectory("namespaces")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let ca = directory + "/ca", keys = directory + "/keys"
        #expect(try Self.wardgate(["ca", "init", "--dir", ca, "--name", "Ward 7B CA"]).status == 0)
        #expect(try Self.wardgate(["gateway", "enroll", "--ca-dir", ca, "--keystore", keys, "--id", "gw"]).status == 0)
        #expect(try Self.wardgate(["device", "enroll", "--ca-dir", ca, "--keystore", keys, "--device", "bed-1"]).status == 0)

        for id in ["gw", "GW"] {
            let device = try Self.wardgate(["device", "enroll", "--ca-dir", ca, "--keystore", keys, "--device", id])
            #expect(device.status == 1, "\(device.output)")
            #expect(device.output.hasPrefix("error: device id \"\(id)\" is taken: gateway \"gw\" has it"), "\(device.output)")
            #expect(device.output.contains("Choose another device id"), "\(device.output)")
        }
        let gateway = try Self.wardgate(["gateway", "enroll", "--ca-dir", ca, "--keystore", keys, "--id", "bed-1"])
        #expect(gateway.status == 1, "\(gateway.output)")
        #expect(gateway.output.hasPrefix("error: gateway id \"bed-1\" is taken: device \"bed-1\" has it"), "\(gateway.output)")
        // Nothing was written for the refused ids.
        #expect(!FileManager.default.fileExists(atPath: keys + "/devices/gw"))
        #expect(!FileManager.default.fileExists(atPath: keys + "/gateways/bed-1"))
        let listed = try Self.wardgate(["device", "list", "--keystore", keys])
        #expect(listed.output.split(separator: "\n").count == 2, "\(listed.output)")
    }
}
