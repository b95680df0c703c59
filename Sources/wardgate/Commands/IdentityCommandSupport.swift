import ArgumentParser
import DeviceIdentity
import Foundation

/// Shared helpers of the identity commands (`ca`, `device`, `gateway`).
enum IdentityCLI {
    /// Runs a command body; any failure becomes one line on stderr and exit status 1 (no stack trace).
    static func runReportingFailures(_ body: () throws -> Void) throws {
        do {
            try body()
        } catch let exit as ExitCode {
            throw exit
        } catch {
            FileHandle.standardError.write(Data("error: \(error)\n".utf8))
            throw ExitCode.failure
        }
    }

    static func isoDate(_ date: Date) -> String { date.formatted(.iso8601) }

    static func parseRevocationReason(_ text: String) throws -> RevocationReason {
        guard let reason = RevocationReason(name: text) else {
            throw ValidationError("unknown revocation reason \"\(text)\"; use one of: \(RevocationReason.acceptedNames)")
        }
        return reason
    }

    static func printEnrollment(_ outcome: Enrollment.Outcome) {
        print("enrolled \(outcome.kind) \(outcome.id)")
        print("  serial:      \(outcome.serialHex)")
        print("  valid:       \(isoDate(outcome.certificate.notValidBefore)) .. \(isoDate(outcome.certificate.notValidAfter))")
        print("  x5t#S256:    \(outcome.thumbprint)")
        print("  certificate: \(outcome.certificatePath)")
        if let keyPath = outcome.keyPath {
            print("  private key: \(keyPath) (mode 0600)")
        } else {
            print("  private key: not in the keystore (CSR enrollment); install it at key.pem beside the certificate, mode 0600")
        }
        if let replaced = outcome.replacedSerialHex {
            print("  replaces:    serial \(replaced) (kept in the keystore's certs/ so its signatures still verify)")
        }
    }
}
