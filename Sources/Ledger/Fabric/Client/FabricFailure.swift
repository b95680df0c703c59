import FabricProtos
import GRPCCore
import GRPCProtobuf
import SwiftProtobuf

/// Why a Fabric call failed, whether resending can help, and the label it gets in the log and
/// in `wardgate_ledger_fabric_failures_total{reason}`.
public struct FabricFailure: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Kind: String, Sendable, CaseIterable {
        /// The peer is unreachable or has no endorsers/orderers available (gRPC UNAVAILABLE).
        case unavailable
        /// A call ran out of time (DEADLINE_EXCEEDED).
        case deadlineExceeded = "deadline-exceeded"
        /// The gateway gave up on the transaction for a reason that may pass (ABORTED).
        case aborted
        /// The transaction was ordered but invalidated by a concurrent write (MVCC_READ_CONFLICT,
        /// PHANTOM_READ_CONFLICT); a fresh transaction reads the new state.
        case mvccConflict = "mvcc-conflict"
        /// Submitted but no final validation code within the commit timeout.
        case notCommitted = "not-committed"
        /// The peer does not accept this gateway's Fabric identity (access denied): an operator
        /// must fix the MSP membership or the certificate; the batch itself is fine.
        case identityRefused = "identity-refused"
        /// The anchor chaincode refused the checkpoint (bad signature, untrusted origin, bad proof).
        case chaincodeRefused = "chaincode-refused"
        /// The anchor chaincode refused a checkpoint that forks the log: the alarm.
        case fork
        /// Committed with a validation code other than VALID that resending does not cure.
        case invalidated
        /// The peer's answer does not follow the protocol, or the endorsed transaction is not the
        /// one proposed.
        case protocolViolation = "protocol"
    }

    public let kind: Kind
    /// `endorse`, `submit`, `commit-status` or `evaluate`.
    public let stage: String
    public let reason: String

    public init(_ kind: Kind, stage: String, _ reason: String) {
        self.kind = kind
        self.stage = stage
        self.reason = reason
    }

    public var isRetryable: Bool {
        switch kind {
        case .unavailable, .deadlineExceeded, .aborted, .mvccConflict, .notCommitted, .identityRefused: true
        case .chaincodeRefused, .fork, .invalidated, .protocolViolation: false
        }
    }

    public var metricLabel: String { kind.rawValue }

    public var description: String { "fabric \(stage): \(kind.rawValue): \(reason)" }

    /// Classifies a gRPC error from the Gateway service, reading the `gateway.ErrorDetail`s the
    /// gateway attaches (fabric `internal/pkg/gateway/api.go`): a chaincode's own error arrives
    /// as a detail `chaincode response <status>, <message>`.
    public static func classify(_ error: RPCError, stage: String) -> FabricFailure {
        let details = errorDetails(of: error)
        let detailText = details.map { "\($0.mspID)@\($0.address): \($0.message)" }.joined(separator: "; ")
        let reason = error.message + (detailText.isEmpty ? "" : " [\(detailText)]")
        if let refusal = details.lazy.compactMap({ chaincodeMessage($0.message) }).first ?? chaincodeMessage(error.message) {
            if refusal.hasPrefix("fork: ") { return FabricFailure(.fork, stage: stage, String(refusal.dropFirst(6))) }
            return FabricFailure(.chaincodeRefused, stage: stage, refusal)
        }
        if details.contains(where: { $0.message.contains("access denied") }) || error.message.contains("access denied") {
            return FabricFailure(.identityRefused, stage: stage, reason)
        }
        switch error.code {
        case .unavailable: return FabricFailure(.unavailable, stage: stage, reason)
        case .deadlineExceeded: return FabricFailure(.deadlineExceeded, stage: stage, reason)
        case .aborted: return FabricFailure(.aborted, stage: stage, reason)
        case .permissionDenied, .unauthenticated: return FabricFailure(.identityRefused, stage: stage, reason)
        case .invalidArgument, .unimplemented: return FabricFailure(.protocolViolation, stage: stage, reason)
        default:
            // FAILED_PRECONDITION (no endorsers/orderers for the channel), INTERNAL, UNKNOWN, …:
            // nothing says the batch is at fault, so it waits for the ledger to recover.
            return FabricFailure(.unavailable, stage: stage, "\(error.code): \(reason)")
        }
    }

    /// Classifies a final validation code other than VALID.
    public static func invalidated(_ code: Protos_TxValidationCode, transactionID: String) -> FabricFailure {
        let reason = "transaction \(transactionID) was invalidated with \(code)"
        switch code {
        case .mvccReadConflict, .phantomReadConflict, .duplicateTxid:
            return FabricFailure(.mvccConflict, stage: "commit-status", reason)
        default:
            return FabricFailure(.invalidated, stage: "commit-status", reason)
        }
    }

    /// `"chaincode response 500, fork: …"` → `"fork: …"`.
    static func chaincodeMessage(_ text: String) -> String? {
        guard let range = text.range(of: "chaincode response ") else { return nil }
        let rest = text[range.upperBound...]
        guard let comma = rest.firstIndex(of: ",") else { return String(rest) }
        return rest[rest.index(after: comma)...].trimmingPrefix(" ").description
    }

    static func errorDetails(of error: RPCError) -> [Gateway_ErrorDetail] {
        guard let status = try? error.unpackGoogleRPCStatus() else { return [] }
        return status.details.compactMap { detail in detail.any.flatMap { try? Gateway_ErrorDetail(unpackingAny: $0) } }
    }
}
