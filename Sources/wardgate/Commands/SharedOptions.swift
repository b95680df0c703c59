import ArgumentParser
import DeviceIdentity
import Gateway

/// `--config FILE`: the gateway's configuration, for every command that works on what it names.
struct ConfigFileOption: ParsableArguments {
    @Option(name: .long, help: "The configuration file (YAML).")
    var config: String

    /// The configuration, or every issue printed and exit status 1.
    func load() throws -> GatewayConfig { try CommandSupport.loadConfig(config) }
}

/// `--ca-dir DIR --keystore DIR`: the ward CA and the gateway's keystore, to enroll and revoke in.
struct CAAndKeystoreOptions: ParsableArguments {
    @Option(help: "CA directory.")
    var caDir: String

    @Option(help: "Keystore directory of the gateway.")
    var keystore: String
}

/// `--validity-days N` of a new certificate.
struct ValidityOption: ParsableArguments {
    @Option(help: "Certificate validity in days.")
    var validityDays: Int = Enrollment.defaultValidityDays
}

/// `--leaves FILE`: the leaves the `log` tools work on.
struct LeavesFileOption: ParsableArguments {
    @Option(help: "File with one hex-encoded leaf (the leaf data) per line.")
    var leaves: String
}

/// `--profiles DIR` of the commands that run a simulated ward (`bench`, `demo`).
struct ShippedProfilesOption: ParsableArguments {
    @Option(name: .long, help: "Device profile directory (default: the shipped DeviceProfiles).")
    var profiles: String?

    /// The directory given, or the shipped one; exit status 1 when there is neither.
    func directory() throws -> String {
        guard let directory = profiles ?? CommandSupport.shippedProfilesDirectory() else {
            CommandSupport.printError("cannot find the DeviceProfiles folder; run from the wardgate checkout or pass --profiles DIR")
            throw ExitCode(1)
        }
        return directory
    }
}
