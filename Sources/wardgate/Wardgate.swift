import ArgumentParser

@main
struct Wardgate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "wardgate",
        abstract: "Ward gateway: MQTT vitals to durable, normalized FHIR R4 Observations.",
        subcommands: [
            RunCommand.self, DemoCommand.self, ConfigCommand.self, ProfilesCommand.self,
            DecodeCommand.self, ExportCommand.self, CACommand.self, DeviceCommand.self, GatewayCommand.self,
            LogCommand.self, LedgerCommand.self, JournalCommand.self, QuarantineCommand.self, DeadLettersCommand.self, ProofCommand.self, VerifyCommand.self, BenchCommand.self,
        ]
    )
}
