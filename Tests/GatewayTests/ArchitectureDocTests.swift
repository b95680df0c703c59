import Foundation
import Testing
import WardgateTestSupport

@Suite("docs/ARCHITECTURE.md: the module graph is the one scripts/module-graph makes from Package.swift")
struct ArchitectureDocTests {
    static let script = TestSupport.packageRoot + "/scripts/module-graph"
    static let document = TestSupport.packageRoot + "/docs/ARCHITECTURE.md"

    /// The check reads the manifest through `swift package dump-package` with a scratch directory
    /// of its own: `swift test` holds the lock of .build while this runs.
    func check(_ document: String) throws -> ProcessResult {
        let scratch = NSTemporaryDirectory() + "wardgate-module-graph-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        return try ProcessRunner.runTool(["python3", Self.script, "--check", document, "--scratch-path", scratch])
    }

    @Test("the shipped document's graph and target table match the package")
    func shippedDocumentIsCurrent() throws {
        let result = try check(Self.document)
        #expect(result.status == 0, "\(result.output)")
    }

    @Test("every product and tool target of Package.swift has a row saying what it owns, with its folder")
    func everyTargetIsDescribed() throws {
        let scratch = NSTemporaryDirectory() + "wardgate-dump-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let dump = try ProcessRunner.runTool(
            ["swift", "package", "--scratch-path", scratch, "dump-package"], directory: TestSupport.packageRoot)
        #expect(dump.status == 0, "\(dump.stderr)")
        let manifest = try #require(try JSONSerialization.jsonObject(with: Data(dump.stdout.utf8)) as? [String: Any])
        let targets = try #require(manifest["targets"] as? [[String: Any]]).filter { $0["type"] as? String != "test" }
        let text = try String(contentsOfFile: Self.document, encoding: .utf8)
        #expect(targets.count > 20)
        for target in targets {
            let name = try #require(target["name"] as? String)
            let folder = target["path"] as? String ?? "Sources/\(name)"
            // The generated table's rows read "| `name` | kind | folder |"; this is the hand-written one.
            #expect(text.contains("| `\(name)` | \(folder) | "), "\(name) (\(folder)) has no row in docs/ARCHITECTURE.md's module tables")
        }
    }

    @Test("a document whose graph no longer matches the package fails the check, naming the fix")
    func driftIsCaught() throws {
        let original = try String(contentsOfFile: Self.document, encoding: .utf8)
        let drifted = original.replacingOccurrences(of: "  Evidence --> EmbeddedLedger\n", with: "")
        #expect(drifted != original)
        let path = NSTemporaryDirectory() + "wardgate-architecture-\(UUID().uuidString.prefix(8)).md"
        defer { try? FileManager.default.removeItem(atPath: path) }
        try drifted.write(toFile: path, atomically: true, encoding: .utf8)
        let result = try check(path)
        #expect(result.status == 1)
        #expect(result.stderr.contains("the module graph is out of date"))
        #expect(result.stdout.contains("+  Evidence --> EmbeddedLedger"))
    }
}
