import AWSJSON
import AWSModels
@testable import AWSProtocols
import Testing

/// `ShapeWalker.rewrite` (redaction, result customizations) is a visitor of the same walk
/// as validation and the request codecs: what it offers, and what it keeps as it is.
@Suite("The shape walker")
struct ShapeWalkerTests {
    @Test("rewrite offers every value with its shape, rebuilds containers in order, keeps unknown members, documents and map keys")
    func rewrite() throws {
        let service = try ServiceModel(name: "t", json: try JSON.parse(ValidatorTests.model), file: "test")
        let input = try #require(service.operations["Op"]?.input)
        let params = try JSON.parse(#"""
        {"Name":"abc","Tags":{"kk":"v1","ll":"v2"},"List":[{"X":"x1"},{"X":"x2","Y":"unknown"}],"Doc":{"X":"doc"},
         "Nope":"kept","Count":3,"Inner":{"X":"i"},"Choice":{"A":"a"}}
        """#)
        var offered: [String] = []
        let rewritten = ShapeWalker.rewrite(params, input) { value, shape -> JSON? in
            offered.append(shape.name)
            if shape.name == "Str", case .string(let s) = value { return .string(s.uppercased()) }
            return shape.name == "Count" ? .int(30) : .none
        }
        #expect(rewritten == (try JSON.parse(#"""
        {"Name":"abc","Tags":{"kk":"V1","ll":"V2"},"List":[{"X":"X1"},{"X":"X2","Y":"unknown"}],"Doc":{"X":"doc"},
         "Nope":"kept","Count":30,"Inner":{"X":"I"},"Choice":{"A":"A"}}
        """#)))
        // Map keys are not offered; documents are offered whole and not gone into.
        #expect(offered == ["In", "Short", "Tags", "Str", "Str", "Inners", "Inner", "Str", "Inner", "Str", "Doc", "Count", "Inner", "Str", "Choice", "Str"])

        // A value replaced is not gone into; the root can be replaced; wrong types are kept.
        #expect(ShapeWalker.rewrite(params, input) { _, shape in shape.name == "In" ? "gone" : .none } == "gone")
        let wrongTypes = try JSON.parse(#"{"List":{"X":"x"},"Tags":["a"],"Inner":"s"}"#)
        #expect(ShapeWalker.rewrite(wrongTypes, input) { value, _ in value.stringValue.map { .string($0 + "!") } ?? .none }
                == (try JSON.parse(#"{"List":{"X":"x"},"Tags":["a"],"Inner":"s!"}"#)))
    }

    @Test("redaction masks sensitive values at any depth and a map with sensitive keys whole")
    func redaction() throws {
        let model = #"""
        {"metadata":{"protocol":"json","jsonVersion":"1.1","targetPrefix":"T","serviceId":"T","endpointPrefix":"t","apiVersion":"2020-01-01","protocols":["json"]},
         "operations":{"Op":{"name":"Op","http":{"method":"POST","requestUri":"/"},"input":{"shape":"In"}}},
         "shapes":{
          "In":{"type":"structure","members":{"Items":{"shape":"Items"},"Secrets":{"shape":"ByName"},"Plain":{"shape":"Str"}}},
          "Items":{"type":"list","member":{"shape":"Item"}},
          "Item":{"type":"structure","members":{"Password":{"shape":"Secret"},"Name":{"shape":"Str"}}},
          "ByName":{"type":"map","key":{"shape":"SecretKey"},"value":{"shape":"Str"}},
          "Secret":{"type":"string","sensitive":true},"SecretKey":{"type":"string","sensitive":true},"Str":{"type":"string"}}}
        """#
        let service = try ServiceModel(name: "t", json: try JSON.parse(model), file: "test")
        let input = try #require(service.operations["Op"]?.input)
        let params = try JSON.parse(#"{"Items":[{"Password":"hunter2","Name":"n"},{"Name":"m","Password":"pw"}],"Secrets":{"k":"v"},"Plain":"p"}"#)
        let redacted = SensitiveRedaction.redact(params, shape: input)
        #expect(redacted == (try JSON.parse(#"{"Items":[{"Password":"***","Name":"n"},{"Name":"m","Password":"***"}],"Secrets":"***","Plain":"p"}"#)))
    }
}
