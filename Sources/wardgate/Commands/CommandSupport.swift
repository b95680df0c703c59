import ArgumentParser
import Foundation
import Gateway
import Logging

#if canImport(Glibc)
import Glibc
#endif

enum CommandSupport {
    static func printError(_ message: String) {
        FileHandle.standardError.write(Data((message + "\n").utf8))
    }

    /// Loads the configuration or prints every issue and exits 1.
    static func loadConfig(_ path: String) throws -> GatewayConfig {
        do {
            return try GatewayConfig.load(path: path)
        } catch {
            printError(error.description)
            throw ExitCode(1)
        }
    }

    static func bootstrapLogging(level: Logger.Level) {
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
    }

    /// The shipped profiles: ./DeviceProfiles, then beside the executable's checkout, then the
    /// packaged location.
    static func shippedProfilesDirectory() -> String? {
        var candidates = [FileManager.default.currentDirectoryPath + "/DeviceProfiles"]
        var directory = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        for _ in 0..<5 {
            candidates.append(directory.appendingPathComponent("DeviceProfiles").path)
            directory.deleteLastPathComponent()
        }
        candidates.append("/usr/share/wardgate/DeviceProfiles")
        return candidates.first { FileManager.default.fileExists(atPath: $0) }
    }
}
