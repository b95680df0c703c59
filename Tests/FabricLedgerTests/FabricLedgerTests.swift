import FabricLedger
import Foundation
import JSONDocument
import Ledger
import Synchronization
import Testing
import WardgateTestSupport
import TransparencyLog

extension FabricSuites {
    /// The Fabric adapter against the test double of a Fabric peer (Resources/fabric_test_peer.py).
    @Suite struct FabricLedgerTests {
        /// Collects the adapter's failure labels.
        final class Failures: Sendable {
            let labels = Mutex<[String]>([])
            var handler: @Sendable (FabricFailure) -> Void { { failure in self.labels.withLock { $0.append(failure.metricLabel) } } }
            var all: [String] { labels.withLock { $0 } }
        }

        func anchored(_ outcome: SubmitOutcome, sourceLocation: SourceLocation = #_sourceLocation) throws -> LedgerReceipt {
            guard case .anchored(let receipt) = outcome else {
                throw TestFailure("expected a receipt, got \(outcome)")
            }
            return receipt
        }

        @Test func anchorsBatchesInOrderAndEachReceiptNamesItsTransaction() async throws {
            let fixture = try FabricFixture()
            let peer = try FabricTestPeer(arguments: fixture.peerArguments(), in: fixture.directory)
            let log = try TestLog(key: fixture.gatewayLog.key)
            try await withFabricLedger(fixture.settings(port: peer.port)) { ledger in
                #expect(await ledger.health() == .available)
                let first = try anchored(await ledger.submit(try log.batch(adding: 3, anchoredSize: 0)))
                let second = try anchored(await ledger.submit(try log.batch(adding: 5, anchoredSize: 3)))
                let firstReceipt = try FabricReceipt(document: first.document)
                let secondReceipt = try FabricReceipt(document: second.document)
                #expect(first.kind == "fabric" && first.key == BatchKey(origin: FabricFixture.defaultOrigin, treeSize: 3))
                #expect(secondReceipt.key.treeSize == 8)
                #expect(firstReceipt.transactionID != secondReceipt.transactionID)
                #expect(secondReceipt.blockNumber > firstReceipt.blockNumber)
                #expect(firstReceipt.validationCode == "VALID")
                #expect(firstReceipt.transaction.endorsements.first?.identity?.mspID == FabricFixture.peerMSP)
                // receipt(for:) reads the issued receipt back from the ledger (chaincode + qscc).
                let readBack = try #require(try await ledger.receipt(for: second.key))
                #expect(readBack == second)
                #expect(try await ledger.receipt(for: BatchKey(origin: FabricFixture.defaultOrigin, treeSize: 5)) == nil)
            }
        }

        /// A batch sent again (after a crash that lost the receipt) gets the receipt already
        /// issued, and the ledger holds one anchor transaction, not two.
        @Test func resubmissionReturnsTheReceiptAlreadyIssuedAndNeverASecondAnchor() async throws {
            let fixture = try FabricFixture()
            let state = fixture.directory.file("ledger.json")
            let peer = try FabricTestPeer(arguments: fixture.peerArguments(state: state), in: fixture.directory)
            let log = try TestLog(key: fixture.gatewayLog.key)
            let batch = try log.batch(adding: 4, anchoredSize: 0)
            let first = try await withFabricLedger(fixture.settings(port: peer.port)) { ledger in try anchored(await ledger.submit(batch)) }
            // A new adapter instance, as after a restart.
            let again = try await withFabricLedger(fixture.settings(port: peer.port)) { ledger in try anchored(await ledger.submit(batch)) }
            #expect(again == first)
            let saved = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: state))) as? [String: Any])
            let transactions = try #require(saved["transactions"] as? [String: Any])
            #expect(transactions.count == 1, "the resubmission must not commit a second transaction")
            #expect(transactions.keys.first == (try FabricReceipt(document: first.document)).transactionID)
        }

        /// A commit slower than `timeouts.commit` is a retryable failure; once the transaction
        /// commits after all, the resend gets its receipt instead of anchoring again.
        @Test func aSlowCommitIsRetryableAndTheResendGetsTheLateReceipt() async throws {
            let fixture = try FabricFixture()
            let state = fixture.directory.file("ledger.json")
            let peer = try FabricTestPeer(arguments: fixture.peerArguments(state: state, extra: ["--commit-delay-ms", "1500"]), in: fixture.directory)
            let log = try TestLog(key: fixture.gatewayLog.key)
            let batch = try log.batch(adding: 3, anchoredSize: 0)
            let failures = Failures()
            let impatient = FabricSettings.Timeouts(call: .seconds(15), commitStatusCall: .milliseconds(300), commit: .milliseconds(600))
            try await withFabricLedger(fixture.settings(port: peer.port, timeouts: impatient), onFailure: failures.handler) { ledger in
                guard case .retryable(let reason) = await ledger.submit(batch) else { throw TestFailure("a slow commit must be retryable") }
                #expect(reason.contains("not-committed"), "\(reason)")
                let deadline = ContinuousClock.now + .seconds(20)
                var issued: LedgerReceipt?
                while issued == nil, ContinuousClock.now < deadline {
                    try await Task.sleep(for: .milliseconds(100))
                    issued = try? await ledger.receipt(for: batch.key)
                }
                let late = try #require(issued, "the first transaction never committed")
                #expect(try anchored(await ledger.submit(batch)) == late)
            }
            #expect(failures.all == ["not-committed"])
            let saved = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: state))) as? [String: Any])
            #expect((saved["transactions"] as? [String: Any])?.count == 1)
        }

        @Test(arguments: [
            (fault: "Endorse=unavailable:2", label: "unavailable"),
            (fault: "Submit=unavailable:1", label: "unavailable"),
            (fault: "Endorse=aborted:1", label: "aborted"),
            (fault: "Commit=mvcc:1", label: "mvcc-conflict"),
        ])
        func retryableFaultsAreClassifiedAndTheNextAttemptAnchors(fault: String, label: String) async throws {
            let fixture = try FabricFixture()
            let peer = try FabricTestPeer(arguments: fixture.peerArguments(extra: ["--fault", fault]), in: fixture.directory)
            let log = try TestLog(key: fixture.gatewayLog.key)
            let batch = try log.batch(adding: 2, anchoredSize: 0)
            let failures = Failures()
            try await withFabricLedger(fixture.settings(port: peer.port), onFailure: failures.handler) { ledger in
                var outcomes: [SubmitOutcome] = []
                for _ in 0..<3 {
                    let outcome = await ledger.submit(batch)
                    outcomes.append(outcome)
                    if case .anchored = outcome { break }
                }
                guard case .anchored = outcomes.last else { throw TestFailure("never anchored: \(outcomes)") }
                for outcome in outcomes.dropLast() {
                    guard case .retryable(let reason) = outcome else { throw TestFailure("expected a retryable failure, got \(outcome)") }
                    #expect(reason.contains(label), "\(reason)")
                }
                #expect(!outcomes.dropLast().isEmpty)
            }
            #expect(!failures.all.isEmpty && failures.all.allSatisfy { $0 == label }, "\(failures.all)")
        }

        @Test func aStalledCallIsADeadlineAndRetryable() async throws {
            let fixture = try FabricFixture()
            let peer = try FabricTestPeer(arguments: fixture.peerArguments(extra: ["--fault", "Endorse=deadline:1", "--deadline-sleep", "3"]), in: fixture.directory)
            let log = try TestLog(key: fixture.gatewayLog.key)
            let failures = Failures()
            let timeouts = FabricSettings.Timeouts(call: .seconds(1), commitStatusCall: .seconds(5), commit: .seconds(20))
            try await withFabricLedger(fixture.settings(port: peer.port, timeouts: timeouts), onFailure: failures.handler) { ledger in
                let batch = try log.batch(adding: 2, anchoredSize: 0)
                guard case .retryable(let reason) = await ledger.submit(batch) else { throw TestFailure("a stalled endorse must be retryable") }
                #expect(reason.contains("deadline-exceeded"))
                _ = try anchored(await ledger.submit(batch))
            }
            #expect(failures.all == ["deadline-exceeded"])
        }

        @Test func anUnreachablePeerIsUnavailableAndRetryable() async throws {
            let fixture = try FabricFixture()
            let peer = try FabricTestPeer(arguments: fixture.peerArguments(), in: fixture.directory)
            let port = peer.port
            peer.kill()
            let log = try TestLog(key: fixture.gatewayLog.key)
            let timeouts = FabricSettings.Timeouts(call: .seconds(2), commitStatusCall: .seconds(2), commit: .seconds(5))
            try await withFabricLedger(fixture.settings(port: port, timeouts: timeouts)) { ledger in
                guard case .unavailable = await ledger.health() else { throw TestFailure("a dead peer must be unhealthy") }
                guard case .retryable(let reason) = await ledger.submit(try log.batch(adding: 1, anchoredSize: 0)) else {
                    throw TestFailure("a dead peer must be a retryable failure")
                }
                #expect(reason.contains("unavailable") || reason.contains("deadline-exceeded"), "\(reason)")
            }
        }

        /// The contract's refusals are permanent; a fork is labelled as one.
        @Test func forksAndUntrustedCheckpointsAreRefusedForGood() async throws {
            let fixture = try FabricFixture()
            let peer = try FabricTestPeer(arguments: fixture.peerArguments(), in: fixture.directory)
            let log = try TestLog(key: fixture.gatewayLog.key)
            let forked = try TestLog(key: fixture.gatewayLog.key, seed: "forged")
            let stranger = try TestLog(key: .init())
            let failures = Failures()
            try await withFabricLedger(fixture.settings(port: peer.port), onFailure: failures.handler) { ledger in
                _ = try anchored(await ledger.submit(try log.batch(adding: 4, anchoredSize: 0)))
                _ = try anchored(await ledger.submit(try log.batch(adding: 4, anchoredSize: 4)))
                // The same size with another root.
                let sameSize = try forked.batch(adding: 8, anchoredSize: 0)
                guard case .permanent(let reason) = await ledger.submit(sameSize) else { throw TestFailure("a same-size fork must be refused") }
                #expect(reason.contains("fork") && reason.contains("already anchored with another root"), "\(reason)")
                // A smaller size than the last anchored one.
                guard case .permanent(let smaller) = await ledger.submit(try log.batch(atSize: 6, anchoredSize: 4)) else { throw TestFailure("a smaller size must be refused") }
                #expect(smaller.contains("fork") && smaller.contains("smaller than the last anchored size 8"), "\(smaller)")
                // A larger checkpoint that does not extend the anchored one.
                let diverging = try forked.batch(adding: 4, anchoredSize: 8)
                guard case .permanent(let inconsistent) = await ledger.submit(diverging) else { throw TestFailure("an inconsistent checkpoint must be refused") }
                #expect(inconsistent.contains("fork") && inconsistent.contains("not consistent"), "\(inconsistent)")
                // Signed by a key that is not the one registered for the origin.
                guard case .permanent(let untrusted) = await ledger.submit(try stranger.batch(adding: 12, anchoredSize: 8)) else { throw TestFailure("a foreign signature must be refused") }
                #expect(untrusted.contains("chaincode-refused") && untrusted.contains("not signed by the gateway certificate registered"), "\(untrusted)")
            }
            #expect(failures.all == ["fork", "fork", "fork", "chaincode-refused"])
        }

        /// A client certificate from a CA the channel does not know: access denied, which the
        /// operator must fix; the batch waits (retryable) rather than being dead-lettered.
        @Test func anIdentityThePeerDoesNotKnowIsRefused() async throws {
            let fixture = try FabricFixture()
            let peer = try FabricTestPeer(arguments: fixture.peerArguments(), in: fixture.directory)
            let strangerCA = try TestCA(name: "elsewhere.example")
            let stranger = try strangerCA.issue(commonName: "wardgate-ward-7b")
            let identity = try FabricSigningIdentity(mspID: FabricFixture.wardMSP, certificate: stranger.certificate, privateKey: stranger.key)
            let log = try TestLog(key: fixture.gatewayLog.key)
            let failures = Failures()
            try await withFabricLedger(fixture.settings(port: peer.port), identity: identity, onFailure: failures.handler) { ledger in
                guard case .retryable(let reason) = await ledger.submit(try log.batch(adding: 1, anchoredSize: 0)) else { throw TestFailure("expected retryable") }
                #expect(reason.contains("identity-refused") && reason.contains("access denied"), "\(reason)")
            }
            #expect(failures.all == ["identity-refused"])
        }

        @Test func anchorsOverTLS() async throws {
            let fixture = try FabricFixture()
            let peer = try FabricTestPeer(arguments: fixture.peerArguments(tls: true), in: fixture.directory)
            let log = try TestLog(key: fixture.gatewayLog.key)
            let tls = FabricSettings.TLS(caFile: fixture.directory.file("tls-ca.pem"))
            try await withFabricLedger(fixture.settings(port: peer.port, tls: tls)) { ledger in
                _ = try anchored(await ledger.submit(try log.batch(adding: 2, anchoredSize: 0)))
            }
            // Plaintext to a TLS port does not get through.
            let short = FabricSettings.Timeouts(call: .seconds(2), commitStatusCall: .seconds(2), commit: .seconds(4))
            try await withFabricLedger(fixture.settings(port: peer.port, timeouts: short)) { ledger in
                guard case .retryable = await ledger.submit(try log.batch(adding: 1, anchoredSize: 2)) else { throw TestFailure("plaintext must not reach a TLS peer") }
            }
        }

        @Test func anchorsOverMutualTLSAndIsRefusedWithoutAClientCertificate() async throws {
            let fixture = try FabricFixture()
            let peer = try FabricTestPeer(arguments: fixture.peerArguments(tls: true, mutualTLS: true), in: fixture.directory)
            let log = try TestLog(key: fixture.gatewayLog.key)
            let mutual = FabricSettings.TLS(caFile: fixture.directory.file("tls-ca.pem"), certFile: fixture.directory.file("tls-client.pem"),
                                            keyFile: fixture.directory.file("tls-client.key"))
            try await withFabricLedger(fixture.settings(port: peer.port, tls: mutual)) { ledger in
                _ = try anchored(await ledger.submit(try log.batch(adding: 2, anchoredSize: 0)))
            }
            let short = FabricSettings.Timeouts(call: .seconds(2), commitStatusCall: .seconds(2), commit: .seconds(4))
            let serverOnly = FabricSettings.TLS(caFile: fixture.directory.file("tls-ca.pem"))
            try await withFabricLedger(fixture.settings(port: peer.port, tls: serverOnly, timeouts: short)) { ledger in
                guard case .retryable = await ledger.submit(try log.batch(adding: 1, anchoredSize: 2)) else { throw TestFailure("a peer that requires client certificates must refuse us without one") }
            }
        }
    }
}
