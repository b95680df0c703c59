import JSONDocument
import Testing

@Suite("JSON Pointer (RFC 6901)")
struct PointerTests {
    /// The example document of RFC 6901 §5.
    static let rfcDocument = #"""
    {
       "foo": ["bar", "baz"],
       "": 0,
       "a/b": 1,
       "c%d": 2,
       "e^f": 3,
       "g|h": 4,
       "i\\j": 5,
       "k\"l": 6,
       " ": 7,
       "m~n": 8
    }
    """#

    private func resolve(_ pointer: String, in text: String = rfcDocument, sourceLocation: SourceLocation = #_sourceLocation) throws -> JSONValue? {
        let document = try JSONParser.parse(text)
        let parsed = try #require(JSONPointer(pointer), "\"\(pointer)\" did not parse as a pointer", sourceLocation: sourceLocation)
        return parsed.resolve(in: document)
    }

    @Test("the RFC 6901 §5 examples resolve as the RFC says", arguments: [
        ("/foo", #"["bar","baz"]"#),
        ("/foo/0", #""bar""#),
        ("/foo/1", #""baz""#),
        ("/", "0"),
        ("/a~1b", "1"),
        ("/c%d", "2"),
        ("/e^f", "3"),
        ("/g|h", "4"),
        ("/i\\j", "5"),
        ("/k\"l", "6"),
        ("/ ", "7"),
        ("/m~0n", "8"),
    ])
    func rfcExamples(_ pointer: String, _ expected: String) throws {
        let value = try #require(try resolve(pointer), "\(pointer) resolved to nothing")
        #expect(value.serialized == expected)
    }

    @Test("the empty pointer is the whole document")
    func wholeDocument() throws {
        let pointer = try #require(JSONPointer(""))
        #expect(pointer.tokens.isEmpty)
        let document = try JSONParser.parse(Self.rfcDocument)
        #expect(pointer.resolve(in: document) == document)
    }

    @Test("~0 and ~1 unescape to ~ and /, in that order (~01 is ~1, not /)")
    func escapes() throws {
        #expect(JSONPointer("/a~1b/m~0n/~01/~10/~0~1")?.tokens == ["a/b", "m~n", "~1", "/0", "~/"])
        #expect(try resolve("/~01", in: #"{"~1":"tilde-one","/":"slash"}"#) == "tilde-one")
        #expect(try resolve("/~1", in: #"{"~1":"tilde-one","/":"slash"}"#) == "slash")
    }

    @Test("tokens split on every '/', keeping empty tokens")
    func emptyTokens() throws {
        #expect(JSONPointer("/")?.tokens == [""])
        #expect(JSONPointer("//")?.tokens == ["", ""])
        #expect(JSONPointer("/a/")?.tokens == ["a", ""])
        #expect(try resolve("//x", in: #"{"":{"":1,"x":2}}"#) == 2)
        #expect(try resolve("/a/", in: #"{"a":{"":"empty"}}"#) == "empty")
    }

    @Test("text that is not a pointer is rejected", arguments: ["foo", "#/foo", " /foo", "/~", "/~2", "/a~", "/a~b", "/~~", "~0"])
    func notPointers(_ text: String) {
        #expect(JSONPointer(text) == nil)
    }

    @Test("the pointer keeps its text as its description")
    func description() {
        #expect(JSONPointer("/a~1b/0")?.description == "/a~1b/0")
        #expect(JSONPointer("/a~1b/0")?.tokens == ["a/b", "0"])
    }

    @Test("array indices are decimal without leading zeros, and in bounds", arguments: [
        "/foo/2", "/foo/-", "/foo/01", "/foo/00", "/foo/+1", "/foo/-0", "/foo/-1", "/foo/ 1", "/foo/1 ", "/foo/1.0",
        "/foo/1e0", "/foo/0x1", "/foo/", "/foo/99999999999999999999999", "/foo/١",
    ])
    func badIndices(_ pointer: String) throws {
        #expect(try resolve(pointer) == nil)
    }

    @Test("large valid indices work")
    func largeIndex() throws {
        let text = "[" + (0...120).map(String.init).joined(separator: ",") + "]"
        #expect(try resolve("/120", in: text) == 120)
        #expect(try resolve("/10", in: text) == 10)
        #expect(try resolve("/121", in: text) == nil)
    }

    @Test("missing members and paths through scalars resolve to nothing")
    func missing() throws {
        #expect(try resolve("/nope") == nil)
        #expect(try resolve("/foo/0/x") == nil)
        #expect(try resolve("/a~1b/0") == nil)
        #expect(try resolve("/FOO") == nil, "member names are case-sensitive")
        #expect(try resolve("/0", in: #"{"0":"zero"}"#) == "zero", "on an object a digit token is a member name")
        #expect(try resolve("/01", in: #"{"01":"one"}"#) == "one", "leading zeros are fine in member names")
    }

    @Test("null is a value that resolves; it is not absence")
    func nullResolves() throws {
        #expect(try resolve("/a", in: #"{"a":null}"#) == .null)
    }

    @Test("member names compare by code points: no Unicode normalization, '/' is a level even before a combining mark")
    func codePoints() throws {
        // "é" precomposed (U+00E9) and decomposed (e + U+0301) are different names to RFC 6901.
        let composed = #"{"\u00e9":"composed"}"#
        #expect(try resolve("/\u{E9}", in: composed) == "composed")
        #expect(try resolve("/e\u{301}", in: composed) == nil)
        let decomposed = #"{"e\u0301":"decomposed"}"#
        #expect(try resolve("/e\u{301}", in: decomposed) == "decomposed")
        #expect(try resolve("/\u{E9}", in: decomposed) == nil)

        // A '/' followed by a combining mark is one Character in Swift, but still two code points.
        #expect(JSONPointer("/\u{301}")?.tokens == ["\u{301}"])
        #expect(JSONPointer("/a/\u{301}b")?.tokens == ["a", "\u{301}b"])
        #expect(try resolve("/\u{301}", in: #"{"\u0301":"mark"}"#) == "mark")
        #expect(JSONPointer("/~\u{301}") == nil, "'~' must be followed by 0 or 1")
    }
}
