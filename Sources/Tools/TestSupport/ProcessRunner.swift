import Foundation

/// What a finished child process said.
public struct ProcessResult: Sendable {
    public let status: Int32
    public let stdout: String
    public let stderr: String

    /// Standard output, then standard error.
    public var output: String { stdout + stderr }
}

/// The one way the tests run an external program (openssl, python3 checkers, mosquitto tools,
/// the `wardgate` binary) to completion.
///
/// Output goes to temporary files rather than pipes, so a child that writes more than a pipe
/// holds to one stream while the test reads the other cannot deadlock.
public enum ProcessRunner {
    /// Runs `executable` with `arguments`, feeding it `input` (and then end of file) on standard
    /// input. Standard input is empty when `input` is nil.
    public static func run(
        _ executable: String, _ arguments: [String], input: [UInt8]? = nil,
        directory: String? = nil, environment: [String: String]? = nil
    ) throws -> ProcessResult {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
        if let environment { process.environment = environment }
        let base = NSTemporaryDirectory() + "wardgate-process-\(UUID().uuidString.prefix(8))"
        let outPath = base + ".out", errPath = base + ".err"
        defer {
            try? FileManager.default.removeItem(atPath: outPath)
            try? FileManager.default.removeItem(atPath: errPath)
        }
        _ = FileManager.default.createFile(atPath: outPath, contents: nil)
        _ = FileManager.default.createFile(atPath: errPath, contents: nil)
        let out = try FileHandle(forWritingTo: URL(fileURLWithPath: outPath))
        let err = try FileHandle(forWritingTo: URL(fileURLWithPath: errPath))
        process.standardOutput = out
        process.standardError = err
        let inputPipe = input.map { _ in Pipe() }
        process.standardInput = inputPipe ?? FileHandle.nullDevice
        try process.run()
        if let inputPipe, let input {
            inputPipe.fileHandleForWriting.write(Data(input))
            try inputPipe.fileHandleForWriting.close()
        }
        process.waitUntilExit()
        try out.close()
        try err.close()
        return ProcessResult(
            status: process.terminationStatus,
            stdout: (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? "",
            stderr: (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? "")
    }

    /// Runs a tool found on PATH, through /usr/bin/env. A missing tool makes env exit 127, so
    /// the test that needs it fails; it is never skipped.
    public static func runTool(
        _ arguments: [String], input: [UInt8]? = nil, directory: String? = nil, environment: [String: String]? = nil
    ) throws -> ProcessResult {
        try run("/usr/bin/env", arguments, input: input, directory: directory, environment: environment)
    }
}
