@testable import AWSJSON
import Testing

@Suite("JSON parser and writer")
struct JSONTests {
    @Test("parses every kind of value and keeps key order")
    func parse() throws {
        let value = try JSON.parse(#" {"b": 1, "a": [true, false, null, -0.5, 1e3, "x\u00e9\n\ud83d\ude00"], "c": {}} "#)
        guard case .object(let object) = value else { Issue.record("not an object"); return }
        #expect(object.keys == ["b", "a", "c"])
        #expect(value["b"] == .int(1))
        #expect(value["a"] == [true, false, nil, -0.5, 1000.0, "xé\n😀"])
    }

    @Test("compact strings: quote, backslash and control characters escaped, other text kept; from a String and from bytes alike")
    func compactEscaping() {
        // The rule, one scalar at a time (RFC 8259 with the short escapes Python uses).
        func expected(_ s: String) -> String {
            var out = "\""
            for scalar in s.unicodeScalars {
                switch scalar {
                case "\"": out += "\\\""
                case "\\": out += "\\\\"
                case "\n": out += "\\n"
                case "\r": out += "\\r"
                case "\t": out += "\\t"
                case "\u{08}": out += "\\b"
                case "\u{0C}": out += "\\f"
                case _ where scalar.value < 0x20: out += "\\u00" + (scalar.value < 0x10 ? "0" : "") + String(scalar.value, radix: 16)
                default: out.unicodeScalars.append(scalar)
                }
            }
            return out + "\""
        }
        let pieces = ["a", "\"", "\\", "\n", "\u{01}", "\u{1F}", "\u{7F}", "é", "日", "😀", "\u{08}", "\u{0C}", "\t", "\r", "abcdefgh"]
        var random = UInt64(20_261_130)
        for _ in 0..<2000 {
            var s = ""
            for _ in 0..<Int(random % 12) {
                random = random &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                s += pieces[Int(random >> 33) % pieces.count]
            }
            random = random &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            var fromString: [UInt8] = []
            JSON.writeString(s, to: &fromString, asciiOnly: false)
            var fromBytes: [UInt8] = []
            var copy = s
            copy.withUTF8 { JSON.writeString(utf8: $0, to: &fromBytes) }
            #expect(String(decoding: fromString, as: UTF8.self) == expected(s))
            #expect(fromBytes == fromString)
            #expect((try? JSON.parse(fromString)) == .string(s))
        }
        // Bytes that are not UTF-8 are written as String(decoding:) reads them, or refused.
        var out: [UInt8] = []
        [0x61, 0xFF, 0x22].withUnsafeBufferPointer { JSON.writeString(utf8: $0, to: &out) }
        #expect(String(decoding: out, as: UTF8.self) == "\"a\u{FFFD}\\\"\"")
        [0xC3].withUnsafeBufferPointer { #expect(!JSON.writeString(utf8: $0, to: &out, onlyIfValid: true)) }
    }

    @Test("integers stay integers; huge ones become doubles")
    func numbers() throws {
        #expect(try JSON.parse("9223372036854775807") == .int(Int64.max))
        #expect(try JSON.parse("-9223372036854775808") == .int(Int64.min))
        if case .double = try JSON.parse("9223372036854775808") {} else { Issue.record("expected a double") }
        if case .double(let d) = try JSON.parse("1.0") { #expect(d == 1) } else { Issue.record("expected a double") }
    }

    @Test("malformed input is an error with its offset, never a crash",
          arguments: ["", "{", "[1,]", "{\"a\" 1}", "01", "1.", "-", "\"\\x\"", "\"abc", "tru", "[1] 2", "\"\\ud800\"", "{\"a\":1,}", "\u{01}"])
    func malformed(_ text: String) {
        #expect(throws: JSONParseError.self) { try JSON.parse(text) }
    }

    @Test("nesting deeper than the limit is refused")
    func depth() {
        let deep = String(repeating: "[", count: 100) + String(repeating: "]", count: 100)
        #expect(throws: JSONParseError.self) { try JSON.parse(deep, maxDepth: 50) }
        #expect((try? JSON.parse(deep, maxDepth: 100)) != nil)
    }

    @Test("invalid UTF-8 inside a string is refused")
    func invalidUTF8() {
        #expect(throws: JSONParseError.self) { try JSON.parse([0x22, 0xFF, 0xFE, 0x22]) }
    }

    @Test("botocore style: Python's separators and ASCII-only escapes")
    func botocoreStyle() {
        let value: JSON = ["k": "café \"q\" \u{7f}\u{1}", "n": [1, 2.5], "😀": true]
        #expect(value.serializedString(.botocore) == #"{"k": "caf\u00e9 \"q\" \u007f\u0001", "n": [1, 2.5], "\ud83d\ude00": true}"#)
        #expect(value.serializedString(.compact) == "{\"k\":\"café \\\"q\\\" \u{7f}\\u0001\",\"n\":[1,2.5],\"😀\":true}")
    }

    @Test("floats print as Python's repr", arguments: [
        (1.0, "1.0"), (0.1, "0.1"), (1e16, "1e+16"), (1e-5, "1e-05"), (0.0001, "0.0001"), (123456.789, "123456.789"),
        (-2.5, "-2.5"), (1.5e300, "1.5e+300"), (1234567890123456.0, "1234567890123456.0"),
    ])
    func floatRepr(_ pair: (Double, String)) {
        #expect(pythonFloatRepr(pair.0) == pair.1)
    }

    @Test("round trip keeps the value")
    func roundTrip() throws {
        let text = #"{"a":[1,2.25,"\u0000",{"b":null}],"c":false}"#
        let value = try JSON.parse(text)
        #expect(try JSON.parse(value.serialized()) == value)
    }
}

@Suite("Timestamps")
struct TimestampTests {
    @Test("formats as botocore does")
    func formats() {
        let t = Timestamp(year: 2015, month: 1, day: 25, hour: 8)
        #expect(t.iso8601 == "2015-01-25T08:00:00Z")
        #expect(t.rfc822 == "Sun, 25 Jan 2015 08:00:00 GMT")
        #expect(t.unixString == "1422172800")
        #expect(t.amzDate == "20150125T080000Z")
        let fractional = Timestamp(seconds: 1_422_172_800, microseconds: 123_000)
        #expect(fractional.iso8601 == "2015-01-25T08:00:00.123000Z")
        #expect(fractional.iso8601Result == "2015-01-25T08:00:00.123Z")
        #expect(fractional.unixString == "1422172800.123")
    }

    @Test("result timestamps across ten thousand years, with and without fractions, read back to the same instant")
    func resultTimestamps() throws {
        var state: UInt64 = 20_261_130
        for _ in 0..<5000 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            let seconds = Int64(state >> 30) % 315_537_897_600 - 62_135_596_800  // years 0001 to 9999
            let microseconds = [0, 5_000, 123_000, 1, 999_999, 10_010][Int(state % 6)]
            let t = Timestamp(seconds: seconds, microseconds: microseconds)
            let c = t.civil
            func pad(_ v: Int, _ width: Int) -> String { String(repeating: "0", count: max(0, width - String(v).count)) + String(v) }
            var expected = "\(pad(c.year, 4))-\(pad(c.month, 2))-\(pad(c.day, 2))T\(pad(c.hour, 2)):\(pad(c.minute, 2)):\(pad(c.second, 2))"
            if microseconds > 0 { expected += "." + (microseconds % 1000 == 0 ? pad(microseconds / 1000, 3) : pad(microseconds, 6)) }
            #expect(t.iso8601Result == expected + "Z")
            let back = try #require(Timestamp.parse(t.iso8601Result), "\(t.iso8601Result)")
            #expect(back.seconds == seconds && back.microseconds == microseconds, "\(t.iso8601Result)")
        }
    }

    @Test("parses ISO 8601, epoch seconds and RFC 822", arguments: [
        ("2015-01-25T08:00:00Z", 1_422_172_800.0), ("2015-01-25T08:00:00.5Z", 1_422_172_800.5), ("2015-01-25", 1_422_144_000.0),
        ("2015-01-25T09:00:00+01:00", 1_422_172_800.0), ("1422172800", 1_422_172_800.0), ("Sun, 25 Jan 2015 08:00:00 GMT", 1_422_172_800.0),
        ("1969-12-31T23:59:59Z", -1.0),
    ])
    func parse(_ pair: (String, Double)) {
        #expect(Timestamp.parse(pair.0)?.epochSeconds == pair.1)
    }

    @Test("rejects what is not a time", arguments: ["", "yesterday", "2015-13-01", "2015-01-25T25:00:00Z", "NaN", "1e400"])
    func reject(_ text: String) {
        #expect(Timestamp.parse(text) == nil)
    }
}

@Suite("Percent-encoding")
struct PercentEncodingTests {
    @Test("as Python's quote")
    func encode() {
        #expect(PercentEncoding.encode("arn:aws:x/y z~ü") == "arn%3Aaws%3Ax%2Fy%20z~%C3%BC")
        #expect(PercentEncoding.encode("a/b c", safe: "/~") == "a/b%20c")
        #expect(PercentEncoding.decode("a%2Fb%20c%zz") == "a/b c%zz")
    }
}

@Suite("UTF-8 validation")
struct UTF8ValidationTests {
    @Test("the parser's validator agrees with String(validating:) on random and edge bytes")
    func agreesWithStandardLibrary() {
        var generator = SystemRandomNumberGenerator()
        var cases: [[UInt8]] = [
            [0xC0, 0x80], [0xC2, 0x80], [0xE0, 0x9F, 0xBF], [0xE0, 0xA0, 0x80], [0xED, 0xA0, 0x80], [0xED, 0x9F, 0xBF],
            [0xF0, 0x8F, 0xBF, 0xBF], [0xF0, 0x90, 0x80, 0x80], [0xF4, 0x8F, 0xBF, 0xBF], [0xF4, 0x90, 0x80, 0x80],
            [0xF5, 0x80, 0x80, 0x80], [0xE2, 0x82], [0xE2, 0x82, 0xAC], [0x80], [0xFF], [0x41, 0xC3],
        ]
        let interesting: [UInt8] = [0x41, 0x7F, 0x80, 0xBF, 0xC0, 0xC2, 0xDF, 0xE0, 0xED, 0xEF, 0xF0, 0xF4, 0xF5, 0xFF, 0x9F, 0xA0, 0x90, 0x8F]
        for _ in 0..<50_000 {
            let count = Int.random(in: 1...6, using: &generator)
            cases.append((0..<count).map { _ in interesting.randomElement(using: &generator)! })
        }
        for bytes in cases {
            let ours = bytes.withUnsafeBufferPointer(UTF8Validation.isValid)
            #expect(ours == (String(validating: bytes, as: UTF8.self) != nil), "bytes \(bytes)")
        }
    }
}

@Suite("Strings written eight bytes at a time")
struct JSONStringWritingTests {
    @Test("every special character at every place of strings up to 33 long: escaped as needed, read back the same")
    func everyPlace() throws {
        let specials: [Character] = ["\"", "\\", "\u{01}", "\n", "\u{7F}", "é", "日", "😀", "a"]
        for length in 0..<34 {
            for place in 0..<max(length, 1) {
                for special in specials {
                    var characters = [Character](repeating: "x", count: length)
                    if length > 0 { characters[place] = special }
                    let text = String(characters)
                    for style in [JSONWriteStyle.compact, .botocore] {
                        let written = JSON.string(text).serialized(style)
                        #expect(try JSON.parse(written) == .string(text), "\(length) \(place) \(special)")
                        if style.asciiOnly { #expect(written.allSatisfy { $0 < 0x7F }) }
                        // Compact output escapes only what JSON requires.
                        if !style.asciiOnly, !["\"", "\\", "\u{01}", "\n"].contains(special) {
                            #expect(written == [0x22] + Array(text.utf8) + [0x22])
                        }
                    }
                }
            }
        }
    }
}
