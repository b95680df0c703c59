import ArgumentParser
import DeviceIdentity
import Foundation

/// `wardgate gateway enroll`: the gateway's own identity, which signs Merkle log checkpoints.
struct GatewayCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gateway",
        abstract: "Manage the gateway's own signing identity.",
        subcommands: [Enroll.self]
    )

    struct Enroll: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Issue the gateway certificate (new P-256 key in the keystore).")

        @OptionGroup var stores: CAAndKeystoreOptions

        @Option(help: "Gateway id.")
        var id: String

        @OptionGroup var validity: ValidityOption

        func run() throws {
            try IdentityCLI.runReportingFailures {
                let ca = try CertificateAuthority.open(directory: stores.caDir)
                let outcome = try Enrollment.enroll(
                    kind: .gateway, id: id, ca: ca, keystore: Keystore(directory: stores.keystore), validityDays: validity.validityDays
                )
                IdentityCLI.printEnrollment(outcome)
            }
        }
    }
}
