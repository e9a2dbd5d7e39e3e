import AWSJMESPath
import AWSJSON
import Testing

/// Python jmespath's quirks that botocore's expressions may meet, each checked against
/// what `jmespath.search` 1.1.0 answers (the compliance suite does not pin them).
@Suite("JMESPath as Python's jmespath evaluates it")
struct JMESPathTests {
    /// `expression` on a document written as JSON text (a literal of the test's).
    static func search(_ expression: String, _ document: String = "null") throws(JMESPathError) -> JSON {
        try JMESPath(expression).search(try! JSON.parse(document))
    }

    @Test("the quirks: !0 is false, f(a b) is f(a, b), strings order, {a: b c: d}, a bare `literal` is a string")
    func quirks() throws {
        #expect(try Self.search("!`0`") == .bool(false))
        #expect(try Self.search("not_null(a b)", #"{"b":2}"#) == .int(2))
        #expect(try Self.search("a < b", #"{"a":"abc","b":"abd"}"#) == .bool(true))
        #expect(try Self.search("a < b", #"{"a":"abc","b":1}"#) == .null)
        #expect(try Self.search("{a: b c: d}", #"{"b":1,"d":2}"#) == .object(JSONObject([("a", .int(1)), ("c", .int(2))])))
        #expect(try Self.search("`foo`") == .string("foo"))
        #expect(try Self.search("a.b[?c > `1`].d | [0]", #"{"a":{"b":[{"c":1,"d":"x"},{"c":2,"d":"y"}]}}"#) == .string("y"))
    }

    @Test("to_string writes as Python's json.dumps; to_number reads as int() then float()")
    func conversions() throws {
        #expect(try Self.search("to_string(@)", #"{"x":[1.0,1e16,1e-5,"é😀"]}"#)
                == .string(#"{"x":[1.0,1e+16,1e-05,"\u00e9\ud83d\ude00"]}"#))
        #expect(try Self.search("to_number(' 1_000 ')") == .int(1000))
        #expect(try Self.search("to_number('1e3')") == .double(1000))
        #expect(try Self.search("to_number('0x10')") == .null)
        #expect(try Self.search("to_number('inf')") == .double(.infinity))
        #expect(try Self.search("sum(@)", "[1,2]") == .int(3))
        #expect(try Self.search("sum(@)", "[1,2.5]") == .double(3.5))
        #expect(try Self.search("ceil(`1.5`)") == .int(2))
    }

    @Test("strings count, reverse and compare by Unicode scalar, as Python's str does")
    func unicode() throws {
        #expect(try Self.search("length('😀é')") == .int(2))
        #expect(try Self.search("length(@)", #""e\u0301""#) == .int(2))
        #expect(try Self.search("reverse('ab😀')") == .string("😀ba"))
        #expect(try Self.search("contains('abc', '')") == .bool(true))
    }

    @Test("slices as Python's, sort_by stable, max_by the first largest")
    func ordering() throws {
        #expect(try Self.search("[::-2]", "[0,1,2,3,4]") == .array([.int(4), .int(2), .int(0)]))
        #expect(try Self.search("[-4:-1]", "[0,1,2,3,4]") == .array([.int(1), .int(2), .int(3)]))
        let rows = #"[{"a":2,"i":0},{"a":1,"i":1},{"a":2,"i":2}]"#
        #expect(try Self.search("sort_by(@, &a)[*].i", rows) == .array([.int(1), .int(0), .int(2)]))
        #expect(try Self.search("max_by(@, &a).i", rows) == .int(0))
    }

    @Test("errors: a syntax error when compiled; an unknown function, an arity or a type when called")
    func errors() throws {
        #expect(throws: JMESPathError.self) { try JMESPath("a.[") }
        #expect((try? JMESPath("")) == nil)
        let unknown = try JMESPath("nope(@)")
        #expect(throws: JMESPathError(.unknownFunction, "unknown function: nope()")) { try unknown.search(.null) }
        do {
            _ = try Self.search("length(@, @)")
            Issue.record("no arity error")
        } catch { #expect(error.kind == .invalidArity) }
        do {
            _ = try Self.search("sort_by(@, &a)", #"[{"a":1},{"a":"x"}]"#)
            Issue.record("no type error")
        } catch { #expect(error.kind == .invalidType) }
        do {
            _ = try Self.search("[::0]", "[1]")
            Issue.record("no value error")
        } catch { #expect(error.kind == .invalidValue) }
    }

    @Test("a document holding already-written JSON (a transcoded answer) is read through")
    func fragments() throws {
        let fragment = JSON.fragment(JSONFragment(bytes: Array(#"{"Contents":[{"Key":"a"},{"Key":"b"}],"NextMarker":null}"#.utf8)))
        let document = JSON.object(JSONObject([("Page", fragment)]))
        #expect(try JMESPath("Page.NextMarker || Page.Contents[-1].Key").search(document) == .string("b"))
        #expect(try JMESPath("length(Page.Contents[].Key)").search(document) == .int(2))
    }
}
