import Journal
import StaffAPI

extension GatewayService {
    /// `/readyz`: broker connected with every subscription acknowledged, journal writable and
    /// intact, the log and the ledger agreeing, quota not exhausted; warnings that do not make
    /// the gateway unready (a ledger not reached yet, a silent profile).
    static func readiness(of gateway: Gateway, probe readinessProbe: ProbeRunner, probeTimeout: Duration) async -> Readiness {
        var checks: [Readiness.Check] = []
        let broker = "\(gateway.config.mqtt.host):\(gateway.config.mqtt.port)"
        let storage = gateway.journal.storageFailure.flatMap { $0.diskFull ? $0 : nil }
        if let storage {
            // First: while the journal cannot store, the broker connection is dropped on purpose.
            checks.append(.init(name: "disk", ok: false, detail: storage.description))
        }
        if await gateway.waitUntilReady(timeout: .zero) {
            checks.append(.init(name: "broker", ok: true, detail: "connected to \(broker), subscriptions acknowledged"))
        } else if gateway.isConnected {
            checks.append(.init(name: "broker", ok: false, detail: "connected to \(broker) but the subscriptions are not acknowledged yet"))
        } else {
            let why = storage == nil ? "" : " (the gateway drops the connection while the journal cannot store what arrives: see disk)"
            checks.append(.init(name: "broker", ok: false, detail: "not connected to \(broker)\(why)"))
        }
        switch await readinessProbe.run(timeout: probeTimeout) {
        case .finished(let probe) where probe.journalWritable && storage == nil:
            checks.append(.init(name: "journal", ok: true, detail: "writable"))
        case .finished(let probe) where probe.journalWritable:
            checks.append(.init(name: "journal", ok: false, detail: "not writable: the last write failed (disk full, see disk)"))
        case .finished(let probe):
            checks.append(.init(name: "journal", ok: false, detail: "not writable: \(probe.failure ?? "unknown")"))
        case .timedOut, .stillBusy:
            checks.append(.init(name: "journal", ok: false, detail: "a write transaction did not complete within \(probeTimeout)"))
        }
        let journal = gateway.journal
        if let damage = journal.corruption {
            checks.append(.init(name: "integrity", ok: false, detail: JournalError.corrupt(path: journal.path, detail: damage).description))
        }
        if let problem = gateway.anchoringProblem() {
            checks.append(.init(name: "log", ok: false, detail: problem))
        } else {
            let detail = gateway.log.signsCheckpoints
                ? "the journal's log contains every checkpoint signed and anchored" : "no gateway key: leaves are logged, no checkpoint is signed"
            checks.append(.init(name: "log", ok: true, detail: detail))
        }
        if let max = journal.maxBytes {
            let used = journal.usedBytes()
            checks.append(.init(name: "quota", ok: used < max, detail: used < max ? "\(used) of \(max) bytes used" : "exhausted: \(used) of \(max) bytes used; acknowledgements stopped"))
        }
        // A ledger not reached yet is store-and-forward, as in any outage: worth a look, not unready.
        let ledgerWarnings = gateway.ledgerHeadPending.map { ["ledger: \($0); readings are kept and wait in the outbox"] } ?? []
        return Readiness(checks: checks, warnings: ledgerWarnings + gateway.silentProfileWarnings())
    }
}
