import AWSEndpoints
import AWSJSON
import AWSModels
import Testing
import TestSupport

/// One service's endpoint tests from botocore's tests/functional/endpoint-rules.
struct EndpointServiceCase: CustomTestStringConvertible, Sendable {
    let service: String
    var testDescription: String { service }

    static var root: String { Fixtures.botocoreTests + "/functional/endpoint-rules" }

    static func all() -> [EndpointServiceCase] {
        Fixtures.listDirectory(root).filter { Fixtures.isDirectory(root + "/" + $0) }.map(EndpointServiceCase.init)
    }
}

@Suite("Endpoints 2.0: botocore endpoint-rules suites")
struct EndpointRuleSuiteTests {
    static let store: ModelStore? = try? ModelStore(root: Fixtures.modelsDir)

    @Test("every service's suite was fetched")
    func inventory() {
        #expect(EndpointServiceCase.all().count >= 400)
    }

    @Test("resolves every case of the service as its suite says", arguments: EndpointServiceCase.all())
    func service(_ c: EndpointServiceCase) throws {
        let store = try #require(Self.store)
        let partitions = try Partitions(try store.partitions())
        let ruleSet = try EndpointRuleSet(ruleSet: try store.endpointRuleSet(c.service), partitions: partitions)
        let suite = try Fixtures.readJSON(EndpointServiceCase.root + "/" + c.service + "/endpoint-tests-1.json")
        let cases = suite["testCases"]?.arrayValue ?? []
        #expect(!cases.isEmpty)
        for testCase in cases {
            let doc = testCase["documentation"]?.stringValue ?? "?"
            var params: [String: JSON] = [:]
            for param in testCase["params"]?.objectValue ?? JSONObject() { params[param.key] = param.value }
            let expect = testCase["expect"] ?? .null
            do {
                let endpoint = try ruleSet.resolve(params)
                if let expectedError = expect["error"]?.stringValue {
                    Issue.record("\(doc): expected error \(expectedError), got \(endpoint.url)")
                    continue
                }
                let expected = expect["endpoint"] ?? .null
                #expect(endpoint.url == expected["url"]?.stringValue, "\(doc)")
                #expect(JSON.object(endpoint.properties) == (expected["properties"] ?? .object(JSONObject())), "\(doc)")
                var expectedHeaders: [String: [String]] = [:]
                for header in expected["headers"]?.objectValue ?? JSONObject() {
                    expectedHeaders[header.key] = header.value.arrayValue?.compactMap(\.stringValue) ?? []
                }
                #expect(endpoint.headers == expectedHeaders, "\(doc)")
            } catch {
                #expect(error.message == expect["error"]?.stringValue, "\(doc)")
            }
        }
    }
}
