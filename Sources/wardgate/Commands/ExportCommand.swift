import ArgumentParser
import Evidence
import Foundation
import Gateway
import Journal
import Observations

struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export", abstract: "Print the journal's Observations and their signature Provenances as NDJSON or as a FHIR Bundle (collection).",
        discussion: """
            NDJSON is FHIR Bulk Data style: one resource per line. With --resources all (the default) each signed \
            Observation is followed by the Provenance that carries its device's JWS; a quarantined Observation has none. \
            --resources observation or provenance prints only that resource type.
            """)

    @OptionGroup var configFile: ConfigFileOption

    @Option(name: .long, help: "Only Observations the gateway received at or after this RFC 3339 time.")
    var since: String?

    @Option(name: .long, help: "ndjson (one FHIR resource per line) or bundle (a FHIR Bundle of type collection).")
    var format: String = "ndjson"

    @Option(name: .long, help: "observation | provenance | all (each Observation, then the Provenance of a signed one).")
    var resources: String = "all"

    func run() throws {
        guard let exportFormat = ObservationExport.Format(rawValue: format) else {
            CommandSupport.printError("--format must be ndjson or bundle")
            throw ExitCode(2)
        }
        guard let exportedResources = ObservationExport.Resources(rawValue: resources) else {
            CommandSupport.printError("--resources must be observation, provenance or all")
            throw ExitCode(2)
        }
        var sinceDate: Date?
        if let since {
            guard let parsed = FHIRTime.parseRFC3339(since) else {
                CommandSupport.printError("--since must be an RFC 3339 time such as 2026-11-21T08:00:00Z")
                throw ExitCode(2)
            }
            sinceDate = parsed.date
        }
        let settings = try configFile.load()
        do {
            let journal = try Gateway.openJournalForReading(settings)
            let observations = try journal.observations(issuedSince: sinceDate)
            try ObservationExport.export(observations, format: exportFormat, resources: exportedResources) { print($0) }
        } catch {
            CommandSupport.printError("export failed: \(error)")
            throw ExitCode(1)
        }
    }
}
