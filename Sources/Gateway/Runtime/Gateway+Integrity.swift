import Journal
import Logging

extension Gateway {
    /// `PRAGMA quick_check` every `interval`. Damage found latches the journal as corrupt (it then
    /// refuses every write, so nothing more is acknowledged) and raises the alarm.
    func integrityLoop(interval: Duration) async {
        while !Task.isCancelled {
            try? await Task.sleep(for: interval)
            guard !Task.isCancelled else { return }
            checkIntegrity()
        }
    }

    /// One integrity check now (the loop's body; tests call it). Returns the problems found.
    @discardableResult
    public func checkIntegrity() -> [String] {
        let problems: [String]
        do {
            problems = try journal.quickCheck()
        } catch {
            problems = ["\(error)"]
        }
        metrics.journalCorrupt.record(journal.corruption == nil ? 0 : 1)
        if !problems.isEmpty {
            logger.critical("ALARM: the journal is corrupt; acknowledgements stopped", metadata: [
                "journal": "\(journal.path)", "damage": "\(problems.joined(separator: "; "))",
                "recovery": "see \"Faults and recovery\" in docs/deployment.md (wardgate journal check)",
            ])
        }
        return problems
    }
}
