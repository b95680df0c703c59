import Crypto
import FabricLedger
import Foundation
import Ledger
import Logging
import SwiftASN1
import Testing
import WardgateTestSupport
import TransparencyLog
import X509

extension FabricFixture {
    func settings(port: Int, tls: FabricSettings.TLS? = nil, timeouts: FabricSettings.Timeouts = .init(call: .seconds(15), commitStatusCall: .seconds(5), commit: .seconds(30))) -> FabricSettings {
        FabricSettings(endpoint: "127.0.0.1:\(port)", mspID: Self.wardMSP, certificatePath: directory.file("client.pem"), keyPath: directory.file("client.key"),
                       channel: "wards", chaincode: "wardgate-anchor", tls: tls, timeouts: timeouts)
    }

    func fabricIdentity(_ identity: TestIdentity? = nil) throws -> FabricSigningIdentity {
        let identity = identity ?? client
        return try FabricSigningIdentity(mspID: Self.wardMSP, certificate: identity.certificate, privateKey: identity.key)
    }
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

    init(origin: String = FabricFixture.defaultOrigin, key: P256.Signing.PrivateKey, seed: String = "reading") throws {
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
