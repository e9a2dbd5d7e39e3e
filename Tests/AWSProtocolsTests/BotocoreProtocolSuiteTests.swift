import AWSJSON
import AWSModels
import AWSProtocols
import Foundation
import Testing
import TestSupport

/// One case of botocore's protocol suites (tests/unit/protocols), with the model it runs on.
struct ProtocolCase: CustomTestStringConvertible, Sendable {
    let file: String
    let suite: String
    let index: String
    let id: String
    let model: JSON
    let testCase: JSON
    var testDescription: String { "\(file) \(index) \(id)" }

    static let suiteRoot = Fixtures.botocoreTests + "/unit/protocols"

    /// botocore's ignore list for a protocol and direction, with the general suites.
    static func ignoreList(protocolName: String, direction: String) -> (suites: [String], cases: [String]) {
        guard let list = try? Fixtures.readJSON(suiteRoot + "/protocol-tests-ignore-list.json") else { return ([], []) }
        let suites = list["general"]?[direction]?["suites"]?.arrayValue?.compactMap(\.stringValue) ?? []
        let cases = list["protocols"]?[protocolName]?[direction]?["cases"]?.arrayValue?.compactMap(\.stringValue) ?? []
        return (suites, cases)
    }

    /// Every case of `<direction>/<protocol>.json` and `legacy/<direction>/<protocol>.json`,
    /// less botocore's ignore list (returned separately, so that the count is visible).
    static func load(protocolName: String, direction: String, includeIgnored: Bool = false) -> (run: [ProtocolCase], skipped: [String]) {
        let ignore = includeIgnored ? (suites: [String](), cases: [String]()) : ignoreList(protocolName: protocolName, direction: direction)
        var run: [ProtocolCase] = []
        var skipped: [String] = []
        for relative in ["\(direction)/\(protocolName).json", "legacy/\(direction)/\(protocolName).json"] {
            guard case .array(let suites)? = try? Fixtures.readJSON(suiteRoot + "/" + relative) else { continue }
            for (s, suite) in suites.enumerated() {
                let description = suite["description"]?.stringValue ?? ""
                var model = JSONObject()
                model.append("metadata", suite["metadata"] ?? .object(JSONObject()))
                model.append("shapes", suite["shapes"] ?? .object(JSONObject()))
                if let endpoint = suite["clientEndpoint"] { model.append("clientEndpoint", endpoint) }
                for (c, testCase) in (suite["cases"]?.arrayValue ?? []).enumerated() {
                    let id = testCase["id"]?.stringValue ?? ""
                    let label = "\(relative) \(s):\(c) \(id)"
                    if ignore.suites.contains(description) || (!id.isEmpty && ignore.cases.contains(id)) {
                        skipped.append(label + " (botocore's ignore list)")
                        continue
                    }
                    run.append(ProtocolCase(file: relative, suite: description, index: "\(s):\(c)", id: id, model: .object(model), testCase: testCase))
                }
            }
        }
        return (run, skipped)
    }

    func serviceModel() throws -> (ServiceModel, AWSModels.Operation) {
        guard case .object(var root) = model else { throw FixtureError.invalid(file, "suite is not an object") }
        let given = testCase["given"] ?? .object(JSONObject())
        let name = given["name"]?.stringValue ?? "OperationName"
        root.append("operations", .object(JSONObject([(name, given)])))
        let service = try ServiceModel(name: "test", json: .object(root), file: file)
        return (service, try #require(service.operations[name]))
    }
}

private var testCodecOptions: CodecOptions {
    var options = CodecOptions()
    options.blobsAreBase64 = false
    options.resultTimestamps = .epochSeconds
    options.resultBlobs = .utf8Text
    return options
}

/// Header names compare case-insensitively; list headers lose the space after commas
/// (botocore's runner does the same normalisation).
private func headerMatches(_ request: SerializedRequest, _ name: String, _ expected: String, _ operation: AWSModels.Operation) -> Bool {
    guard let actual = request.headers.first(where: { $0.name.lowercased() == name.lowercased() })?.value else { return false }
    let listMember = operation.input?.members.first { $0.location == .header && $0.wireName.lowercased() == name.lowercased() && $0.shape.type == .list }
    guard let listMember else { return actual == expected }
    let isTimestampList = listMember.shape.listMember?.shape.type == .timestamp
    return (isTimestampList ? actual.replacingOccurrences(of: ", ", with: ",") : actual) == expected.replacingOccurrences(of: ", ", with: ",")
}

@Suite("botocore protocol suite: rest-json input")
struct RestJSONInputSuite {
    static let loaded = ProtocolCase.load(protocolName: "rest-json", direction: "input")

    @Test("the suite was fetched and every skipped case is botocore's own")
    func inventory() {
        #expect(Self.loaded.run.count >= 150)
        #expect(Self.loaded.skipped.count <= 15)
    }

    @Test("serializes as botocore does", arguments: RestJSONInputSuite.loaded.run)
    func serialize(_ c: ProtocolCase) throws {
        let (_, operation) = try c.serviceModel()
        let params = c.testCase["params"]?.objectValue ?? JSONObject()
        let request = try RestJSONSerializer(operation: operation, options: testCodecOptions).serialize(params)
        let expected = try #require(c.testCase["serialized"])
        #expect(request.pathAndQuery == expected["uri"]?.stringValue ?? "", "URI")
        if let method = expected["method"]?.stringValue { #expect(request.method == method) }
        if let body = expected["body"]?.stringValue {
            if let want = try? JSON.parse(body), let got = try? JSON.parse(request.body) {
                #expect(got == want, "body \(String(decoding: request.body, as: UTF8.self))")
            } else {
                #expect(String(decoding: request.body, as: UTF8.self) == body)
            }
        }
        for header in expected["headers"]?.objectValue ?? JSONObject() {
            guard let value = header.value.stringValue else { continue }
            if header.key.lowercased() == "content-type", value != "application/json" { continue }
            #expect(headerMatches(request, header.key, value, operation), "header \(header.key): \(request.headers)")
        }
        for forbidden in expected["forbidHeaders"]?.arrayValue?.compactMap(\.stringValue) ?? [] {
            #expect(!request.headers.contains { $0.name.lowercased() == forbidden.lowercased() }, "forbidden header \(forbidden)")
        }
        if let host = expected["host"]?.stringValue {
            let endpoint = c.model["clientEndpoint"]?.stringValue ?? "https://example.com"
            let baseHost = URL(string: endpoint)?.host ?? ""
            #expect((request.hostPrefix ?? "") + baseHost == host)
        }
    }
}

@Suite("botocore protocol suite: rest-json idempotency-token suites")
struct RestJSONIdempotencySuite {
    /// botocore skips these suites because a handler, not its serializer, fills tokens;
    /// awsgw fills them before serializing, so they run here through both steps.
    static let cases: [ProtocolCase] = ProtocolCase.load(protocolName: "rest-json", direction: "input", includeIgnored: true).run
        .filter { ["Test cases for QueryIdempotencyTokenAutoFill operation", "Idempotency token auto fill"].contains($0.suite) }

    @Test("the suites are there")
    func inventory() { #expect(Self.cases.count == 4) }

    @Test("a missing token is filled, a given one kept", arguments: RestJSONIdempotencySuite.cases)
    func fill(_ c: ProtocolCase) throws {
        let (_, operation) = try c.serviceModel()
        let params = IdempotencyTokens.fill(c.testCase["params"]?.objectValue ?? JSONObject(), input: operation.input,
                                            newToken: { "00000000-0000-4000-8000-000000000000" })
        let request = try RestJSONSerializer(operation: operation, options: testCodecOptions).serialize(params)
        let expected = try #require(c.testCase["serialized"])
        #expect(request.pathAndQuery == expected["uri"]?.stringValue)
        #expect(String(decoding: request.body, as: UTF8.self) == expected["body"]?.stringValue)
    }
}

@Suite("botocore protocol suite: rest-json output")
struct RestJSONOutputSuite {
    static let loaded = ProtocolCase.load(protocolName: "rest-json", direction: "output")

    @Test("the suite was fetched and every skipped case is botocore's own")
    func inventory() {
        #expect(Self.loaded.run.count >= 100)
        #expect(Self.loaded.skipped.count <= 15)
    }

    @Test("parses as botocore does", arguments: RestJSONOutputSuite.loaded.run)
    func parse(_ c: ProtocolCase) throws {
        let (model, operation) = try c.serviceModel()
        let responseJSON = try #require(c.testCase["response"])
        var headers: [(name: String, value: String)] = []
        for header in responseJSON["headers"]?.objectValue ?? JSONObject() {
            headers.append((header.key, header.value.stringValue ?? ""))
        }
        let response = ResponseData(
            status: Int(responseJSON["status_code"]?.intValue ?? 200), headers: headers,
            body: Array((responseJSON["body"]?.stringValue ?? "").utf8))
        let parser = RestJSONParser(options: testCodecOptions)
        if let expectedError = c.testCase["error"] {
            let error = parser.parseError(response, model: model)
            var actual = error.fields
            actual["Error"] = .object(JSONObject([("Code", .string(error.code)), ("Message", .string(error.message))]))
            var expected = expectedError.objectValue ?? JSONObject()
            expected["Error"] = .object(JSONObject([
                ("Code", c.testCase["errorCode"] ?? ""), ("Message", c.testCase["errorMessage"] ?? ""),
            ]))
            #expect(JSON.object(actual) == JSON.object(expected))
        } else {
            var actual = parser.parseOutput(response, shape: operation.output, payload: operation.outputPayload)
            for member in actual.members {
                if case .double(let d) = member.value, !d.isFinite {
                    actual[member.key] = .string(d.isNaN ? "NaN" : (d < 0 ? "-Infinity" : "Infinity"))
                }
            }
            let expected = c.testCase["result"] ?? .object(JSONObject())
            #expect(JSON.object(actual) == expected, "got \(JSON.object(actual).serializedString())")
        }
    }
}
