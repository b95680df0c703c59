import ArgumentParser
import Foundation
import Gateway
import Journal

struct JournalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "journal", abstract: "Inspect the journal file (read only).", subcommands: [Check.self])

    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "check",
            abstract: "Run SQLite's PRAGMA quick_check on the journal, read only.",
            discussion: """
                Exit 0 and "ok" when the file is sound; 1 with the problems SQLite found (at most --limit), \
                and what to do ("Faults and recovery" in docs/deployment.md). A missing journal is an error; \
                nothing is created. Safe while the gateway runs.
                """)

        @OptionGroup var configFile: ConfigFileOption

        @Option(name: .long, help: "Report at most this many problems.")
        var limit: Int = 100

        func run() throws {
            let settings = try configFile.load()
            let problems: [String]
            let path: String
            do {
                let journal = try Gateway.openJournalForReading(settings)
                path = journal.path
                problems = try journal.quickCheck(limit: limit)
                try? journal.close()
            } catch {
                CommandSupport.printError("wardgate journal check: \(error)")
                throw ExitCode(1)
            }
            guard problems.isEmpty else {
                CommandSupport.printError("wardgate journal check: \(JournalError.corrupt(path: path, detail: "\(problems.count) problem(s)").description)")
                for problem in problems { print(problem) }
                throw ExitCode(1)
            }
            print("ok: \(path) passed PRAGMA quick_check")
        }
    }
}
