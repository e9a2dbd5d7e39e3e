import AWSJSON
import AWSModels
@testable import AWSProtocols
import Testing

/// The validator walks the params with `ShapeWalker.visit`: every check, with its path,
/// in the order botocore-style callers read them (a structure's own checks, then its
/// members as given).
@Suite("Parameter validation along the shape walker")
struct ValidatorTests {
    static let model = #"""
    {"metadata":{"protocol":"json","jsonVersion":"1.1","targetPrefix":"T","serviceId":"T","endpointPrefix":"t","apiVersion":"2020-01-01","protocols":["json"]},
     "operations":{"Op":{"name":"Op","http":{"method":"POST","requestUri":"/"},"input":{"shape":"In"}}},
     "shapes":{
      "In":{"type":"structure","required":["Name","Host","Must"],"members":{
        "Name":{"shape":"Short"},"Host":{"shape":"Str","hostLabel":true},"Must":{"shape":"Str"},"Count":{"shape":"Count"},"Ratio":{"shape":"Dbl"},
        "Flag":{"shape":"Bool"},"When":{"shape":"When"},"Data":{"shape":"Bytes"},"Choice":{"shape":"Choice"},"Tags":{"shape":"Tags"},
        "List":{"shape":"Inners"},"Doc":{"shape":"Doc"},"Inner":{"shape":"Inner"}}},
      "Inner":{"type":"structure","members":{"X":{"shape":"Str"}}},
      "Inners":{"type":"list","min":2,"member":{"shape":"Inner"}},
      "Tags":{"type":"map","key":{"shape":"Key"},"value":{"shape":"Str"}},
      "Choice":{"type":"structure","union":true,"members":{"A":{"shape":"Str"},"B":{"shape":"Count"}}},
      "Doc":{"type":"structure","document":true,"members":{}},
      "Short":{"type":"string","min":3},"Key":{"type":"string","min":2},"Str":{"type":"string"},
      "Count":{"type":"integer","min":1},"Dbl":{"type":"double"},"Bool":{"type":"boolean"},
      "When":{"type":"timestamp"},"Bytes":{"type":"blob"}}}
    """#

    @Test("a string's length is counted in code points, as botocore's len() counts it")
    func lengthInCodePoints() throws {
        let service = try ServiceModel(name: "t", json: try JSON.parse(Self.model), file: "test")
        let input = try #require(service.operations["Op"]?.input)
        func problems(_ name: String) -> [String] {
            ParamValidator().validate(JSONObject([("Name", .string(name)), ("Host", "h"), ("Must", "m")]), against: input).map(\.problem)
        }
        // e + combining acute + x: two characters on screen, three code points (min is 3).
        #expect(problems("e\u{301}x").isEmpty)
        #expect(problems("日本") == ["length 2 is below the minimum 3"])
        #expect(problems("👍🏽") == ["length 2 is below the minimum 3"])
        // Around the byte shortcut (12 bytes or more hold at least 3 code points).
        #expect(problems("日本語").isEmpty)
        #expect(problems("👍🏽👍🏽").isEmpty)
        #expect(problems("👍🏽日").isEmpty)  // 11 bytes, 3 code points
        #expect(problems("ab") == ["length 2 is below the minimum 3"])
        #expect(problems("👍日") == ["length 2 is below the minimum 3"])  // 7 bytes
    }

    @Test("every check reported at its path, in order; a member's problems before the next member's")
    func everyCheck() throws {
        let service = try ServiceModel(name: "t", json: try JSON.parse(Self.model), file: "test")
        let input = try #require(service.operations["Op"]?.input)
        let params = try #require(try JSON.parse(#"""
        {"Name":"ab","Host":"bad host!","Count":0,"Ratio":"NaN","Flag":"yes","When":"not a time","Data":"!!notb64",
         "Choice":{"A":"x","B":1},"Tags":{"k":"v","kk":null},"List":[{"X":1}],"Doc":{"a":1,"a":2},"Nope":1,"Inner":null,"Name":"abcd"}
        """#).objectValue)
        let problems = ParamValidator().validate(params, against: input).map { ($0.path, $0.problem) }
        let expected: [(String, String)] = [
            ("$.Name", "member appears more than once"),
            ("$.Must", "missing required member"),
            ("$.Name", "length 2 is below the minimum 3"),
            ("$.Host", "must contain only letters, digits, hyphens and periods (it becomes part of the host name)"),
            ("$.Count", "value 0 is below the minimum 1"),
            ("$.Flag", "expected boolean, got string"),
            ("$.When", "expected a timestamp (ISO 8601 string or epoch seconds), got string"),
            ("$.Data", "not valid base64"),
            ("$.Choice", "exactly one member of this union must be set, one of: A, B"),
            ("$.Tags.k (key)", "length 1 is below the minimum 2"),
            ("$.Tags.kk", "null is not allowed here; leave the member out instead"),
            ("$.List", "length 1 is below the minimum 2"),
            ("$.List[0].X", "expected string, got number"),
            ("$.Doc.a", "key appears more than once"),
            ("$.Nope", "unknown member"),
            ("$.Inner", "null is not allowed here; leave the member out instead"),
        ]
        #expect(problems.count == expected.count, "\(problems)")
        for (got, want) in zip(problems, expected) {
            #expect(got.0 == want.0 && (got.1 == want.1 || (want.1 == "unknown member" && got.1.hasPrefix(want.1))), "\(got) vs \(want)")
        }
    }

    @Test("valid params have no problem; wrong types stop the walk into a value")
    func validAndWrongTypes() throws {
        let service = try ServiceModel(name: "t", json: try JSON.parse(Self.model), file: "test")
        let input = try #require(service.operations["Op"]?.input)
        let valid = try #require(try JSON.parse(#"{"Name":"abc","Host":"a-b.c","Must":"m","Tags":{"kk":"v"},"List":[{"X":"1"},{}],"Choice":{"B":2},"Doc":[1,{"a":null}],"Data":"aGk="}"#).objectValue)
        #expect(ParamValidator().validate(valid, against: input).isEmpty)
        let wrong = try #require(try JSON.parse(#"{"Name":"abc","Host":"h","Must":"m","Tags":[1],"List":{"X":1},"Inner":"s"}"#).objectValue)
        let problems = ParamValidator().validate(wrong, against: input).map(\.description)
        #expect(problems == ["$.Tags: expected object, got array", "$.List: expected array, got object", "$.Inner: expected object, got string"])
    }
}
