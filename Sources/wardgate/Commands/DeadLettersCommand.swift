import ArgumentParser
import Foundation
import Gateway
import Journal
import Observations
import StrictYAML
import Timing

struct DeadLettersCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "deadletters", abstract: "Messages that could not become Observations: list them, purge old ones.",
        subcommands: [List.self, Purge.self])

    /// `--device` and `--before`: which dead letters a command takes.
    struct Selection: ParsableArguments {
        @Option(name: .long, help: "Only this device.")
        var device: String?

        @Option(name: .long, help: "Only those written before this RFC 3339 time or age (30d, 12h).")
        var before: String?

        func filter(now: Date = Date()) throws -> DeadLetterFilter {
            DeadLetterFilter(deviceId: device, createdBefore: try before.map { try Self.cutoff($0, now: now) })
        }

        /// An RFC 3339 time, or an age back from now (`30d`, `12h`).
        static func cutoff(_ text: String, now: Date) throws -> Date {
            if let time = FHIRTime.parseRFC3339(text) { return time.date }
            if let age = ScalarFormats.duration(text) { return now.addingTimeInterval(-age.inSeconds) }
            CommandSupport.printError("--before must be an RFC 3339 time such as 2026-11-21T08:00:00Z or an age such as 30d or 12h, found \"\(text)\"")
            throw ExitCode(2)
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "list", abstract: "List dead letters with why, and what the inbox keeps of each message (read only).",
            discussion: "One line per dead letter, then a summary. Creates nothing; safe while the gateway runs.")

        @OptionGroup var configFile: ConfigFileOption

        @OptionGroup var selection: Selection

        @Flag(name: .long, help: "Print one JSON object (deadLetters, count, payloadBytesKept).")
        var json = false

        func run() throws {
            let filter = try selection.filter()
            let settings = try configFile.load()
            let letters: [DeadLetterSummary]
            do {
                let journal = try Gateway.openJournalForReading(settings)
                defer { try? journal.close() }
                letters = try journal.deadLetterSummaries(filter)
            } catch {
                CommandSupport.printError("wardgate deadletters list: cannot read the journal: \(error)")
                throw ExitCode(1)
            }
            if json {
                print(try DeadLetterListing(letters).json())
            } else {
                DeadLetterListing.printTable(letters)
            }
        }
    }

    struct Purge: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "purge", abstract: "Delete dead letters, and the inbox payloads kept only as their evidence.",
            discussion: """
                Run it with the gateway stopped (it refuses while the gateway holds the state directory). Takes the \
                dead letters written before --before (an RFC 3339 time or an age such as 30d), optionally of one \
                --device, or every one with --all --yes. A payload that also became Observations stays. Prints what it removed.
                """)

        @OptionGroup var configFile: ConfigFileOption

        @OptionGroup var selection: Selection

        @Flag(name: .long, help: "Every dead letter (of --device, if given), whatever its age; needs --yes.")
        var all = false

        @Flag(name: .long, help: "Confirm --all.")
        var yes = false

        func validate() throws {
            if all == (selection.before != nil) { throw ValidationError("give either --before TIME|AGE or --all --yes") }
            if all && !yes { throw ValidationError("--all deletes every dead letter\(selection.device.map { " of \($0)" } ?? ""): add --yes to confirm") }
        }

        func run() throws {
            let filter = try selection.filter()
            let settings = try configFile.load()
            do {
                let journal = try Gateway.openJournalForReading(settings)
                try? journal.close()
                let lock = try StateDirectoryLock(stateDirectory: settings.stateDirectory, holder: "wardgate deadletters purge")
                defer { withExtendedLifetime(lock) {} }
                let writable = try Gateway.openJournal(settings)
                defer { try? writable.close() }
                let purge = try writable.purgeDeadLetters(filter)
                print("removed \(purge.deadLetters) dead letter(s) and \(purge.inboxRecords) inbox record(s) kept only for them (\(purge.payloadBytes) payload bytes)")
            } catch {
                CommandSupport.printError("wardgate deadletters purge: \(error)")
                throw ExitCode(1)
            }
        }
    }
}

/// The listing's two forms: a table with a summary line, and one JSON object.
struct DeadLetterListing: Encodable {
    struct Entry: Encodable {
        let id: Int64
        let received: String
        let written: String
        let device: String?
        let topic: String
        let kind: String
        let reason: String
        let inboxSeq: Int64
        let payloadBytesKept: Int
    }

    let deadLetters: [Entry]
    let count: Int
    let payloadBytesKept: Int

    init(_ letters: [DeadLetterSummary]) {
        let formatter = ISO8601DateFormatter()
        let time = { (ms: Int64) in formatter.string(from: Date(timeIntervalSince1970: Double(ms) / 1000)) }
        deadLetters = letters.map {
            Entry(id: $0.id, received: time($0.receivedAtMs ?? $0.createdAtMs), written: time($0.createdAtMs), device: $0.letter.deviceId,
                  topic: $0.letter.topic, kind: $0.letter.kind, reason: $0.letter.reason, inboxSeq: $0.letter.inboxSeq, payloadBytesKept: $0.payloadBytesKept)
        }
        count = letters.count
        payloadBytesKept = letters.reduce(0) { $0 + $1.payloadBytesKept }
    }

    func json() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(self), as: UTF8.self)
    }

    /// Topic and reason are cut to keep one line per dead letter readable (`--json` has them whole).
    static func printTable(_ letters: [DeadLetterSummary]) {
        let listing = DeadLetterListing(letters)
        print("id       received (UTC)        device           kind                 kept B  topic / reason")
        for e in listing.deadLetters {
            let columns = [
                String(e.id).padding(toLength: 8, withPad: " ", startingAt: 0), e.received.padding(toLength: 21, withPad: " ", startingAt: 0),
                cut(e.device ?? "-", 16).padding(toLength: 16, withPad: " ", startingAt: 0), e.kind.padding(toLength: 20, withPad: " ", startingAt: 0),
                String(e.payloadBytesKept).padding(toLength: 7, withPad: " ", startingAt: 0),
            ]
            print(columns.joined(separator: " ") + " \(cut(e.topic, 80)) / \(cut(e.reason, 160))")
        }
        let devices = Set(letters.map { $0.letter.deviceId ?? "-" }).count
        print("\(listing.count) dead letter(s) from \(devices) device(s); the inbox keeps \(listing.payloadBytesKept) payload bytes for them")
    }

    private static func cut(_ text: String, _ limit: Int) -> String {
        let flat = text.replacingOccurrences(of: "\n", with: " ")
        return flat.count <= limit ? flat : String(flat.prefix(limit - 1)) + "…"
    }
}
