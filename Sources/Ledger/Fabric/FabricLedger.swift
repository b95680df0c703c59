import FabricProtos
import Foundation
import GRPCCore
internal import GRPCNIOTransportHTTP2Posix
import Ledger
import Logging
import ServiceLifecycle
import SwiftProtobuf
import TransparencyLog

/// The Hyperledger Fabric ledger adapter: anchors each batch's checkpoint with the
/// `wardgate-anchor` chaincode through a peer's Gateway service (`Endorse` → `Submit` →
/// `CommitStatus`), as the official fabric-gateway clients do.
///
/// Idempotent on (origin, tree size): the chaincode answers a checkpoint it already holds with
/// the record of the transaction that anchored it, and the adapter then returns that
/// transaction's receipt without submitting anything. A resend after a crash therefore never
/// makes a second anchor.
///
/// It is a `Service`: `run()` keeps the gRPC connections up and must be running for calls to
/// complete.
public final class FabricLedger: LedgerClient, Service {
    public let kind = FabricReceipt.kind
    public let settings: FabricSettings
    public let identity: FabricSigningIdentity
    let connection: GatewayConnection
    private let logger: Logger
    private let onFailure: @Sendable (FabricFailure) -> Void

    /// `onFailure` sees every classified failure (for `wardgate_ledger_fabric_failures_total`).
    public init(settings: FabricSettings, identity: FabricSigningIdentity? = nil, logger: Logger,
                onFailure: @escaping @Sendable (FabricFailure) -> Void = { _ in }) throws(FabricLedgerError) {
        self.settings = settings
        do {
            self.identity = try identity ?? FabricSigningIdentity(mspID: settings.mspID, certificatePath: settings.certificatePath, keyPath: settings.keyPath)
        } catch {
            throw .configuration("\(error)")
        }
        connection = try GatewayConnection(settings: settings)
        self.logger = logger
        self.onFailure = onFailure
    }

    /// Runs the gRPC connections until cancelled or shut down gracefully.
    public func run() async throws {
        try await withGracefulShutdownHandler {
            try await connection.client.runConnections()
        } onGracefulShutdown: {
            self.connection.client.beginGracefulShutdown()
        }
    }

    public func shutdown() { connection.client.beginGracefulShutdown() }

    // MARK: LedgerClient

    public func submit(_ batch: LedgerBatch) async -> SubmitOutcome {
        do {
            return .anchored(try await anchor(batch))
        } catch {
            let failure = Self.failure(from: error, stage: "submit")
            onFailure(failure)
            if failure.kind == .fork {
                logger.critical("ALARM: the anchor chaincode refused a checkpoint that forks the log", metadata: ["checkpoint": "\(batch.key)", "reason": "\(failure.reason)"])
            }
            return failure.isRetryable ? .retryable(failure.description) : .permanent(failure.description)
        }
    }

    public func health() async -> LedgerHealth {
        do {
            _ = try await evaluate(chaincode: "qscc", arguments: ["GetChainInfo", settings.channel])
            return .available
        } catch {
            return .unavailable(Self.failure(from: error, stage: "evaluate").description)
        }
    }

    public func receipt(for key: BatchKey) async throws -> LedgerReceipt? {
        do {
            return try await issuedReceipt(for: key)?.receipt
        } catch {
            throw Self.failure(from: error, stage: "evaluate")
        }
    }

    /// The last checkpoint the channel anchored for `origin` (`GetHead`; nil: none), for the
    /// gateway to compare with its journal before it anchors anything more.
    public func head(origin: String, timeout: Duration? = nil) async throws(FabricFailure) -> Checkpoint? {
        do {
            let bytes = try await evaluate(chaincode: settings.chaincode, arguments: AnchorContract.getHeadArguments(origin: origin), timeout: timeout)
            guard !bytes.isEmpty else { return nil }
            let record = try HeadRecord(json: bytes)
            guard record.origin == origin else { throw FabricFailure(.protocolViolation, stage: "evaluate", "GetHead(\(origin)) answered the head of \(record.origin)") }
            return try Checkpoint(origin: origin, size: record.treeSize, rootHash: record.rootHash)
        } catch {
            throw Self.failure(from: error, stage: "evaluate")
        }
    }

    // MARK: The anchor transaction

    private func anchor(_ batch: LedgerBatch) async throws -> LedgerReceipt {
        let proposal = try FabricProposal(channel: settings.channel, chaincode: settings.chaincode,
                                          arguments: AnchorContract.anchorArguments(for: batch), creator: identity.creator)
        var request = Gateway_EndorseRequest()
        request.transactionID = proposal.transactionID
        request.channelID = settings.channel
        request.proposedTransaction = proposal.signed(with: try identity.sign(proposal.proposalBytes))
        request.endorsingOrganizations = settings.endorsingOrganizations
        let endorsed = try await rpc("endorse") { try await connection.gateway.endorse(request, options: callOptions(settings.timeouts.call)) }
        let envelope = endorsed.preparedTransaction
        let transaction = try endorsedTransaction(envelope.payload, proposal: proposal)
        let record = try AnchorRecord(json: transaction.response.payload)
        guard record.origin == batch.key.origin, record.treeSize == batch.key.treeSize else {
            throw FabricFailure(.protocolViolation, stage: "endorse", "the chaincode answered with the record of \(record.origin)@\(record.treeSize)")
        }
        if record.transactionID != proposal.transactionID {
            // Already anchored by an earlier transaction: hand back that one's receipt.
            guard let issued = try await issuedReceipt(for: batch.key) else {
                throw FabricFailure(.aborted, stage: "evaluate", "\(batch.key) is anchored by \(record.transactionID), but that transaction cannot be read yet")
            }
            logger.info("checkpoint already anchored; returning the receipt issued for it", metadata: ["checkpoint": "\(batch.key)", "transaction": "\(record.transactionID)"])
            return issued.receipt
        }
        try checkWrites(of: transaction, hold: batch)

        var prepared = envelope
        prepared.signature = Data(try identity.sign(envelope.payload))
        var submitRequest = Gateway_SubmitRequest()
        submitRequest.transactionID = proposal.transactionID
        submitRequest.channelID = settings.channel
        submitRequest.preparedTransaction = prepared
        _ = try await rpc("submit") { try await connection.gateway.submit(submitRequest, options: callOptions(settings.timeouts.call)) }

        let status = try await commitStatus(of: proposal.transactionID)
        guard status.result == .valid else { throw FabricFailure.invalidated(status.result, transactionID: proposal.transactionID) }
        return FabricReceipt(key: batch.key, chaincode: settings.chaincode, blockNumber: status.blockNumber, validationCode: "VALID", transaction: transaction).receipt
    }

    /// Decodes the prepared envelope and checks it is the transaction proposed: a gateway peer
    /// must not get another transaction signed in our name.
    private func endorsedTransaction(_ payload: Data, proposal: FabricProposal) throws -> EndorsedTransaction {
        let transaction: EndorsedTransaction
        do {
            transaction = try EndorsedTransaction(envelopePayload: payload)
        } catch {
            throw FabricFailure(.protocolViolation, stage: "endorse", "\(error)")
        }
        guard transaction.channelHeader == proposal.channelHeader, transaction.signatureHeader == proposal.signatureHeader,
            transaction.chaincodeProposalPayload == proposal.chaincodeProposalPayload
        else { throw FabricFailure(.protocolViolation, stage: "endorse", "the prepared transaction is not the transaction proposed") }
        guard transaction.proposalHash == proposal.proposalHash else {
            throw FabricFailure(.protocolViolation, stage: "endorse", "the endorsements answer another proposal (proposal hash differs)")
        }
        guard !transaction.endorsements.isEmpty else { throw FabricFailure(.protocolViolation, stage: "endorse", "the prepared transaction has no endorsement") }
        guard (200..<400).contains(transaction.response.status) else {
            throw FabricFailure(.chaincodeRefused, stage: "endorse", "chaincode status \(transaction.response.status): \(transaction.response.message)")
        }
        return transaction
    }

    /// The endorsed write set must hold this checkpoint's anchor record.
    private func checkWrites(of transaction: EndorsedTransaction, hold batch: LedgerBatch) throws {
        let key = AnchorContract.anchorKey(origin: batch.key.origin, treeSize: batch.key.treeSize)
        guard let write = transaction.writes.first(where: { $0.namespace == settings.chaincode && $0.key == key && !$0.isDelete }),
            let written = try? AnchorRecord(json: write.value), written.checkpointNote == batch.checkpointNote
        else { throw FabricFailure(.protocolViolation, stage: "endorse", "the endorsed write set does not hold the anchor record of \(batch.key)") }
    }

    /// Asks for the commit status (a signed request) until the transaction has a final
    /// validation code or the commit timeout passes.
    private func commitStatus(of transactionID: String) async throws -> Gateway_CommitStatusResponse {
        var request = Gateway_SignedCommitStatusRequest()
        request.request = Data(try FabricCommitStatusRequest.bytes(transactionID: transactionID, channel: settings.channel, creator: identity.creator))
        request.signature = Data(try identity.sign(request.request))
        let deadline = ContinuousClock.now + settings.timeouts.commit
        while true {
            do {
                return try await connection.gateway.commitStatus(request, options: callOptions(settings.timeouts.commitStatusCall))
            } catch let error as RPCError {
                let failure = FabricFailure.classify(error, stage: "commit-status")
                guard failure.kind == .deadlineExceeded || failure.kind == .unavailable else { throw failure }
                guard ContinuousClock.now < deadline else {
                    throw FabricFailure(.notCommitted, stage: "commit-status", "transaction \(transactionID) has no final status after \(settings.timeouts.commit): \(failure.reason)")
                }
                try Task.checkCancellation()
                if failure.kind == .unavailable { try await Task.sleep(for: .milliseconds(200)) }
            }
        }
    }

    // MARK: Reading what was issued

    /// The receipt of the transaction that anchored `key`, read back from the ledger: the
    /// chaincode's record names the transaction, and the peer's `qscc` returns it and its block.
    private func issuedReceipt(for key: BatchKey) async throws -> FabricReceipt? {
        let recordBytes = try await evaluate(chaincode: settings.chaincode, arguments: AnchorContract.getAnchorArguments(for: key).map { String(decoding: $0, as: UTF8.self) })
        guard !recordBytes.isEmpty else { return nil }
        let record = try AnchorRecord(json: recordBytes)
        let processed = try Protos_ProcessedTransaction(serializedBytes: try await evaluate(chaincode: "qscc", arguments: ["GetTransactionByID", settings.channel, record.transactionID]))
        let block = try Common_Block(serializedBytes: try await evaluate(chaincode: "qscc", arguments: ["GetBlockByTxID", settings.channel, record.transactionID]))
        let transaction = try EndorsedTransaction(envelopePayload: processed.transactionEnvelope.payload)
        guard transaction.transactionID == record.transactionID else {
            throw FabricFailure(.protocolViolation, stage: "evaluate", "qscc returned transaction \(transaction.transactionID) for \(record.transactionID)")
        }
        let code = Protos_TxValidationCode(rawValue: Int(processed.validationCode)) ?? .invalidOtherReason
        guard code == .valid else { throw FabricFailure.invalidated(code, transactionID: record.transactionID) }
        return FabricReceipt(key: key, chaincode: settings.chaincode, blockNumber: block.header.number, validationCode: "VALID", transaction: transaction)
    }

    /// Evaluates a chaincode function (a query: endorsed by one peer, never ordered).
    private func evaluate(chaincode: String, arguments: [String], timeout: Duration? = nil) async throws -> [UInt8] {
        let proposal = try FabricProposal(channel: settings.channel, chaincode: chaincode, arguments: arguments.map { Array($0.utf8) }, creator: identity.creator)
        var request = Gateway_EvaluateRequest()
        request.transactionID = proposal.transactionID
        request.channelID = settings.channel
        request.proposedTransaction = proposal.signed(with: try identity.sign(proposal.proposalBytes))
        let response = try await rpc("evaluate") { try await connection.gateway.evaluate(request, options: callOptions(timeout ?? settings.timeouts.call)) }
        guard (200..<400).contains(response.result.status) else {
            throw FabricFailure(.chaincodeRefused, stage: "evaluate", "\(chaincode) \(arguments.first ?? ""): status \(response.result.status): \(response.result.message)")
        }
        return Array(response.result.payload)
    }

    private func rpc<Response: Sendable>(_ stage: String, _ call: () async throws -> Response) async throws -> Response {
        do {
            return try await call()
        } catch let error as RPCError {
            throw FabricFailure.classify(error, stage: stage)
        }
    }

    private func callOptions(_ timeout: Duration) -> CallOptions {
        var options = CallOptions.defaults
        options.timeout = timeout
        return options
    }

    static func failure(from error: any Error, stage: String) -> FabricFailure {
        switch error {
        case let failure as FabricFailure: failure
        case let error as RPCError: FabricFailure.classify(error, stage: stage)
        case let error as FabricProtocolError: FabricFailure(.protocolViolation, stage: stage, error.description)
        case is CancellationError: FabricFailure(.unavailable, stage: stage, "cancelled")
        default: FabricFailure(.unavailable, stage: stage, "\(error)")
        }
    }
}
