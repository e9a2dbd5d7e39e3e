import AWSClient
import AWSJSON
import AWSProtocols
import Foundation
import GatewayCore
import Testing
import TestSupport

/// A response whose boto3 result (or error) botocore 1.44.5 produced.
struct SeedResponseCase: CustomTestStringConvertible, Sendable {
    let name: String
    let json: JSON
    var testDescription: String { name }

    static func all() -> [SeedResponseCase] {
        guard case .array(let items)? = try? Fixtures.readJSON(Fixtures.repoRoot + "/Tests/AWSClientTests/boto3-seed-responses.json") else { return [] }
        return items.map { SeedResponseCase(name: $0["name"]?.stringValue ?? "?", json: $0) }
    }
}

@Suite("Seed operations: results and errors as boto3 returns them")
struct SeedOperationResponseTests {
    @Test("the reference file is there")
    func inventory() {
        #expect(SeedResponseCase.all().count == 41)
    }

    @Test("parses as boto3 does", arguments: SeedResponseCase.all())
    func parse(_ c: SeedResponseCase) throws {
        let engine = try makeEngine()
        let handle = try engine.operation(try #require(c.json["method"]?.stringValue))
        var headers: [(name: String, value: String)] = []
        for header in c.json["headers"]?.objectValue ?? JSONObject() { headers.append((header.key, header.value.stringValue ?? "")) }
        let response = ResponseData(status: Int(c.json["status"]?.intValue ?? 0), headers: headers, body: Array((c.json["body"]?.stringValue ?? "").utf8))
        switch engine.parseResponse(response, for: handle) {
        case .success(let result):
            let expected = try #require(c.json["result"])
            #expect(JSON.object(result) == expected, "got \(JSON.object(result).serializedString())")
            // Byte for byte, member order included (both follow the model's member order).
            #expect(JSON.object(result).serializedString() == expected.serializedString())
        case .failure(let error):
            let expected = try #require(c.json["error"], "unexpected error \(error)")
            #expect(error.code == expected["type"]?.stringValue)
            #expect(error.message == expected["message"]?.stringValue)
            #expect(error.httpStatus == Int(expected["httpStatus"]?.intValue ?? -1))
            if let requestId = expected["requestId"]?.stringValue { #expect(error.requestId == requestId) }
            #expect(JSON.object(error.fields) == (expected["fields"] ?? .object(JSONObject())))
            let rpc = error.rpcError(retryable: false)
            #expect(rpc.code == -32010)
            #expect(rpc.data?["type"]?.stringValue == expected["type"]?.stringValue)
            #expect(rpc.data?["httpStatus"]?.intValue == expected["httpStatus"]?.intValue)
        }
    }
}

/// Random answers made by scripts/compare_parse_with_boto3.py, with botocore's parse of
/// each: run on demand (`AWSGW_PARSE_CASES=FILE`), not in `make test`.
@Suite("Random answers: parsed as boto3 parses them (AWSGW_PARSE_CASES)",
       .enabled(if: ProcessInfo.processInfo.environment["AWSGW_PARSE_CASES"] != nil,
                "on demand: AWSGW_PARSE_CASES=FILE, a file of cases made by scripts/compare_parse_with_boto3.py"))
struct RandomAnswerTests {
    static func cases() -> [SeedResponseCase] {
        guard let file = ProcessInfo.processInfo.environment["AWSGW_PARSE_CASES"],
              let data = FileManager.default.contents(atPath: file), case .array(let items)? = try? JSON.parse(Array(data))
        else { return [] }
        return items.map { SeedResponseCase(name: $0["name"]?.stringValue ?? "?", json: $0) }
    }

    @Test("parses as boto3 does", arguments: RandomAnswerTests.cases())
    func parse(_ c: SeedResponseCase) throws {
        try SeedOperationResponseTests().parse(c)
    }
}
