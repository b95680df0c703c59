import Crypto
import Foundation
import HexEncoding
import SwiftASN1
import X509

#if canImport(Glibc)
import Glibc
#endif

/// A P-256 certificate authority made in the test.
public struct TestCA {
    public let key: P256.Signing.PrivateKey
    public let certificate: Certificate

    /// A root CA, or with `issuer` an intermediate CA it signs (a Fabric MSP's `intermediatecerts`).
    public init(name: String, issuer: TestCA? = nil) throws {
        let key = P256.Signing.PrivateKey()
        self.key = key
        let subject = try DistinguishedName {
            OrganizationName(name)
            CommonName("ca.\(name)")
        }
        certificate = try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: Certificate.PublicKey(key.publicKey),
            notValidBefore: Date().addingTimeInterval(-3600), notValidAfter: Date().addingTimeInterval(86400 * 365),
            issuer: issuer?.certificate.subject ?? subject, subject: subject, signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.isCertificateAuthority(maxPathLength: nil))
                Critical(KeyUsage(digitalSignature: true, keyCertSign: true, cRLSign: true))
                SubjectKeyIdentifier(hash: Certificate.PublicKey(key.publicKey))
                if let issuer { AuthorityKeyIdentifier(keyIdentifier: try issuer.certificate.extensions.subjectKeyIdentifier?.keyIdentifier) }
            },
            issuerPrivateKey: Certificate.PrivateKey(issuer?.key ?? key))
    }

    /// A leaf certificate: for a Fabric identity, a TLS server (`ipAddress`) or a TLS client.
    public func issue(commonName: String, organizationalUnit: String? = nil, ipAddress: [UInt8]? = nil, serverAuth: Bool = false, clientAuth: Bool = false,
               key: P256.Signing.PrivateKey = P256.Signing.PrivateKey()) throws -> TestIdentity {
        let subject = try DistinguishedName {
            OrganizationName(certificate.subject.description)
            if let organizationalUnit { OrganizationalUnitName(organizationalUnit) }
            CommonName(commonName)
        }
        var usages: [ExtendedKeyUsage.Usage] = []
        if serverAuth { usages.append(.serverAuth) }
        if clientAuth { usages.append(.clientAuth) }
        let leaf = try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: Certificate.PublicKey(key.publicKey),
            notValidBefore: Date().addingTimeInterval(-3600), notValidAfter: Date().addingTimeInterval(86400 * 30),
            issuer: certificate.subject, subject: subject, signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.notCertificateAuthority)
                Critical(KeyUsage(digitalSignature: true))
                AuthorityKeyIdentifier(keyIdentifier: try certificate.extensions.subjectKeyIdentifier?.keyIdentifier)
                if !usages.isEmpty { try ExtendedKeyUsage(usages) }
                if let ipAddress { SubjectAlternativeNames([.ipAddress(ASN1OctetString(contentBytes: ArraySlice(ipAddress)))]) }
            },
            issuerPrivateKey: Certificate.PrivateKey(self.key))
        return TestIdentity(certificate: leaf, key: key)
    }

    public func writePEM(to path: String) throws { try writeFile(certificate.serializeAsPEM().pemString + "\n", to: path) }
}

public struct TestIdentity {
    public let certificate: Certificate
    public let key: P256.Signing.PrivateKey

    /// Writes `<name>.pem` and `<name>.key` (mode 0600); returns their paths.
    @discardableResult
    public func write(in directory: TemporaryDirectory, as name: String) throws -> (certificate: String, key: String) {
        let paths = (directory.file("\(name).pem"), directory.file("\(name).key"))
        try writeFile(certificate.serializeAsPEM().pemString + "\n", to: paths.0)
        try writeFile(key.pemRepresentation + "\n", to: paths.1, mode: 0o600)
        return paths
    }
}

public func writeFile(_ text: String, to path: String, mode: Int = 0o644) throws {
    guard FileManager.default.createFile(atPath: path, contents: Data(text.utf8), attributes: [.posixPermissions: mode]) else {
        throw TestFailure("cannot write \(path)")
    }
}

public struct TestFailure: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// Everything one Fabric test needs: a ward organization (the gateway's Fabric identity and an
/// admin), a separate peer organization (the endorser), a TLS CA, and the gateway's log key
/// whose certificate is registered for the origin.
public struct FabricFixture {
    public static let defaultOrigin = "wardgate/hospital.example/ward-7b"
    public static let wardMSP = "WardOrgMSP"
    public static let peerMSP = "PeerOrgMSP"

    public let directory: TemporaryDirectory
    public let origin: String
    public let wardCA: TestCA
    public let peerCA: TestCA
    public let tlsCA: TestCA
    public let client: TestIdentity
    public let admin: TestIdentity
    /// The gateway's log key and certificate, registered for `origin` in the double.
    public let gatewayLog: TestIdentity
    public let peer: TestIdentity
    public var paths: [String: String] = [:]

    public init(origin: String = FabricFixture.defaultOrigin) throws {
        self.origin = origin
        directory = try TemporaryDirectory(prefix: "wardgate-fabric")
        wardCA = try TestCA(name: "ward.hospital.example")
        peerCA = try TestCA(name: "peers.consortium.example")
        tlsCA = try TestCA(name: "tls.consortium.example")
        client = try wardCA.issue(commonName: "wardgate-ward-7b", organizationalUnit: "client")
        admin = try wardCA.issue(commonName: "admin", organizationalUnit: "admin")
        gatewayLog = try wardCA.issue(commonName: origin)
        peer = try peerCA.issue(commonName: "peer0.peers.consortium.example", organizationalUnit: "peer")
        try wardCA.writePEM(to: directory.file("ward-ca.pem"))
        try peerCA.writePEM(to: directory.file("peer-ca.pem"))
        try tlsCA.writePEM(to: directory.file("tls-ca.pem"))
        (paths["client.pem"], paths["client.key"]) = try client.write(in: directory, as: "client")
        (paths["gateway.pem"], paths["gateway.key"]) = try gatewayLog.write(in: directory, as: "gateway")
        (paths["peer.pem"], paths["peer.key"]) = try peer.write(in: directory, as: "peer")
        try tlsCA.issue(commonName: "peer0", ipAddress: [127, 0, 0, 1], serverAuth: true).write(in: directory, as: "tls-server")
        try tlsCA.issue(commonName: "wardgate-ward-7b", clientAuth: true).write(in: directory, as: "tls-client")
    }

    /// The double's arguments for this fixture.
    /// The double's arguments for this fixture. `gatewayCertificate` registers another
    /// certificate for the origin than the fixture's own (a gateway enrolled elsewhere).
    public func peerArguments(state: String? = nil, tls: Bool = false, mutualTLS: Bool = false, gatewayCertificate: String? = nil,
                              extra: [String] = []) -> [String] {
        var arguments = [
            "--client-msp", "\(Self.wardMSP)=\(directory.file("ward-ca.pem"))",
            "--peer-msp", Self.peerMSP, "--peer-cert", directory.file("peer.pem"), "--peer-key", directory.file("peer.key"),
            "--register", "\(origin)=\(gatewayCertificate ?? directory.file("gateway.pem")):\(Self.wardMSP)",
        ]
        if let state { arguments += ["--state", state] }
        if tls { arguments += ["--tls-cert", directory.file("tls-server.pem"), "--tls-key", directory.file("tls-server.key")] }
        if mutualTLS { arguments += ["--tls-client-ca", directory.file("tls-ca.pem")] }
        return arguments + extra
    }
}

/// The Python test double of a Fabric peer (Resources/fabric_test_peer.py), on a free loopback port.
public final class FabricTestPeer: @unchecked Sendable {
    // @unchecked: `process` is only touched by the test that owns this object, one call at a time.
    private let process: Process
    public let port: Int
    public let output: String

    /// The double's script, beside this file in the source tree.
    public static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("fabric_test_peer.py").path

    public init(arguments: [String], in directory: TemporaryDirectory, port: Int = 0) throws {
        output = directory.file("peer-\(UUID().uuidString.prefix(8)).log")
        _ = FileManager.default.createFile(atPath: output, contents: nil)
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: output))
        process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", Self.script, "--port", String(port)] + arguments
        process.standardOutput = log
        process.standardError = log
        try process.run()
        let deadline = Date().addingTimeInterval(30)
        while true {
            let text = (try? String(contentsOfFile: output, encoding: .utf8)) ?? ""
            if let line = text.split(separator: "\n").first(where: { $0.hasPrefix("READY ") }), let port = Int(line.dropFirst(6)) {
                self.port = port
                return
            }
            guard process.isRunning, Date() < deadline else {
                process.terminate()
                throw TestFailure("the Fabric test peer did not start: \(text)")
            }
            Thread.sleep(forTimeInterval: 0.05)
        }
    }

    public var log: String { (try? String(contentsOfFile: output, encoding: .utf8)) ?? "" }

    /// SIGKILL: the peer goes away at once, as in a crash or a network cut.
    public func kill() {
        guard process.isRunning else { return }
        Foundation.kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    deinit { kill() }
}


/// What the double's `--state` file says the channel holds for one origin: the anchor records in
/// world state and the validation code of every transaction, read straight from the file.
public struct FabricDoubleState: Sendable {
    public struct Anchor: Sendable, Hashable {
        public let treeSize: UInt64
        public let previousTreeSize: UInt64
        public let transactionID: String
    }

    /// Anchor records, by tree size.
    public let anchors: [Anchor]
    /// The head record's tree size (0 without one).
    public let headSize: UInt64
    /// Validation code (Fabric's `TxValidationCode` number) by transaction id.
    public let validationCodes: [String: Int]

    public init(path: String, origin: String) throws {
        guard let data = FileManager.default.contents(atPath: path),
            let saved = try JSONSerialization.jsonObject(with: data) as? [String: Any],
            let state = saved["state"] as? [String: [String: Any]], let transactions = saved["transactions"] as? [String: [String: Any]]
        else { throw TestFailure("\(path) is not the double's state file") }
        func record(_ entry: [String: Any]) -> [String: Any]? {
            (entry["value"] as? String).flatMap { Data(base64Encoded: $0) }.flatMap { try? JSONSerialization.jsonObject(with: $0) as? [String: Any] }
        }
        let anchorPrefix = "\u{0}wardgate.anchor\u{0}\(origin)\u{0}"
        var anchors: [Anchor] = []
        var head: UInt64 = 0
        for (hexKey, entry) in state {
            guard let keyBytes = try? Hex.decode(hexKey), let key = String(bytes: keyBytes, encoding: .utf8), let value = record(entry) else { continue }
            if key.hasPrefix(anchorPrefix), let size = value["treeSize"] as? Int, let previous = value["previousTreeSize"] as? Int, let tx = value["txId"] as? String {
                anchors.append(Anchor(treeSize: UInt64(size), previousTreeSize: UInt64(previous), transactionID: tx))
            } else if key == "\u{0}wardgate.head\u{0}\(origin)\u{0}", let size = value["treeSize"] as? Int {
                head = UInt64(size)
            }
        }
        self.anchors = anchors.sorted { $0.treeSize < $1.treeSize }
        headSize = head
        validationCodes = transactions.compactMapValues { $0["code"] as? Int }
    }

    /// Rewrites the head record of `origin` in the double's `--state` file (with the double
    /// stopped) to another root at the same size: a channel that anchored a different log.
    public static func replaceHeadRoot(path: String, origin: String, rootHex: String) throws {
        guard let data = FileManager.default.contents(atPath: path), var saved = try JSONSerialization.jsonObject(with: data) as? [String: Any],
            var state = saved["state"] as? [String: [String: Any]]
        else { throw TestFailure("\(path) is not the double's state file") }
        let headKey = Array("\u{0}wardgate.head\u{0}\(origin)\u{0}".utf8)
        guard let key = state.keys.first(where: { (try? Hex.decode($0)) == headKey }), var entry = state[key], let value = (entry["value"] as? String).flatMap({ Data(base64Encoded: $0) }),
            var head = try JSONSerialization.jsonObject(with: value) as? [String: Any]
        else { throw TestFailure("no head record of \(origin) in \(path)") }
        head["rootHash"] = rootHex
        entry["value"] = try JSONSerialization.data(withJSONObject: head).base64EncodedString()
        state[key] = entry
        saved["state"] = state
        try JSONSerialization.data(withJSONObject: saved).write(to: URL(fileURLWithPath: path))
    }

    /// Every anchor extends the one before it (`previousTreeSize`), from 0 to `headSize`: no gap,
    /// no fork, no leaf anchored twice. Returns what is wrong, or nil.
    public var chainProblem: String? {
        var expected: UInt64 = 0
        for anchor in anchors {
            guard anchor.previousTreeSize == expected else { return "anchor \(anchor.treeSize) extends \(anchor.previousTreeSize), not \(expected)" }
            guard anchor.treeSize > expected else { return "anchor \(anchor.treeSize) does not grow the log" }
            expected = anchor.treeSize
        }
        return expected == headSize ? nil : "the head is \(headSize), the last anchor \(expected)"
    }
}
