import DeviceProfiles
import Foundation
// The issue types ProfileSet.load throws; StrictYAML is built as a dependency of DeviceProfiles.
import StrictYAML
import Testing
import WardgateTestSupport

/// What `ProfileSet.load` reported, as (file name, field path, message).
struct ReportedIssue: CustomStringConvertible {
    let file: String
    let path: String
    let message: String
    var description: String { "\(file): \(path): \(message)" }
}

/// Writes the files to a fresh directory and loads it; every issue, or a recorded failure if it loads.
func loadIssues(_ files: [String: String], sourceLocation: SourceLocation = #_sourceLocation) throws -> [ReportedIssue] {
    let directory = try TemporaryDirectory()
    for (name, text) in files { try directory.write(text, to: name) }
    do throws(YAMLIssues) {
        let set = try ProfileSet.load(directory: directory.path)
        Issue.record("expected the profiles to be rejected, loaded \(set.profiles.map(\.id))", sourceLocation: sourceLocation)
        return []
    } catch {
        #expect(!error.issues.isEmpty, sourceLocation: sourceLocation)
        for issue in error.issues {
            // Each issue names the file by its full path, so an integrator can open it.
            #expect(issue.file.hasPrefix(directory.path), "issue file \(issue.file) is not in \(directory.path)", sourceLocation: sourceLocation)
            #expect(error.description.contains(issue.description), sourceLocation: sourceLocation)
        }
        return error.issues.map { ReportedIssue(file: ($0.file as NSString).lastPathComponent, path: $0.path, message: $0.message) }
    }
}

/// Expects exactly one issue at `path` (in `file`) whose message contains `message`.
func expectIssue(
    _ issues: [ReportedIssue], file: String = "p.yml", path: String, _ message: String, sourceLocation: SourceLocation = #_sourceLocation
) {
    let matching = issues.filter { $0.file == file && $0.path == path && $0.message.contains(message) }
    #expect(matching.count == 1, "want \(file): \(path): …\(message)… in\n\(issues.map(\.description).joined(separator: "\n"))", sourceLocation: sourceLocation)
}

/// A valid JSON profile; tests replace one line to break it.
let validProfile = """
    id: test-json
    description: Test wearable
    topic: test/{device}/vitals
    format: json
    timestamp: {pointer: /ts, format: epoch-ms}
    metrics:
      - {pointer: /hr, mdc: MDC_PULS_RATE_NON_INV, unit: /min, range: [20, 300]}
      - {pointer: /spo2, mdc: MDC_PULS_OXIM_SAT_O2, unit: "%"}
      - {mdc: MDC_PRESS_BLD_NONINV, unit: "mm[Hg]", components: {systolic: /bp/sys, diastolic: /bp/dia}}

    """

func broken(_ old: String, _ new: String, sourceLocation: SourceLocation = #_sourceLocation) -> String {
    #expect(validProfile.contains(old), "test bug: \(old) is not in the valid profile", sourceLocation: sourceLocation)
    return validProfile.replacingOccurrences(of: old, with: new)
}

@Suite("Profile validation: file, field path and problem")
struct ProfileValidationTests {
    @Test("the unbroken test profile loads (so each failure below is the edit's)")
    func validLoads() throws {
        let set = try Fixtures.profiles(["p.yml": validProfile, "notes.txt": "not a profile"])
        #expect(set.profiles.map(\.id) == ["test-json"])
        #expect(set.profiles.first?.metrics.count == 3)
    }

    @Test("unknown keys are errors with their full path")
    func unknownKeys() throws {
        let inMetric = try loadIssues(["p.yml": broken("{pointer: /spo2,", "{pointr: /spo2,")])
        expectIssue(inMetric, path: "metrics[1].pointr", "unknown key")
        expectIssue(inMetric, path: "metrics[1]", "needs \"pointer\" (or \"components\" for a panel)")
        #expect(inMetric.count == 2, "\(inMetric)")

        let topLevel = try loadIssues(["p.yml": validProfile + "colour: blue\n"])
        expectIssue(topLevel, path: "colour", "unknown key")
        #expect(topLevel.count == 1, "\(topLevel)")

        let inTimestamp = try loadIssues(["p.yml": broken("format: epoch-ms}", "format: epoch-ms, zone: UTC}")])
        expectIssue(inTimestamp, path: "timestamp.zone", "unknown key")

        let inComponents = try loadIssues(["p.yml": broken("diastolic: /bp/dia}", "diastolic: /bp/dia, pulse: /bp/p}")])
        expectIssue(inComponents, path: "metrics[2].components.pulse", "is not a component of MDC_PRESS_BLD_NONINV")
        #expect(inComponents.count == 1, "\(inComponents)")
    }

    @Test("a key given twice is an error, not a silent override (Yams refuses the document)")
    func duplicateKeys() throws {
        let top = try loadIssues(["p.yml": validProfile + "id: other-id\n"])
        expectIssue(top, path: "", "not valid YAML")
        #expect(top.count == 1 && top[0].message.contains("'id'"), "\(top)")
        let inMetric = try loadIssues(["p.yml": broken("unit: /min, range", "unit: /min, unit: \"%\", range")])
        expectIssue(inMetric, path: "", "not valid YAML")
        #expect(inMetric.count == 1 && inMetric[0].message.contains("'unit'"), "\(inMetric)")
    }

    @Test("unknown MDC terms")
    func unknownMDC() throws {
        let issues = try loadIssues(["p.yml": broken("mdc: MDC_PULS_OXIM_SAT_O2", "mdc: MDC_PULS_OXIM_SAT_O3")])
        expectIssue(issues, path: "metrics[1].mdc", "unknown metric \"MDC_PULS_OXIM_SAT_O3\"; known: MDC_PULS_OXIM_SAT_O2")
        #expect(issues.count == 1, "\(issues)")
    }

    @Test("a metric may be named by its decimal MDC code")
    func mdcByCode() throws {
        let set = try Fixtures.profiles(["p.yml": broken("mdc: MDC_PULS_OXIM_SAT_O2", "mdc: 150456")])
        #expect(set.profiles.first?.metrics[1].metric.reference == "MDC_PULS_OXIM_SAT_O2")
    }

    @Test("units that cannot be converted to the metric's canonical unit")
    func inconvertibleUnit() throws {
        let issues = try loadIssues(["p.yml": broken("unit: /min, range", "unit: kg, range")])
        expectIssue(issues, path: "metrics[0].unit", "\"kg\" cannot be converted to MDC_PULS_RATE_NON_INV's unit \"/min\"")
        #expect(issues.count == 1, "\(issues)")
        let panel = try loadIssues(["p.yml": broken(#"unit: "mm[Hg]""#, "unit: Cel")])
        expectIssue(panel, path: "metrics[2].unit", "\"Cel\" cannot be converted to MDC_PRESS_BLD_NONINV's unit \"mm[Hg]\"")
    }

    @Test("JSON pointers that are not RFC 6901 pointers", arguments: [
        ("{pointer: /hr,", "{pointer: hr,", "metrics[0].pointer", "\"hr\" is not a JSON pointer (RFC 6901)"),
        ("{pointer: /hr,", "{pointer: /a~2b,", "metrics[0].pointer", "\"/a~2b\" is not a JSON pointer"),
        ("systolic: /bp/sys", "systolic: bp.sys", "metrics[2].components.systolic", "\"bp.sys\" is not a JSON pointer"),
        ("{pointer: /ts,", "{pointer: ts,", "timestamp.pointer", "\"ts\" is not a JSON pointer (RFC 6901), e.g. /ts"),
    ])
    func badPointers(_ old: String, _ new: String, _ path: String, _ message: String) throws {
        let issues = try loadIssues(["p.yml": broken(old, new)])
        expectIssue(issues, path: path, message)
        #expect(issues.count == 1, "\(issues)")
    }

    @Test("bad plausible ranges", arguments: [
        ("range: [20, 300]", "range: [300, 20]", "metrics[0].range", "low must not exceed high"),
        ("range: [20, 300]", "range: [20]", "metrics[0].range", "must be [low, high]"),
        ("range: [20, 300]", "range: [20, 300, 400]", "metrics[0].range", "must be [low, high]"),
        ("range: [20, 300]", "range: [low, 300]", "metrics[0].range[0]", "must be a number"),
        ("range: [20, 300]", "range: [20, [300]]", "metrics[0].range[1]", "must be a number"),
        ("range: [20, 300]", "range: 20-300", "metrics[0].range", "expected a list, found a scalar"),
    ])
    func badRanges(_ old: String, _ new: String, _ path: String, _ message: String) throws {
        let issues = try loadIssues(["p.yml": broken(old, new)])
        expectIssue(issues, path: path, message)
        #expect(issues.count == 1, "\(issues)")
    }

    @Test("topics without exactly one whole {device} level", arguments: [
        ("test/+/vitals", "must contain a {device} level that captures the device id"),
        ("test/{device}/{device}", "{device} must appear exactly once, as a whole topic level"),
        ("test/dev-{device}/vitals", "{device} must appear exactly once, as a whole topic level"),
        ("test/#/{device}", "'#' may only be the last level"),
        ("test/a+/{device}", "level \"a+\" mixes wildcards or braces with text"),
    ])
    func badTopics(_ topic: String, _ message: String) throws {
        let issues = try loadIssues(["p.yml": broken("topic: test/{device}/vitals", "topic: \(topic)")])
        expectIssue(issues, path: "topic", message)
        #expect(issues.count == 1, "\(issues)")
    }

    @Test("duplicate ids across files name both files")
    func duplicateIds() throws {
        let other = broken("topic: test/{device}/vitals", "topic: other/{device}/vitals")
        let issues = try loadIssues(["a.yml": validProfile, "b.yml": other])
        #expect(issues.count == 1, "\(issues)")
        let issue = try #require(issues.first)
        #expect(issue.file == "b.yml")
        #expect(issue.path == "id")
        #expect(issue.message.hasPrefix("\"test-json\" is also the id of "))
        #expect(issue.message.hasSuffix("/a.yml"))
    }

    @Test("two profiles subscribing to the same filter")
    func duplicateTopics() throws {
        let issues = try loadIssues(["a.yml": validProfile, "b.yml": broken("id: test-json", "id: test-json-2")])
        expectIssue(issues, file: "b.yml", path: "topic", "\"test/{device}/vitals\" subscribes to the same filter as ")
        #expect(issues.count == 1, "\(issues)")
    }

    @Test("pointer and components together")
    func pointerAndComponents() throws {
        let issues = try loadIssues(["p.yml": broken("{mdc: MDC_PRESS_BLD_NONINV,", "{pointer: /bp, mdc: MDC_PRESS_BLD_NONINV,")])
        expectIssue(issues, path: "metrics[2]", "give either \"pointer\" or \"components\", not both")
        #expect(issues.count == 1, "\(issues)")
    }

    @Test("components on a metric that is not a panel, and a pointer on one that is")
    func componentsOnNonPanel() throws {
        let issues = try loadIssues(["p.yml": validProfile + "  - {mdc: MDC_TEMP_BODY, unit: Cel, components: {systolic: /t}}\n"])
        expectIssue(issues, path: "metrics[3].components", "MDC_TEMP_BODY is not a panel; use \"pointer\"")
        expectIssue(issues, path: "metrics[3].components.systolic", "is not a component of MDC_TEMP_BODY")

        let pointerOnPanel = try loadIssues(["p.yml": validProfile + "  - {pointer: /bp2, mdc: MDC_PRESS_BLD_NONINV, unit: \"mm[Hg]\"}\n"])
        expectIssue(pointerOnPanel, path: "metrics[3].pointer", "MDC_PRESS_BLD_NONINV is a panel: give \"components\"")
        #expect(pointerOnPanel.count == 1, "\(pointerOnPanel)")
    }

    @Test("other field problems each name their field")
    func otherFields() throws {
        expectIssue(try loadIssues(["p.yml": broken("id: test-json", "id: Test JSON")]), path: "id", "must be 1–64 lower-case letters")
        expectIssue(try loadIssues(["p.yml": broken("description: Test wearable\n", "")]), path: "description", "is required")
        expectIssue(try loadIssues(["p.yml": broken("format: json", "format: xml")]), path: "format", "must be one of json, senml, ieee11073-20601, found \"xml\"")
        expectIssue(try loadIssues(["p.yml": broken("format: epoch-ms", "format: epoch-us")]), path: "timestamp.format", "must be one of rfc3339, epoch-s, epoch-ms")
        expectIssue(try loadIssues(["p.yml": broken("unit: \"%\"}", "unit: \"%\", scale: 0}")]), path: "metrics[1].scale", "must be a decimal number with magnitude between 1e-9 and 1e9, found \"0\"")
        expectIssue(try loadIssues(["p.yml": broken("unit: \"%\"}", "unit: \"%\", scale: tenth}")]), path: "metrics[1].scale", "must be a decimal number with magnitude between 1e-9 and 1e9")
        // A huge factor could overflow the arithmetic on a device value: refused at load.
        expectIssue(try loadIssues(["p.yml": broken("unit: \"%\"}", "unit: \"%\", scale: 1e120}")]), path: "metrics[1].scale", "found \"1e120\"")
        expectIssue(try loadIssues(["p.yml": broken("unit: \"%\"}", "unit: \"%\", required: maybe}")]), path: "metrics[1].required", "expected true or false, found \"maybe\"")
        expectIssue(try loadIssues(["p.yml": broken("unit: \"%\"}", "unit: \"%\", senmlUnit: \"%\"}")]), path: "metrics[1].senmlUnit", "only applies to format senml")
        expectIssue(try loadIssues(["p.yml": broken("{pointer: /spo2,", "{name: spo2,")]), path: "metrics[1].name", "format json locates metrics with \"pointer\", not \"name\"")
        expectIssue(try loadIssues(["p.yml": validProfile + "maxPayloadBytes: 0\n"]), path: "maxPayloadBytes", "must be between 1 and 16777216")
        expectIssue(try loadIssues(["p.yml": validProfile + "maxPayloadBytes: lots\n"]), path: "maxPayloadBytes", "expected an integer")
        expectIssue(try loadIssues(["p.yml": broken("{pointer: /spo2,", "{pointer: /hr,")]), path: "metrics", "maps the same payload field twice")
        expectIssue(try loadIssues(["p.yml": broken("  - {pointer: /hr", "  - 42\n  - {pointer: /hr")]), path: "metrics[0]", "expected a mapping, found a scalar")
    }

    @Test("SenML profile problems")
    func senmlProblems() throws {
        let senml = """
            id: test-senml
            description: SenML
            topic: test/{device}/senml
            format: senml
            metrics:
              - {name: hr, mdc: MDC_PULS_RATE_NON_INV, unit: /min, senmlUnit: beat/min}
              - {name: "", mdc: MDC_PULS_OXIM_SAT_O2, unit: "%"}
              - {pointer: /t, mdc: MDC_TEMP_BODY, unit: Cel}

            """
        let issues = try loadIssues(["p.yml": senml + "timestamp: {pointer: /t, format: epoch-s}\n"])
        expectIssue(issues, path: "metrics[1].name", "must name a SenML record")
        expectIssue(issues, path: "metrics[2].pointer", "format senml locates metrics with \"name\", not \"pointer\"")
        expectIssue(issues, path: "timestamp", "SenML records carry their own time (bt/t); remove this key")
    }

    @Test("YAML that is not YAML, an empty file, a list at the root, an empty directory")
    func documentProblems() throws {
        expectIssue(try loadIssues(["p.yml": "id: [unclosed\n"]), path: "", "not valid YAML")
        expectIssue(try loadIssues(["p.yml": ""]), path: "", "the document is empty")
        expectIssue(try loadIssues(["p.yml": "- a\n- b\n"]), path: "", "expected a mapping, found a list")
        expectIssue(try loadIssues(["p.yml": broken("metrics:\n", "metrics: []\nx:\n")]), path: "metrics", "must list at least one metric")

        let noMetrics = try loadIssues(["p.yml": String(validProfile[..<validProfile.range(of: "metrics:")!.lowerBound])])
        expectIssue(noMetrics, path: "metrics", "is required for format json")
        #expect(noMetrics.count == 1, "\(noMetrics)")
        let notAList = try loadIssues(["p.yml": String(validProfile[..<validProfile.range(of: "metrics:")!.lowerBound]) + "metrics: {pointer: /hr}\n"])
        expectIssue(notAList, path: "metrics", "expected a list, found a mapping")
        #expect(notAList.count == 1, "one issue, not also 'is required': \(notAList)")

        let binary = try TemporaryDirectory()
        try Data([0x69, 0x64, 0x3A, 0x20, 0xFF, 0xFE, 0x0A]).write(to: binary.url.appendingPathComponent("bin.yml"))
        do throws(YAMLIssues) {
            _ = try ProfileSet.load(directory: binary.path)
            Issue.record("a profile that is not UTF-8 loaded")
        } catch {
            #expect(error.issues.map(\.message) == ["cannot be read as UTF-8 text"])
            #expect(error.issues.first?.file.hasSuffix("/bin.yml") == true)
        }

        let empty = try TemporaryDirectory()
        try empty.write("no profiles here", to: "readme.md")
        do throws(YAMLIssues) {
            let set = try ProfileSet.load(directory: empty.path)
            Issue.record("a directory without profiles loaded \(set.profiles.count)")
        } catch {
            #expect(error.issues.map(\.message) == ["holds no *.yml or *.yaml profile"])
            #expect(error.issues.map(\.file) == [empty.path])
        }
        do throws(YAMLIssues) {
            _ = try ProfileSet.load(directory: empty.path + "/missing")
            Issue.record("a missing directory loaded")
        } catch {
            #expect(error.issues.count == 1)
            #expect(error.issues.first?.message.hasPrefix("cannot read the profile directory") == true)
        }
    }

    @Test("several errors in one file are all reported, in one pass")
    func severalErrorsInOneFile() throws {
        let text = """
            id: test-many
            description: Many problems
            topic: test/+/vitals
            format: json
            colour: blue
            timestamp: {pointer: ts, format: epoch-ms}
            metrics:
              - {pointer: /hr, mdc: MDC_NOPE, unit: /min}
              - {pointer: spo2, mdc: MDC_PULS_OXIM_SAT_O2, unit: "%"}
              - {pointer: /rr, mdc: MDC_RESP_RATE, unit: /min, range: [60, 4]}
              - {pointer: /t, mdc: MDC_TEMP_BODY, unit: kg, pointr: /x}
              - {pointer: /bp, mdc: MDC_PRESS_BLD_NONINV, unit: "mm[Hg]", components: {systolic: /s, diastolic: /d}}
              - {mdc: MDC_TEMP_BODY, unit: Cel, components: {systolic: /c}}

            """
        let issues = try loadIssues(["many.yml": text])
        let expected: [(String, String)] = [
            ("topic", "must contain a {device} level"),
            ("colour", "unknown key"),
            ("timestamp.pointer", "is not a JSON pointer"),
            ("metrics[0].mdc", "unknown metric \"MDC_NOPE\""),
            ("metrics[1].pointer", "\"spo2\" is not a JSON pointer"),
            ("metrics[2].range", "low must not exceed high"),
            ("metrics[3].unit", "\"kg\" cannot be converted"),
            ("metrics[3].pointr", "unknown key"),
            ("metrics[4]", "give either \"pointer\" or \"components\", not both"),
            ("metrics[5].components", "is not a panel"),
        ]
        for (path, message) in expected {
            expectIssue(issues, file: "many.yml", path: path, message)
        }
        #expect(issues.count >= expected.count)
    }

    @Test("errors in several files are all reported together")
    func errorsInSeveralFiles() throws {
        let issues = try loadIssues([
            "one.yml": broken("mdc: MDC_PULS_OXIM_SAT_O2", "mdc: MDC_X"),
            "two.yml": broken("id: test-json", "id: test-two").replacingOccurrences(of: "range: [20, 300]", with: "range: [9, 1]")
                .replacingOccurrences(of: "test/{device}/vitals", with: "two/{device}/vitals"),
            "fine.yml": broken("id: test-json", "id: test-fine").replacingOccurrences(of: "test/{device}/vitals", with: "fine/{device}/vitals"),
        ])
        expectIssue(issues, file: "one.yml", path: "metrics[1].mdc", "unknown metric \"MDC_X\"")
        expectIssue(issues, file: "two.yml", path: "metrics[0].range", "low must not exceed high")
        #expect(issues.count == 2, "\(issues)")
        #expect(issues.allSatisfy { $0.file != "fine.yml" })
    }
}
