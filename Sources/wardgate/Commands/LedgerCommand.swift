import ArgumentParser
import EmbeddedLedger
import Foundation
import Gateway
import Journal
import Ledger
import Logging
import Transparency

struct LedgerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ledger",
        abstract: "The embedded ledger: its public key, its chain, the outbox.",
        subcommands: [LedgerKeyCommand.self, LedgerVerifyCommand.self, LedgerStatusCommand.self, LedgerReanchorCommand.self])

    /// Opens the configured embedded ledger for reading: a missing ledger or key is an error
    /// (exit 1), never a new empty ledger.
    static func openLedger(_ configFile: ConfigFileOption) throws -> EmbeddedLedger {
        let settings = try configFile.load()
        guard settings.ledger.kind == .embedded else {
            CommandSupport.printError("wardgate ledger: this gateway anchors in Hyperledger Fabric (ledger.kind: fabric); key and verify are the embedded ledger's. Fabric receipts are checked by wardgate verify --fabric-ca (docs/ledger-fabric.md)")
            throw ExitCode(1)
        }
        var logger = Logger(label: "wardgate.ledger")
        logger.logLevel = .warning
        do {
            return try EmbeddedLedger(readingAt: settings.ledger.path, keyPath: settings.ledger.key, logger: logger)
        } catch {
            CommandSupport.printError("wardgate ledger: \(error)")
            throw ExitCode(1)
        }
    }
}

struct LedgerKeyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "key",
        abstract: "Print the embedded ledger's public key (PEM), which `wardgate verify --ledger-key` checks receipts with.")

    @OptionGroup var configFile: ConfigFileOption

    func run() throws {
        let ledger = try LedgerCommand.openLedger(configFile)
        print(ledger.publicKeyPEM)
    }
}

struct LedgerVerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Re-walk the embedded ledger's chain: heights, previous hashes, block hashes, entries, signatures.",
        discussion: "Exit 0 if the chain is intact; 1 naming the first bad block.")

    @OptionGroup var configFile: ConfigFileOption

    func run() throws {
        let ledger = try LedgerCommand.openLedger(configFile)
        let report: ChainReport
        do {
            report = try ledger.verifyChain()
        } catch {
            CommandSupport.printError("wardgate ledger verify: cannot read \(ledger.path): \(error)")
            throw ExitCode(1)
        }
        if let fault = report.fault {
            CommandSupport.printError("wardgate ledger verify: \(ledger.path): \(fault) (blocks 1…\(report.blocks) are intact)")
            throw ExitCode(1)
        }
        print("intact: \(report.blocks) blocks, \(report.checkpoints) anchored checkpoints, signed by ledger key \(ledger.keyID)")
    }
}

struct LedgerStatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show the outbox: batches pending, anchored and refused, with the last error of each waiting one.")

    @OptionGroup var configFile: ConfigFileOption

    func run() throws {
        let settings = try configFile.load()
        do {
            let journal = try Gateway.openJournalForReading(settings)
            let outbox = try Outbox(journal: journal)
            let status = try outbox.status()
            print("anchored up to leaf \(status.anchoredSize), batched up to \(status.batchedSize); \(status.pendingBatches) batches (\(status.pendingLeaves) leaves) waiting, \(status.failedBatches) refused")
            for batch in try outbox.batches() where batch.state != .anchored {
                print("\(batch.state.rawValue)\tsize \(batch.treeSize)\tleaves \(batch.firstLeaf)..<\(batch.treeSize)\tattempts \(batch.attempts)\t\(batch.lastError ?? "")")
            }
        } catch {
            CommandSupport.printError("wardgate ledger status: \(error)")
            throw ExitCode(1)
        }
    }
}

struct LedgerReanchorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reanchor",
        abstract: "Re-anchor the outbox's checkpoints in a ledger that lost them (deleted, replaced or restored from an older copy).",
        discussion: """
            Run it with the gateway stopped. Every batch the outbox holds as anchored (or refused) beyond what the ledger \
            still holds is submitted again in tree order, with its original signed checkpoint and a consistency proof from \
            the journal's tree; the new receipts replace the old ones. A missing ledger file is created. Exit 0 when the \
            ledger holds every anchored checkpoint again, 1 naming the batch it stopped at.
            """)

    @OptionGroup var configFile: ConfigFileOption

    func run() async throws {
        let settings = try configFile.load()
        var logger = Logger(label: "wardgate.ledger")
        logger.logLevel = .warning
        do {
            let lock = try StateDirectoryLock(stateDirectory: settings.stateDirectory, holder: "wardgate ledger reanchor")
            defer { withExtendedLifetime(lock) {} }
            let journal = try Gateway.openJournal(settings)
            defer { try? journal.close() }
            let tree = try LeafIndex(journal: journal).tree()
            let outbox = try Outbox(journal: journal)
            let ledger = try Gateway.embeddedLedger(config: settings, logger: logger)
            let origin = settings.log?.origin ?? "wardgate/\(settings.gatewayId)"
            let held = try ledger.latestAnchored(origin: origin)
            let treeSize = try tree.size
            if let held, try held.size > treeSize || tree.rootHash(atSize: held.size) != held.rootHash {
                CommandSupport.printError("wardgate ledger reanchor: the ledger holds size \(held.size) (root \(held.rootHash.hex)), which the journal's log (size \(treeSize)) does not contain: the journal, not the ledger, lost data; see \"Faults and recovery\" in docs/deployment.md")
                throw ExitCode(1)
            }
            let outcome = try await Reanchoring.run(outbox: outbox, tree: tree, client: ledger, ledgerSize: held?.size ?? 0)
            let recovered = outcome.recovered.isEmpty ? "" : ", \(outcome.recovered.count) of them refused before"
            print("re-anchored \(outcome.anchored.count) checkpoints in \(ledger.path) (from size \(held?.size ?? 0) to \(outcome.anchored.last ?? held?.size ?? 0)\(recovered))")
        } catch let exit as ExitCode {
            throw exit
        } catch {
            CommandSupport.printError("wardgate ledger reanchor: \(error)")
            throw ExitCode(1)
        }
    }
}
