import ArgumentParser
import DeviceIdentity
import Foundation

/// `wardgate ca ...`: create or adopt the ward CA, refresh its CRL.
struct CACommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ca",
        abstract: "Manage the ward certificate authority.",
        subcommands: [Init.self, RefreshCRL.self]
    )

    struct Init: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "init",
            abstract: "Create a P-256 ward CA, or adopt a hospital-issued CA certificate and key."
        )

        @Option(help: "CA directory to create (holds ca.pem, ca.key, crl.pem, index.json).")
        var dir: String

        @Option(help: "Common name of a new CA, e.g. \"Ward 7B CA\".")
        var name: String?

        @Option(help: "Validity of a new CA certificate in days (default \(CertificateAuthority.defaultValidityDays)).")
        var validityDays: Int?

        @Option(help: "Adopt this CA certificate (PEM or DER) instead of creating one.")
        var importCert: String?

        @Option(help: "Private key (PEM) of the adopted CA certificate; must be mode 0600.")
        var importKey: String?

        func validate() throws {
            switch (importCert, importKey) {
            case (nil, nil):
                guard name != nil else { throw ValidationError("give --name for a new CA, or --import-cert and --import-key") }
            case (.some, .some):
                guard name == nil, validityDays == nil else {
                    throw ValidationError("--name and --validity-days do not apply when importing a CA")
                }
            default:
                throw ValidationError("--import-cert and --import-key go together")
            }
        }

        func run() throws {
            try IdentityCLI.runReportingFailures {
                let ca: CertificateAuthority
                if let importCert, let importKey {
                    ca = try CertificateAuthority.adopt(directory: dir, certificateFile: importCert, keyFile: importKey)
                    print("adopted CA \(ca.certificate.subject)")
                } else {
                    ca = try CertificateAuthority.create(
                        directory: dir,
                        name: name ?? "",
                        validityDays: validityDays ?? CertificateAuthority.defaultValidityDays
                    )
                    print("created CA \(ca.certificate.subject)")
                }
                print("  certificate: \(ca.certificatePath)")
                print("  private key: \(ca.keyPath) (mode 0600)")
                print("  CRL:         \(ca.crlPath)")
                print("  valid:       \(IdentityCLI.isoDate(ca.certificate.notValidBefore)) .. \(IdentityCLI.isoDate(ca.certificate.notValidAfter))")
            }
        }
    }

    struct RefreshCRL: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "crl",
            abstract: "Sign a fresh CRL (run before the current one's nextUpdate, \(CertificateAuthority.crlValidityDays) days)."
        )

        @Option(help: "CA directory.")
        var dir: String

        @Option(help: "Keystore to copy the new CRL into.")
        var keystore: String?

        func run() throws {
            try IdentityCLI.runReportingFailures {
                let ca = try CertificateAuthority.open(directory: dir)
                let crl = try ca.reissueCRL()
                if let keystore {
                    try Keystore(directory: keystore).synchronize(with: ca)
                }
                print("signed CRL number \(crl.crlNumber.map(String.init) ?? "?") with \(crl.revokedCertificates.count) revoked certificates: \(ca.crlPath)")
            }
        }
    }
}
