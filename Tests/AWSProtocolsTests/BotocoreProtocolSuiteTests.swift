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
        var operation = given
        // botocore's runner gives query outputs their result wrapper the way real models do.
        if file.hasSuffix("/query.json"), case .object(var g) = given, case .object(var output)? = g["output"],
           let shapeName = output["shape"]?.stringValue, let members = root["shapes"]?[shapeName]?["members"]?.objectValue, !members.isEmpty {
            output["resultWrapper"] = .string(name + "Result")
            g["output"] = .object(output)
            operation = .object(g)
        }
        root.append("operations", .object(JSONObject([(name, operation)])))
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

/// The protocols whose suites run, by the file name botocore's suites use.
let servedSuites = ["rest-json", "json", "json_1_0", "json_1_0-query-compatible", "rest-xml", "query", "ec2",
                    "smithy-rpc-v2-cbor", "smithy-rpc-v2-cbor-query-compatible", "smithy-rpc-v2-cbor-non-query-compatible"]

/// A CBOR item as JSON for comparison: maps compare without order, non-finite floats as
/// the strings the suites use, integers and floats by value, bytes as base64.
func cborComparable(_ value: CBORValue) -> JSON {
    switch value {
    case .unsigned(let n): return n <= UInt64(Int64.max) ? .int(Int64(n)) : .double(Double(n))
    case .negative(let n): return .int(-1 - Int64(clamping: n))
    case .float(let d): return d.isNaN ? "NaN" : d.isInfinite ? (d > 0 ? "Infinity" : "-Infinity") : .double(d)
    case .text(let s): return .string(s)
    case .bytes(let b): return .string("bytes:" + Base64.encode(b))
    case .bool(let b): return .bool(b)
    case .null, .undefined: return .null
    case .array(let items): return .array(items.map(cborComparable))
    case .map(let pairs):
        return .object(JSONObject(pairs.map { (cborComparable($0.key).stringValue ?? "\($0.key)", cborComparable($0.value)) }))
    case .tag(let tag, let inner): return .object(JSONObject([("tag\(tag)", cborComparable(inner))]))
    }
}

/// An XML document in a comparable form: local names, attributes sorted, text with
/// surrounding space stripped (ElementTree's `canonicalize(strip_text=True)`); the text
/// as it is when it is not XML.
func canonicalXML(_ bytes: [UInt8]) -> String {
    guard let root = try? XMLDocument.parse(bytes) else { return String(decoding: bytes, as: UTF8.self) }
    func render(_ element: XMLElement) -> String {
        let attributes = element.attributes.map { "\($0.name)=\($0.value)" }.sorted().joined(separator: " ")
        let text = element.text.trimmingCharacters(in: .whitespacesAndNewlines)
        return "<\(element.name) \(attributes)>\(text)" + element.children.map(render).joined() + "</\(element.name)>"
    }
    return render(root)
}

func codec(for c: ProtocolCase) throws -> any ProtocolCodec {
    let (model, operation) = try c.serviceModel()
    return try #require(ProtocolCodecs.codec(for: operation, in: model, options: testCodecOptions), "no codec for \(c.file)")
}

@Suite("botocore protocol suites: input (rest-json, json 1.1, json 1.0, query-compatible json, rest-xml, query, ec2)")
struct ProtocolInputSuite {
    static let loaded = servedSuites.map { ProtocolCase.load(protocolName: $0, direction: "input") }
    static let cases = loaded.flatMap(\.run)

    @Test("every suite was fetched and every skipped case is botocore's own")
    func inventory() {
        let counts = Dictionary(uniqueKeysWithValues: zip(servedSuites, Self.loaded.map { ($0.run.count, $0.skipped.count) }))
        // (cases run, cases skipped because botocore's ignore list skips them)
        #expect(counts["rest-json"]!.0 >= 150 && counts["rest-json"]!.1 <= 15, "\(counts)")
        #expect(counts["json"]! == (72, 6), "\(counts)")
        #expect(counts["json_1_0"]! == (18, 3), "\(counts)")
        #expect(counts["json_1_0-query-compatible"]! == (1, 0), "\(counts)")
        #expect(counts["query"]!.0 >= 50 && counts["ec2"]!.0 >= 30, "\(counts)")
        #expect(counts["rest-xml"]! == (125, 14), "\(counts)")
        #expect(counts["smithy-rpc-v2-cbor"]! == (15, 0) && counts["smithy-rpc-v2-cbor-query-compatible"]! == (1, 0), "\(counts)")
        #expect(counts["smithy-rpc-v2-cbor-non-query-compatible"]! == (1, 0), "\(counts)")
    }

    @Test("serializes as botocore does", arguments: ProtocolInputSuite.cases)
    func serialize(_ c: ProtocolCase) throws {
        let (_, operation) = try c.serviceModel()
        let params = c.testCase["params"]?.objectValue ?? JSONObject()
        let request = try codec(for: c).serialize(params)
        let expected = try #require(c.testCase["serialized"])
        #expect(request.pathAndQuery == expected["uri"]?.stringValue ?? "", "URI")
        if let method = expected["method"]?.stringValue { #expect(request.method == method) }
        if let body = expected["body"]?.stringValue, c.file.hasSuffix("/query.json") || c.file.hasSuffix("/ec2.json") {
            // The suites write spaces as %20 (botocore's runner encodes with
            // percent_encode_sequence); on the wire boto3's urlencode writes '+', as awsgw does.
            #expect(String(decoding: request.body, as: UTF8.self).replacingOccurrences(of: "+", with: "%20") == body, "body")
        } else if let body = expected["body"]?.stringValue, c.file.contains("cbor") {
            // As botocore's runner: both bodies decoded and compared as values.
            let want = body.isEmpty ? nil : try CBORDecoder.decode(try #require(Base64.decode(body)))
            let got = request.body.isEmpty ? nil : try CBORDecoder.decode(request.body)
            #expect(got.map(cborComparable) == want.map(cborComparable), "body \(Base64.encode(request.body))")
        } else if let body = expected["body"]?.stringValue, c.file.hasSuffix("rest-xml.json") {
            // As botocore's runner: both canonicalized, text stripped.
            #expect(canonicalXML(request.body) == canonicalXML(Array(body.utf8)), "body \(String(decoding: request.body, as: UTF8.self))")
        } else if let body = expected["body"]?.stringValue {
            if let want = try? JSON.parse(body), let got = try? JSON.parse(request.body) {
                #expect(got == want, "body \(String(decoding: request.body, as: UTF8.self))")
            } else {
                #expect(String(decoding: request.body, as: UTF8.self) == body)
            }
        }
        for header in expected["headers"]?.objectValue ?? JSONObject() {
            guard let value = header.value.stringValue else { continue }
            if c.file.hasSuffix("rest-json.json"), header.key.lowercased() == "content-type", value != "application/json" { continue }
            // botocore sends no Content-Type for rest-xml, and its runner drops the expectation.
            if c.file.hasSuffix("rest-xml.json"), header.key.lowercased() == "content-type" { continue }
            // botocore's runner too checks only the media type of a form body.
            if c.file.hasSuffix("/query.json") || c.file.hasSuffix("/ec2.json"), header.key.lowercased() == "content-type" {
                #expect(request.headers.first { $0.name == "Content-Type" }?.value.hasPrefix(value) == true)
                continue
            }
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

@Suite("botocore protocol suites: idempotency-token suites (rest-json, json)")
struct IdempotencySuite {
    /// botocore skips these suites because a handler, not its serializer, fills tokens;
    /// awsgw fills them before serializing, so they run here through both steps.
    static let cases: [ProtocolCase] = ["rest-json", "json", "json_1_0"].flatMap {
        ProtocolCase.load(protocolName: $0, direction: "input", includeIgnored: true).run
            .filter { ["Test cases for QueryIdempotencyTokenAutoFill operation", "Idempotency token auto fill"].contains($0.suite) }
    }

    @Test("the suites are there")
    func inventory() { #expect(Self.cases.count == 6, "\(Self.cases.count)") }

    @Test("a missing token is filled, a given one kept", arguments: IdempotencySuite.cases)
    func fill(_ c: ProtocolCase) throws {
        let (_, operation) = try c.serviceModel()
        let params = IdempotencyTokens.fill(c.testCase["params"]?.objectValue ?? JSONObject(), input: operation.input,
                                            newToken: { "00000000-0000-4000-8000-000000000000" })
        let request = try codec(for: c).serialize(params)
        let expected = try #require(c.testCase["serialized"])
        #expect(request.pathAndQuery == expected["uri"]?.stringValue)
        if let want = expected["body"]?.stringValue.flatMap({ try? JSON.parse($0) }) {
            #expect((try? JSON.parse(request.body)) == want, "\(String(decoding: request.body, as: UTF8.self))")
        }
    }
}

@Suite("botocore protocol suites: output (rest-json, json 1.1, json 1.0, query-compatible json, rest-xml, query, ec2)")
struct ProtocolOutputSuite {
    static let loaded = servedSuites.map { ProtocolCase.load(protocolName: $0, direction: "output") }
    static let cases = loaded.flatMap(\.run)

    @Test("every suite was fetched and every skipped case is botocore's own")
    func inventory() {
        let counts = Dictionary(uniqueKeysWithValues: zip(servedSuites, Self.loaded.map { ($0.run.count, $0.skipped.count) }))
        #expect(counts["rest-json"]!.0 >= 100 && counts["rest-json"]!.1 <= 15, "\(counts)")
        #expect(counts["json"]! == (72, 6), "\(counts)")
        #expect(counts["json_1_0"]! == (26, 6), "\(counts)")
        #expect(counts["json_1_0-query-compatible"]! == (2, 0), "\(counts)")
        #expect(counts["query"]!.0 >= 50 && counts["ec2"]!.0 >= 30, "\(counts)")
        #expect(counts["rest-xml"]! == (97, 6), "\(counts)")
        #expect(counts["smithy-rpc-v2-cbor"]! == (33, 2) && counts["smithy-rpc-v2-cbor-query-compatible"]! == (2, 0), "\(counts)")
    }

    @Test("parses as botocore does", arguments: ProtocolOutputSuite.cases)
    func parse(_ c: ProtocolCase) throws {
        let responseJSON = try #require(c.testCase["response"])
        var headers: [(name: String, value: String)] = []
        for header in responseJSON["headers"]?.objectValue ?? JSONObject() {
            headers.append((header.key, header.value.stringValue ?? ""))
        }
        // An event stream's body is given base64-encoded (botocore's runner decodes it too).
        let (_, operation) = try c.serviceModel()
        let text = responseJSON["body"]?.stringValue ?? ""
        let isEventStream = operation.output?.members.contains { $0.shape.isEventStream } ?? false
        let response = ResponseData(
            status: Int(responseJSON["status_code"]?.intValue ?? 200), headers: headers,
            body: isEventStream || c.file.contains("cbor") ? (Base64.decode(text) ?? []) : Array(text.utf8))
        let outcome = try codec(for: c).parse(response)
        if let expectedError = c.testCase["error"] {
            guard case .failure(let error) = outcome else { Issue.record("parsed as a success"); return }
            var actual = error.fields
            actual["Error"] = .object(JSONObject([("Code", .string(error.code)), ("Message", .string(error.message))]))
            var expected = expectedError.objectValue ?? JSONObject()
            expected["Error"] = .object(JSONObject([
                ("Code", c.testCase["errorCode"] ?? ""), ("Message", c.testCase["errorMessage"] ?? ""),
            ]))
            #expect(JSON.object(actual) == JSON.object(expected))
        } else {
            guard case .success(var actual) = outcome else { Issue.record("parsed as an error: \(outcome)"); return }
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
