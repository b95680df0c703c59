import ArgumentParser
import DeviceIdentity
import Foundation
import Gateway

/// `wardgate device ...`: enroll, list and revoke device identities.
struct DeviceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "device",
        abstract: "Enroll, list and revoke device signing identities.",
        subcommands: [Enroll.self, List.self, Revoke.self]
    )

    struct Enroll: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Issue a device certificate (new P-256 key in the keystore, or from a CSR). Re-enrolling rotates."
        )

        @OptionGroup var stores: CAAndKeystoreOptions

        @Option(help: "Device id (letters, digits, '.', '_', '-'; at most 64).")
        var device: String

        @Option(help: "Certify the key of this PKCS#10 request instead of generating one.")
        var csr: String?

        @OptionGroup var validity: ValidityOption

        func run() throws {
            try IdentityCLI.runReportingFailures {
                let ca = try CertificateAuthority.open(directory: stores.caDir)
                let outcome = try Enrollment.enroll(
                    kind: .device, id: device, ca: ca, keystore: Keystore(directory: stores.keystore), csrPath: csr, validityDays: validity.validityDays
                )
                IdentityCLI.printEnrollment(outcome)
            }
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List enrolled devices with serial, expiry and what the gateway decides for each (valid = it signs)."
        )

        @Option(help: "Keystore directory.")
        var keystore: String?

        @Option(help: "The gateway's configuration file: decide with its identity section (keystore, caCertificate, crl).")
        var config: String?

        func validate() throws {
            guard keystore != nil || config != nil else { throw ValidationError("give --keystore DIR or --config FILE") }
        }

        func run() throws {
            var source = GatewayConfig.IdentitySettings(keystore: keystore ?? "")
            if let config {
                guard let identity = try CommandSupport.loadConfig(config).identity else {
                    CommandSupport.printError("error: \(config): no identity section, so the gateway signs nothing; give --keystore DIR")
                    throw ExitCode.failure
                }
                source = identity
                if let keystore { source.keystore = keystore }
            }
            try IdentityCLI.runReportingFailures {
                let entries = try Keystore(directory: source.keystore).list(kind: .device, caCertificatePath: source.caCertificate, crlPath: source.crl)
                let rows = entries.map { entry in
                    [entry.id, entry.serialHex ?? "-", entry.notAfter.map(IdentityCLI.isoDate) ?? "-", entry.status.description + DeviceCommand.keyNote(entry)]
                }
                let header = ["ID", "SERIAL", "NOT-AFTER", "STATUS"]
                let widths = (0..<3).map { column in ([header] + rows).map { $0[column].count }.max() ?? 0 }
                for row in [header] + rows {
                    let padded = (0..<3).map { row[$0].padding(toLength: widths[$0], withPad: " ", startingAt: 0) }
                    print((padded + [row[3]]).joined(separator: "  "))
                }
            }
        }
    }

    /// A key problem the status does not already name (the decision reports the first reason only).
    static func keyNote(_ entry: KeystoreEntry) -> String {
        switch entry.status {
        case .noPrivateKey, .insecureKeyFile, .keyMismatch: return ""
        default: break
        }
        if !entry.hasPrivateKey { return ", no private key" }
        if let mode = entry.insecureKeyMode { return ", key file mode \(String(mode, radix: 8)) refused (chmod 600)" }
        return ""
    }

    struct Revoke: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Revoke a device's certificate and publish a new signed CRL to the CA and the keystore."
        )

        @OptionGroup var stores: CAAndKeystoreOptions

        @Option(help: "Device id.")
        var device: String

        @Option(help: "RFC 5280 reason: \(RevocationReason.acceptedNames).")
        var reason: String

        @Option(help: "Revoke this serial (hex) of the device instead of its current certificate.")
        var serial: String?

        func run() throws {
            let reason = try IdentityCLI.parseRevocationReason(reason)
            try IdentityCLI.runReportingFailures {
                let ca = try CertificateAuthority.open(directory: stores.caDir)
                let outcome = try Enrollment.revoke(
                    kind: .device, id: device, reason: reason, ca: ca, keystore: Keystore(directory: stores.keystore), serialHex: serial
                )
                let record = outcome.certificate
                if outcome.wasAlreadyRevoked {
                    print("device \(device) serial \(record.serial) was already revoked (\(record.revocation?.reason.name ?? "?")); CRL re-published")
                } else {
                    print("revoked device \(device) serial \(record.serial) (\(reason.name))")
                }
                print("  CRL number \(outcome.crl.crlNumber.map(String.init) ?? "?"): \(ca.crlPath), copied to the keystore")
            }
        }
    }
}
