import FabricLedger
import Ledger
import Logging
import Transparency

extension Gateway {
    /// Before `start`: compares the Fabric channel's head with the journal (`LedgerHeadCheck`) and
    /// throws when they disagree, so `wardgate run` refuses to run. A peer that cannot be reached
    /// does not hold the start up: readings are kept, `/readyz` says so, and the forwarder compares
    /// before its first anchor.
    public func checkLedgerAtStart() async throws(GatewayError) {
        guard let headCheck else { return }
        startLedgerConnections()
        switch await headCheck.run() {
        case .agreed:
            logger.info("the ledger's head agrees with the journal", metadata: ["ledger": "\(headCheck.ledgerName)"])
        case .pending(let reason):
            logger.warning("ledger unreachable at start; readings are kept, and anchoring waits until its head is compared with the journal",
                           metadata: ["reason": "\(reason)"])
        case .refused(let problem):
            fabric?.shutdown()
            await fabricConnections.withLock { $0 }?.value
            throw .anchoring(problem)
        }
    }

    /// Why the ledger's head is not compared with the journal yet (nil: it is, or there is nothing to compare).
    public var ledgerHeadPending: String? {
        guard case .pending(let reason) = headCheck?.current else { return nil }
        return reason
    }

    /// Runs the Fabric adapter's gRPC connections (once).
    func startLedgerConnections() {
        guard let fabric else { return }
        fabricConnections.withLock { task in
            guard task == nil else { return }
            task = Task { [logger] in
                do { try await fabric.run() } catch { logger.error("the Fabric peer connection ended", metadata: ["reason": "\(error)"]) }
            }
        }
    }

    /// GetHead with a short deadline: a query, and it must not hold the start up.
    static func makeHeadCheck(fabric: FabricLedger, log: GatewayLog, outbox: Outbox) -> LedgerHeadCheck {
        let settings = fabric.settings
        let timeout = min(settings.timeouts.call, .seconds(5))
        return LedgerHeadCheck(ledgerName: "the Fabric channel \(settings.channel) (chaincode \(settings.chaincode))", log: log, outbox: outbox) { [origin = log.origin] in
            try await fabric.head(origin: origin, timeout: timeout)
        }
    }
}
