import DeviceProfiles
import Testing

@Suite("Topic patterns")
struct TopicPatternTests {
    @Test("{device} captures its level; + matches any one level; the subscription filter uses + for {device}")
    func captureAndPlus() throws {
        let pattern = try TopicPattern("wards/+/devices/{device}/vitals")
        #expect(pattern.subscriptionFilter == "wards/+/devices/+/vitals")
        #expect(pattern.description == "wards/+/devices/{device}/vitals")
        #expect(pattern.match("wards/w1/devices/dev-1/vitals") == "dev-1")
        #expect(pattern.match("wards/icu-2/devices/urn:dev:mac:0024befffe804ff1/vitals") == "urn:dev:mac:0024befffe804ff1")
        // An empty level is a level: + matches it, and {device} captures it (the decoder then rejects the empty id).
        #expect(pattern.match("wards//devices/dev-1/vitals") == "dev-1")
        #expect(pattern.match("wards/w1/devices//vitals") == "")
    }

    @Test("topics that do not match", arguments: [
        "wards/w1/devices/dev-1/senml",
        "wards/w1/devices/dev-1",
        "wards/w1/devices/dev-1/vitals/",
        "wards/w1/devices/dev-1/vitals/extra",
        "wards/devices/dev-1/vitals",
        "/wards/w1/devices/dev-1/vitals",
        "Wards/w1/devices/dev-1/vitals",
        "wards/w1/device/dev-1/vitals",
        "wards/w1/w2/devices/dev-1/vitals",
        "",
        "#",
    ])
    func nonMatching(_ topic: String) throws {
        #expect(try TopicPattern("wards/+/devices/{device}/vitals").match(topic) == nil)
    }

    @Test("# matches any remaining levels, including none (MQTT 3.1.1 §4.7.1.2)")
    func multiLevel() throws {
        let pattern = try TopicPattern("site/{device}/#")
        #expect(pattern.subscriptionFilter == "site/+/#")
        #expect(pattern.match("site/d1/a") == "d1")
        #expect(pattern.match("site/d1/a/b/c") == "d1")
        #expect(pattern.match("site/d1/") == "d1")
        #expect(pattern.match("site/d1") == "d1")
        #expect(pattern.match("site") == nil)
        #expect(pattern.match("other/d1/a") == nil)

        let middle = try TopicPattern("{device}/+/data/#")
        #expect(middle.subscriptionFilter == "+/+/data/#")
        #expect(middle.match("d2/x/data/1/2") == "d2")
        #expect(middle.match("d2/x/other/1") == nil)
        #expect(middle.match("d2/x") == nil)
    }

    @Test("{device} at the first or last level")
    func placement() throws {
        #expect(try TopicPattern("{device}").match("solo") == "solo")
        #expect(try TopicPattern("{device}").match("a/b") == nil)
        #expect(try TopicPattern("{device}").subscriptionFilter == "+")
        #expect(try TopicPattern("ward/{device}").match("ward/bed-3") == "bed-3")
        #expect(try TopicPattern("ward/{device}").match("ward/bed-3/x") == nil)
    }

    @Test("a topic for one device fills {device} in")
    func topicForDevice() throws {
        #expect(try TopicPattern("phd/{device}/manager").topic(forDevice: "agent-7") == "phd/agent-7/manager")
        let pattern = try TopicPattern("wards/w1/devices/{device}/vitals")
        #expect(pattern.match(pattern.topic(forDevice: "dev-9")) == "dev-9")
    }

    @Test("invalid patterns say why", arguments: [
        ("wards/+/vitals", "must contain a {device} level that captures the device id"),
        ("", "must contain a {device} level that captures the device id"),
        ("a/{device}/b/{device}", "{device} must appear exactly once, as a whole topic level"),
        ("a/x{device}", "{device} must appear exactly once, as a whole topic level"),
        ("a/{device}x/b", "{device} must appear exactly once, as a whole topic level"),
        ("a/#/{device}", "'#' may only be the last level"),
        ("#/{device}", "'#' may only be the last level"),
        ("a/b#/{device}", "level \"b#\" mixes wildcards or braces with text"),
        ("a/+b/{device}", "level \"+b\" mixes wildcards or braces with text"),
        ("a/{dev}/{device}", "level \"{dev}\" mixes wildcards or braces with text"),
    ])
    func invalidPatterns(_ pattern: String, _ message: String) {
        do throws(TopicPatternError) {
            let parsed = try TopicPattern(pattern)
            Issue.record("\"\(pattern)\" was accepted as \(parsed.subscriptionFilter)")
        } catch {
            #expect(error.description == message)
        }
    }
}
