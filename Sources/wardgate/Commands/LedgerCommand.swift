import ArgumentParser
import EmbeddedLedger
import Foundation
import Gateway
import Journal
import Ledger
import Logging

struct LedgerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ledger",
        abstract: "The embedded ledger: its public key, its chain, the outbox.",
        subcommands: [LedgerKeyCommand.self, LedgerVerifyCommand.self, LedgerStatusCommand.self])

    /// Opens the configured embedded ledger (generating its key on first use, as the daemon would).
    static func openLedger(_ configFile: ConfigFileOption) throws -> EmbeddedLedger {
        let settings = try configFile.load()
        guard settings.ledger.kind == .embedded else {
            CommandSupport.printError("wardgate ledger: this gateway anchors in Hyperledger Fabric (ledger.kind: fabric); key and verify are the embedded ledger's. Fabric receipts are checked by wardgate verify --fabric-ca (docs/ledger-fabric.md)")
            throw ExitCode(1)
        }
        var logger = Logger(label: "wardgate.ledger")
        logger.logLevel = .warning
        do {
            return try EmbeddedLedger(path: settings.ledger.path, keyPath: settings.ledger.key, trustedGateways: [:], logger: logger)
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
            let journal = try Gateway.openJournal(settings)
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
