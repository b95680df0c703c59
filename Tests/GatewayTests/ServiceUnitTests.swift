import Foundation
import Testing
import WardgateTestSupport

/// The shipped systemd unit and sysusers file, checked by systemd's own tools.
@Suite("Service: systemd unit, hardening and sysusers")
struct ServiceUnitTests {
    static var unitPath: String { TestSupport.packageRoot + "/systemd/wardgate.service" }
    static var systemdAnalyze: String { "/usr/bin/systemd-analyze" }

    /// A copy of the unit whose ExecStart names the wardgate binary just built (verify insists
    /// that the executable exists), with `transform` applied to its text.
    static func unitCopy(_ transform: (String) -> String = { $0 }) throws -> (directory: String, path: String) {
        let text = try String(contentsOfFile: unitPath, encoding: .utf8)
        #expect(text.contains("ExecStart=/usr/local/bin/wardgate run "))
        let directory = TestSupport.temporaryDirectory("unit")
        let path = directory + "/wardgate.service"
        try transform(text.replacingOccurrences(of: "ExecStart=/usr/local/bin/wardgate", with: "ExecStart=\(TestSupport.wardgateBinary)"))
            .write(toFile: path, atomically: true, encoding: .utf8)
        return (directory, path)
    }

    @Test("systemd-analyze verify accepts the unit without a warning")
    func verify() throws {
        #expect(FileManager.default.isExecutableFile(atPath: Self.systemdAnalyze), "install the systemd package (scripts/install-deps)")
        #expect(FileManager.default.isExecutableFile(atPath: TestSupport.wardgateBinary), "build the wardgate executable first")
        let (directory, path) = try Self.unitCopy()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let result = try ProcessRunner.run(Self.systemdAnalyze, ["verify", path])
        #expect(result.status == 0, "\(result.output)")
        #expect(!result.output.contains("wardgate.service"), "verify complained: \(result.output)")
    }

    @Test("verify is not a rubber stamp: a misspelt directive or a missing binary is reported")
    func verifyCatchesMistakes() throws {
        let (directory, path) = try Self.unitCopy { $0.replacingOccurrences(of: "WatchdogSec=", with: "WatchdogSecs=") }
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let typo = try ProcessRunner.run(Self.systemdAnalyze, ["verify", path])
        #expect(typo.output.contains("Unknown key 'WatchdogSecs'"), "\(typo.output)")

        let (directory2, path2) = try Self.unitCopy { $0.replacingOccurrences(of: TestSupport.wardgateBinary, with: "/nonexistent/wardgate") }
        defer { try? FileManager.default.removeItem(atPath: directory2) }
        let missing = try ProcessRunner.run(Self.systemdAnalyze, ["verify", path2])
        #expect(missing.status != 0, "\(missing.output)")
    }

    @Test("the unit asks for what the daemon implements: notify, watchdog, reload by SIGHUP, restart on failure")
    func directives() throws {
        let text = try String(contentsOfFile: Self.unitPath, encoding: .utf8)
        let lines = Set(text.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) })
        for expected in [
            "Type=notify", "NotifyAccess=main", "Restart=on-failure", "ExecReload=/bin/kill -HUP $MAINPID", "User=wardgate",
            "StateDirectory=wardgate", "ProtectSystem=strict", "ProtectHome=yes", "PrivateTmp=yes", "NoNewPrivileges=yes",
            "CapabilityBoundingSet=", "SystemCallFilter=@system-service", "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6",
        ] {
            #expect(lines.contains(expected), "missing \(expected)")
        }
        #expect(lines.contains { $0.hasPrefix("WatchdogSec=") })
        #expect(lines.contains { $0.hasPrefix("TimeoutStopSec=") })
    }

    @Test("systemd-analyze security --offline rates the unit's exposure at 2.0 or less")
    func exposure() throws {
        let (directory, path) = try Self.unitCopy()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let result = try ProcessRunner.run(Self.systemdAnalyze, ["security", "--offline=true", "--no-pager", path])
        let line = try #require(result.output.split(separator: "\n").first { $0.contains("Overall exposure level for wardgate.service:") }, "\(result.output)")
        let score = try #require(line.split(separator: ":").last?.split(separator: " ").first.flatMap { Double($0) }, "\(line)")
        #expect(score <= 2.0, "\(line)")
        // The number the README and docs/deployment.md report.
        let docs = try String(contentsOfFile: TestSupport.packageRoot + "/docs/deployment.md", encoding: .utf8)
        #expect(docs.contains("exposure level \(String(format: "%.1f", score))"), "docs/deployment.md should report \(score)")

        // The scale is not flat: the same unit without its hardening scores far worse.
        let (directory2, bare) = try Self.unitCopy { text in
            text.split(separator: "\n", omittingEmptySubsequences: false).prefix { !$0.hasPrefix("# Hardening.") }.joined(separator: "\n") + "\n[Install]\nWantedBy=multi-user.target\n"
        }
        defer { try? FileManager.default.removeItem(atPath: directory2) }
        let unhardened = try ProcessRunner.run(Self.systemdAnalyze, ["security", "--offline=true", "--no-pager", bare])
        let bareLine = try #require(unhardened.output.split(separator: "\n").first { $0.contains("Overall exposure level") })
        let bareScore = try #require(bareLine.split(separator: ":").last?.split(separator: " ").first.flatMap { Double($0) })
        #expect(bareScore > 5, "\(bareLine)")
    }

    @Test("systemd-sysusers creates the wardgate system user with no login shell")
    func sysusers() throws {
        let root = TestSupport.temporaryDirectory("sysroot")
        defer { try? FileManager.default.removeItem(atPath: root) }
        try FileManager.default.createDirectory(atPath: root + "/etc", withIntermediateDirectories: true)
        let result = try ProcessRunner.run("/usr/bin/systemd-sysusers", ["--root=\(root)", TestSupport.packageRoot + "/systemd/wardgate.sysusers"])
        #expect(result.status == 0, "\(result.output)")
        let passwd = try String(contentsOfFile: root + "/etc/passwd", encoding: .utf8)
        let entry = try #require(passwd.split(separator: "\n").first { $0.hasPrefix("wardgate:") }, "\(passwd)")
        let fields = entry.split(separator: ":", omittingEmptySubsequences: false)
        #expect(fields.count == 7)
        #expect(Int(fields[2]).map { $0 > 0 && $0 < 1000 } == true, "a system uid: \(entry)")
        #expect(fields[5] == "/var/lib/wardgate")
        #expect(fields[6].hasSuffix("nologin"))
        #expect(try String(contentsOfFile: root + "/etc/group", encoding: .utf8).contains("wardgate:x:"))
    }
}
