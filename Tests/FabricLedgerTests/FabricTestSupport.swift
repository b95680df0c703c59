import Crypto
import FabricLedger
import Foundation
import Ledger
import Logging
import SwiftASN1
import Testing
import TransparencyLog
import X509

/// A directory removed when the value goes away.
final class TemporaryDirectory: Sendable {
    let path: String

    init() throws {
        path = NSTemporaryDirectory() + "fabric-ledger-tests-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
    }

    func file(_ name: String) -> String { path + "/" + name }

    deinit { try? FileManager.default.removeItem(atPath: path) }
}

/// A P-256 certificate authority made in the test.
struct TestCA {
    let key: P256.Signing.PrivateKey
    let certificate: Certificate

    init(name: String) throws {
        let key = P256.Signing.PrivateKey()
        self.key = key
        let subject = try DistinguishedName {
            OrganizationName(name)
            CommonName("ca.\(name)")
        }
        certificate = try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: Certificate.PublicKey(key.publicKey),
            notValidBefore: Date().addingTimeInterval(-3600), notValidAfter: Date().addingTimeInterval(86400 * 365),
            issuer: subject, subject: subject, signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.isCertificateAuthority(maxPathLength: nil))
                Critical(KeyUsage(digitalSignature: true, keyCertSign: true, cRLSign: true))
                SubjectKeyIdentifier(hash: Certificate.PublicKey(key.publicKey))
            },
            issuerPrivateKey: Certificate.PrivateKey(key))
    }

    /// A leaf certificate: for a Fabric identity, a TLS server (`ipAddress`) or a TLS client.
    func issue(commonName: String, organizationalUnit: String? = nil, ipAddress: [UInt8]? = nil, serverAuth: Bool = false, clientAuth: Bool = false,
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

    func writePEM(to path: String) throws { try writeFile(certificate.serializeAsPEM().pemString + "\n", to: path) }
}

struct TestIdentity {
    let certificate: Certificate
    let key: P256.Signing.PrivateKey

    /// Writes `<name>.pem` and `<name>.key` (mode 0600); returns their paths.
    @discardableResult
    func write(in directory: TemporaryDirectory, as name: String) throws -> (certificate: String, key: String) {
        let paths = (directory.file("\(name).pem"), directory.file("\(name).key"))
        try writeFile(certificate.serializeAsPEM().pemString + "\n", to: paths.0)
        try writeFile(key.pemRepresentation + "\n", to: paths.1, mode: 0o600)
        return paths
    }
}

func writeFile(_ text: String, to path: String, mode: Int = 0o644) throws {
    guard FileManager.default.createFile(atPath: path, contents: Data(text.utf8), attributes: [.posixPermissions: mode]) else {
        throw TestFailure("cannot write \(path)")
    }
}

struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Everything one Fabric test needs: a ward organization (the gateway's Fabric identity and an
/// admin), a separate peer organization (the endorser), a TLS CA, and the gateway's log key
/// whose certificate is registered for the origin.
struct FabricFixture {
    static let origin = "wardgate/hospital.example/ward-7b"
    static let wardMSP = "WardOrgMSP"
    static let peerMSP = "PeerOrgMSP"

    let directory: TemporaryDirectory
    let wardCA: TestCA
    let peerCA: TestCA
    let tlsCA: TestCA
    let client: TestIdentity
    let admin: TestIdentity
    let gatewayLog: TestIdentity
    let peer: TestIdentity
    var paths: [String: String] = [:]

    init() throws {
        directory = try TemporaryDirectory()
        wardCA = try TestCA(name: "ward.hospital.example")
        peerCA = try TestCA(name: "peers.consortium.example")
        tlsCA = try TestCA(name: "tls.consortium.example")
        client = try wardCA.issue(commonName: "wardgate-ward-7b", organizationalUnit: "client")
        admin = try wardCA.issue(commonName: "admin", organizationalUnit: "admin")
        gatewayLog = try wardCA.issue(commonName: Self.origin)
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
    func peerArguments(state: String? = nil, tls: Bool = false, mutualTLS: Bool = false, extra: [String] = []) -> [String] {
        var arguments = [
            "--client-msp", "\(Self.wardMSP)=\(directory.file("ward-ca.pem"))",
            "--peer-msp", Self.peerMSP, "--peer-cert", directory.file("peer.pem"), "--peer-key", directory.file("peer.key"),
            "--register", "\(Self.origin)=\(directory.file("gateway.pem")):\(Self.wardMSP)",
        ]
        if let state { arguments += ["--state", state] }
        if tls { arguments += ["--tls-cert", directory.file("tls-server.pem"), "--tls-key", directory.file("tls-server.key")] }
        if mutualTLS { arguments += ["--tls-client-ca", directory.file("tls-ca.pem")] }
        return arguments + extra
    }

    func settings(port: Int, tls: FabricSettings.TLS? = nil, timeouts: FabricSettings.Timeouts = .init(call: .seconds(15), commitStatusCall: .seconds(5), commit: .seconds(30))) -> FabricSettings {
        FabricSettings(endpoint: "127.0.0.1:\(port)", mspID: Self.wardMSP, certificatePath: directory.file("client.pem"), keyPath: directory.file("client.key"),
                       channel: "wards", chaincode: "wardgate-anchor", tls: tls, timeouts: timeouts)
    }

    func fabricIdentity(_ identity: TestIdentity? = nil) throws -> FabricSigningIdentity {
        let identity = identity ?? client
        return try FabricSigningIdentity(mspID: Self.wardMSP, certificate: identity.certificate, privateKey: identity.key)
    }
}

/// The Python test double of a Fabric peer (Resources/fabric_test_peer.py), on a free loopback port.
final class FabricTestPeer: @unchecked Sendable {
    // @unchecked: `process` is only touched by the test that owns this object, one call at a time.
    private let process: Process
    let port: Int
    let output: String

    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Resources/fabric_test_peer.py").path

    init(arguments: [String], in directory: TemporaryDirectory, port: Int = 0) throws {
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

    var log: String { (try? String(contentsOfFile: output, encoding: .utf8)) ?? "" }

    /// SIGKILL: the peer goes away at once, as in a crash or a network cut.
    func kill() {
        guard process.isRunning else { return }
        Foundation.kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    deinit { kill() }
}

/// Runs `body` with a started `FabricLedger` and shuts it down afterwards.
func withFabricLedger<T: Sendable>(_ settings: FabricSettings, identity: FabricSigningIdentity? = nil,
                                   onFailure: @escaping @Sendable (FabricFailure) -> Void = { _ in },
                                   _ body: (FabricLedger) async throws -> T) async throws -> T {
    let ledger = try FabricLedger(settings: settings, identity: identity, logger: Logger(label: "fabric-test"), onFailure: onFailure)
    return try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask { try await ledger.run() }
        do {
            let result = try await body(ledger)
            ledger.shutdown()
            try await group.waitForAll()
            return result
        } catch {
            ledger.shutdown()
            try? await group.waitForAll()
            throw error
        }
    }
}

/// A real RFC 9162 log whose checkpoints the gateway's log key signs, cut into batches.
final class TestLog: @unchecked Sendable {
    // @unchecked: used by one test at a time; the tree is a plain in-memory store.
    let tree: LogTree<InMemorySubtreeHashStore>
    let signer: ECDSAP256NoteSigner
    let origin: String
    private var leaves: [[UInt8]] = []

    init(origin: String = FabricFixture.origin, key: P256.Signing.PrivateKey, seed: String = "reading") throws {
        self.origin = origin
        tree = try LogTree(store: InMemorySubtreeHashStore())
        signer = try ECDSAP256NoteSigner(keyName: origin, privateKey: key)
        self.seed = seed
    }

    private let seed: String

    /// Appends `count` leaves; returns the batch of everything since `anchoredSize`.
    func batch(adding count: Int, anchoredSize: UInt64) throws -> LedgerBatch {
        let first = UInt64(leaves.count)
        for index in 0..<count { leaves.append(Array("{\"\(seed)\":\(first + UInt64(index))}".utf8)) }
        _ = try tree.append(leafData: leaves[Int(first)...])
        let size = UInt64(leaves.count)
        return try batch(atSize: size, anchoredSize: anchoredSize)
    }

    func batch(atSize size: UInt64, anchoredSize: UInt64) throws -> LedgerBatch {
        let note = try CheckpointSigner(origin: origin, signer: signer, lastSigned: nil).signCheckpoint(for: tree, atSize: size).text
        let proof = anchoredSize == 0 ? ConsistencyProof(fromSize: 0, toSize: size, hashes: []) : try tree.consistencyProof(fromSize: anchoredSize, toSize: size)
        let entries = (anchoredSize..<size).map { LedgerEntry(leafIndex: $0, leafData: leaves[Int($0)]) }
        return LedgerBatch(key: BatchKey(origin: origin, treeSize: size), checkpointNote: note, consistencyProof: proof, entries: entries)
    }

    func inclusionProof(leafIndex: UInt64, treeSize: UInt64) throws -> InclusionProof { try tree.inclusionProof(leafIndex: leafIndex, treeSize: treeSize) }
    func leafHash(_ index: UInt64) throws -> MerkleHash { try tree.leafHash(at: index) }
}

/// Every Fabric suite runs one test at a time: each test starts a Python peer, and many at once
/// on two cores make the first calls slower than the timeouts the tests mean to exercise.
@Suite(.serialized) enum FabricSuites {}
