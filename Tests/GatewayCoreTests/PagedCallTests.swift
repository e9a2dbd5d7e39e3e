import AWSClient
import AWSJSON
import AWSProtocols
import Foundation
@testable import GatewayCore
import GatewayTesting
import Testing

/// `$paginate` through the pipeline: each page one request to AWS, with its own rate-limit
/// decision and audit record; the answer merged as boto3's `build_full_result()`.
@Suite("Paged calls ($paginate)", .serialized)
struct PagedCallTests {
    /// DynamoDB `Scan` over three pages: `LastEvaluatedKey` names the next, the last has none.
    static func scanPages() -> FakeTransport {
        FakeTransport { request, _ in
            let body = String(decoding: request.body, as: UTF8.self)
            let (items, next): (String, String?) =
                body.contains(#""ExclusiveStartKey": {"pk": {"S": "b"}}"#) ? (#"[{"pk":{"S":"c"}}]"#, nil)
                : body.contains(#""ExclusiveStartKey": {"pk": {"S": "a"}}"#) ? (#"[{"pk":{"S":"b"}}]"#, #"{"pk":{"S":"b"}}"#)
                : (#"[{"pk":{"S":"a"}}]"#, #"{"pk":{"S":"a"}}"#)
            let last = next.map { #","LastEvaluatedKey":"# + $0 } ?? ""
            return ResponseData(status: 200, headers: [("Content-Type", "application/x-amz-json-1.0"), ("x-amzn-RequestId", "r")],
                                body: Array(#"{"Items":\#(items),"Count":1,"ScannedCount":2\#(last),"ConsumedCapacity":{"TableName":"t","CapacityUnits":0.5}}"#.utf8))
        }
    }

    static func gateway(_ aws: FakeTransport, audit: AuditLog? = nil, rate: String? = nil, maxPages: Int? = nil) -> Gateway {
        let team = Team(name: "all", members: [.any], allow: [OperationPattern("*:*")!])
        var dependencies = GatewayDependencies(engine: AWSEngine(models: pipelineModels, environment: [:]), transport: aws,
                                               credentialSources: ["default": PipelineTests.keys])
        dependencies.policy = Policy(teams: [team])
        dependencies.defaultRegion = "us-east-1"
        dependencies.audit = audit
        dependencies.sleep = { _ in }
        if let rate { dependencies.rateLimiter = RateLimiter(limits: ["all": .init(team: Rate(rate)!, operations: [])]) }
        if let maxPages { dependencies.limits.maxPages = maxPages }
        return Gateway(dependencies)
    }

    static func run(_ gw: Gateway, _ method: String, _ params: JSONObject) async -> Result<JSONObject, RPCError> {
        await gw.run(GatewayCall(method: method, params: params), context: CallContext(listener: "test"), bytesIn: nil) { ($0, 0) }
    }

    @Test("three pages: three requests with the next key in the body, items concatenated, counts added, one audit record a page")
    func threePages() async throws {
        let dir = try tempDir("paged")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var settings = AuditLogSettings()
        settings.dir = dir
        settings.params = .full
        let audit = try AuditLog(settings: settings)
        let aws = Self.scanPages()
        let gw = Self.gateway(aws, audit: audit)
        let result = try await Self.run(gw, "dynamodb.Scan", JSONObject([("TableName", "t"), ("$paginate", true)])).get()
        audit.close()
        #expect(aws.requests.map { String(decoding: $0.body, as: UTF8.self) } == [
            #"{"TableName": "t"}"#,
            #"{"TableName": "t", "ExclusiveStartKey": {"pk": {"S": "a"}}}"#,
            #"{"TableName": "t", "ExclusiveStartKey": {"pk": {"S": "b"}}}"#,
        ])
        #expect(JSON.object(result).serializedString()
                == #"{"Items":[{"pk":{"S":"a"}},{"pk":{"S":"b"}},{"pk":{"S":"c"}}],"Count":3,"ScannedCount":6,"ConsumedCapacity":{"TableName":"t","CapacityUnits":0.5}}"#)
        let records = try readRecords(dir)
        #expect(records.count == 3)
        #expect(records.allSatisfy { $0["method"] == "dynamodb.Scan" && $0["decision"] == "allowed" && $0["code"] == nil })
        #expect(records.map { $0["params"]?["ExclusiveStartKey"]?["pk"]?["S"]?.stringValue } == [nil, "a", "b"])
        #expect(records.allSatisfy { $0["params"]?["$paginate"] == nil })
    }

    @Test("maxItems stops inside a page with botocore's NextToken; startingToken resumes there")
    func maxItemsAndResume() async throws {
        let aws = Self.scanPages()
        let gw = Self.gateway(aws)
        let first = try await Self.run(gw, "dynamodb.Scan", JSONObject([("TableName", "t"), ("$paginate", .object(JSONObject([("maxItems", 2)])))])).get()
        #expect(first["Items"]?.arrayValue?.count == 2)
        let token = try #require(first["NextToken"]?.stringValue)
        #expect(String(decoding: Data(base64Encoded: token)!, as: UTF8.self) == #"{"ExclusiveStartKey": {"pk": {"S": "b"}}}"#)
        let rest = try await Self.run(gw, "dynamodb.Scan", JSONObject([("TableName", "t"), ("$paginate", .object(JSONObject([("startingToken", .string(token))])))])).get()
        #expect(rest["Items"]?.arrayValue == [.object(JSONObject([("pk", .object(JSONObject([("S", "c")])))]))])
        #expect(rest["NextToken"] == nil)
        #expect(String(decoding: aws.requests.last!.body, as: UTF8.self) == #"{"TableName": "t", "ExclusiveStartKey": {"pk": {"S": "b"}}}"#)
    }

    @Test("limits.max_pages bounds maxPages: the call stops there with a NextToken")
    func maxPagesLimit() async throws {
        let aws = Self.scanPages()
        let gw = Self.gateway(aws, maxPages: 2)
        let result = try await Self.run(gw, "dynamodb.Scan", JSONObject([("TableName", "t"), ("$paginate", .object(JSONObject([("maxPages", 5)])))])).get()
        #expect(aws.requests.count == 2)
        #expect(result["Items"]?.arrayValue?.count == 2 && result["NextToken"] != nil)
    }

    @Test("each page passes the rate limit: the third page over it ends the call with -32002, and its record says so")
    func ratePerPage() async throws {
        let dir = try tempDir("paged-rate")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var settings = AuditLogSettings()
        settings.dir = dir
        let audit = try AuditLog(settings: settings)
        let aws = Self.scanPages()
        let gw = Self.gateway(aws, audit: audit, rate: "1/m burst 2")
        let outcome = await Self.run(gw, "dynamodb.Scan", JSONObject([("TableName", "t"), ("$paginate", true)]))
        audit.close()
        guard case .failure(let error) = outcome else { Issue.record("the third page was not limited"); return }
        #expect(error.code == RPCError.rateLimited)
        #expect(aws.requests.count == 2)
        #expect(try readRecords(dir).map { $0["decision"]?.stringValue } == ["allowed", "allowed", "rate-limited"])
    }

    @Test("refusals before the first page: no paginator, a bad $paginate, with $presign; one record each")
    func refusals() async throws {
        let dir = try tempDir("paged-refused")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var settings = AuditLogSettings()
        settings.dir = dir
        let audit = try AuditLog(settings: settings)
        let aws = Self.scanPages()
        let gw = Self.gateway(aws, audit: audit)
        for (method, paginate, problem) in [
            ("dynamodb.GetItem", JSON.bool(true), "has no paginator"),
            ("dynamodb.Scan", JSON.object(JSONObject([("maxItems", 0)])), "maxItems: expected a positive integer"),
            ("dynamodb.Scan", JSON.object(JSONObject([("pageSize", 5)])), "unknown member pageSize"),
            ("dynamodb.Scan", JSON.string("yes"), "expected true or"),
        ] {
            var params = JSONObject([("TableName", "t"), ("$paginate", paginate)])
            if method == "dynamodb.GetItem" { params["Key"] = .object(JSONObject([("pk", .object(JSONObject([("S", "a")])))])) }
            let outcome = await Self.run(gw, method, params)
            guard case .failure(let error) = outcome else { Issue.record("\(method) \(paginate) was answered"); continue }
            #expect(error.code == -32602)
            let found = error.data?["errors"]?.arrayValue?.first
            #expect(found?["path"]?.stringValue?.hasPrefix("$.$paginate") == true && found?["problem"]?.stringValue?.contains(problem) == true,
                    "\(found?.serializedString() ?? "no errors")")
        }
        let presigned = await Self.run(gw, "dynamodb.Scan", JSONObject([("TableName", "t"), ("$paginate", true), ("$presign", 60)]))
        #expect((try? presigned.get()) == nil)
        audit.close()
        #expect(aws.requests.isEmpty)
        #expect(try readRecords(dir).count == 5)
        // `$paginate: false` is an ordinary call.
        let plain = try await Self.run(gw, "dynamodb.Scan", JSONObject([("TableName", "t"), ("$paginate", false)])).get()
        #expect(plain["LastEvaluatedKey"] != nil && aws.requests.count == 1)
    }
}
