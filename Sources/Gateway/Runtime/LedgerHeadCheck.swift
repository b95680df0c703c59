import Ledger
import Synchronization
import Transparency
import TransparencyLog

/// The ledger's own record of the last checkpoint it anchored for the origin (the Fabric
/// channel's `GetHead`), compared with the journal once per run before anything more is
/// anchored: at start and, when the ledger cannot be reached then, before the first anchor.
/// Agreement and refusal are final for the run; the gateway's own anchors keep them true.
final class LedgerHeadCheck: Sendable {
    enum State: Sendable, Equatable {
        /// Not compared yet; why (the peer cannot be reached).
        case pending(String)
        case agreed
        case refused(String)
    }

    /// The ledger as the messages name it: "the Fabric channel wards (chaincode wardgate-anchor)".
    let ledgerName: String
    private let readHead: @Sendable () async throws -> Checkpoint?
    private let log: GatewayLog
    private let outbox: Outbox
    private let state = Mutex<State>(.pending("the ledger's head has not been read yet"))

    init(ledgerName: String, log: GatewayLog, outbox: Outbox, readHead: @escaping @Sendable () async throws -> Checkpoint?) {
        self.ledgerName = ledgerName
        self.log = log
        self.outbox = outbox
        self.readHead = readHead
    }

    var current: State { state.withLock { $0 } }

    /// The disagreement found, if any (for `/readyz` and `Gateway.anchoringProblem`).
    var refusal: String? {
        guard case .refused(let problem) = current else { return nil }
        return problem
    }

    /// Reads the head and compares it with the journal, unless that is already settled.
    @discardableResult
    func run() async -> State {
        guard case .pending = current else { return current }
        let next: State
        do {
            let head = try await readHead()
            next = AnchorCheck.headProblem(head, ledger: ledgerName, log: log, outbox: outbox).map(State.refused) ?? .agreed
        } catch {
            next = .pending("\(ledgerName) cannot be read, so its head is not compared with the journal yet: \(error)")
        }
        return state.withLock { state in
            if case .pending = state { state = next }
            return state
        }
    }

    /// For the forwarder: anchor only once the head agrees.
    func admission() async -> LedgerForwarder.Admission {
        switch await run() {
        case .agreed: .proceed
        case .pending(let reason): .wait(reason)
        case .refused(let problem): .refuse(problem)
        }
    }
}
