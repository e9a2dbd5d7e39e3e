import AWSClient
import AWSJSON
import AWSProtocols
import Foundation
@testable import GatewayCore
import GatewayTesting
import Testing

/// `$wait` through the pipeline: the service's waiter polls the called operation, each
/// poll one request to AWS (never from the cache) with its own audit record, sleeping the
/// waiter's delay between polls.
@Suite("Waiting calls ($wait)", .serialized)
struct WaitingCallTests {
    static let notFound = ResponseData(status: 400, headers: [("Content-Type", "application/x-amz-json-1.0"), ("x-amzn-RequestId", "r")],
                                       body: Array(#"{"__type":"com.amazonaws.dynamodb.v20120810#ResourceNotFoundException","message":"no table t"}"#.utf8))
    static let denied = ResponseData(status: 400, headers: [("Content-Type", "application/x-amz-json-1.0")],
                                     body: Array(#"{"__type":"com.amazonaws.dynamodb.v20120810#AccessDeniedException","message":"no"}"#.utf8))

    static func table(_ status: String) -> ResponseData {
        ResponseData(status: 200, headers: [("Content-Type", "application/x-amz-json-1.0"), ("x-amzn-RequestId", "r")],
                     body: Array(#"{"Table":{"TableName":"t","TableStatus":"\#(status)"}}"#.utf8))
    }

    static func gateway(_ aws: FakeTransport, audit: AuditLog? = nil, sleeps: SleepLog? = nil) -> Gateway {
        var settings = CacheSettings()
        settings.ttl = [(OperationPattern("*:*")!, 60)]
        var dependencies = GatewayDependencies(engine: AWSEngine(models: pipelineModels, environment: [:]), transport: aws,
                                               credentialSources: ["default": PipelineTests.keys])
        dependencies.policy = Policy(teams: [Team(name: "all", members: [.any], allow: [OperationPattern("*:*")!])])
        dependencies.defaultRegion = "us-east-1"
        dependencies.audit = audit
        dependencies.cache = ResponseCache(settings: settings)
        dependencies.sleep = { seconds in sleeps?.add(seconds) }
        return Gateway(dependencies)
    }

    static func run(_ gw: Gateway, _ method: String, _ params: JSONObject) async -> Result<JSONObject, RPCError> {
        await gw.run(GatewayCall(method: method, params: params), context: CallContext(listener: "test"), bytesIn: nil) { ($0, 0) }
    }

    @Test("TableExists: not found, creating, active: three polls (not cached), two delays of 20 s, the active table answered, a record each")
    func tableExists() async throws {
        let dir = try tempDir("wait")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var settings = AuditLogSettings()
        settings.dir = dir
        let audit = try AuditLog(settings: settings)
        let aws = FakeTransport { _, attempt in attempt == 1 ? Self.notFound : Self.table(attempt == 2 ? "CREATING" : "ACTIVE") }
        let sleeps = SleepLog()
        let gw = Self.gateway(aws, audit: audit, sleeps: sleeps)
        let result = try await Self.run(gw, "dynamodb.DescribeTable", JSONObject([("TableName", "t"), ("$wait", "TableExists")])).get()
        audit.close()
        #expect(result["Table"]?["TableStatus"] == "ACTIVE")
        #expect(aws.requests.count == 3)
        #expect(aws.requests.allSatisfy { String(decoding: $0.body, as: UTF8.self) == #"{"TableName": "t"}"# })
        #expect(sleeps.count == 2)
        let records = try readRecords(dir)
        #expect(records.map { $0["code"]?.intValue } == [-32010, nil, nil])
        #expect(records.map { $0["cache"]?.stringValue } == ["refresh", "refresh", "refresh"])
        #expect(records.first?["awsType"] == "ResourceNotFoundException")
    }

    @Test("TableNotExists matches the not-found error: the answer is {}")
    func tableNotExists() async throws {
        let aws = FakeTransport { _, attempt in attempt == 1 ? Self.table("DELETING") : Self.notFound }
        let result = try await Self.run(Self.gateway(aws), "dynamodb.DescribeTable", JSONObject([("TableName", "t"), ("$wait", "TableNotExists")])).get()
        #expect(result.isEmpty && aws.requests.count == 2)
    }

    @Test("an error no acceptor expects: -32013 failure with lastError; out of attempts: -32013 timeout")
    func failureAndTimeout() async throws {
        let failing = await Self.run(Self.gateway(FakeTransport { _, _ in Self.denied }), "dynamodb.DescribeTable",
                                     JSONObject([("TableName", "t"), ("$wait", "TableExists")]))
        guard case .failure(let failure) = failing else { Issue.record("answered"); return }
        #expect(failure.code == -32013)
        #expect(failure.data == .object(JSONObject([("waiter", "TableExists"), ("state", "failure"), ("attempts", 1),
                                                    ("lastError", .object(JSONObject([("type", "AccessDeniedException"), ("message", "no")])))])))
        #expect(failure.message == "waiter TableExists: An error occurred (AccessDeniedException): no")

        let aws = FakeTransport { _, _ in Self.table("CREATING") }
        let creating = await Self.run(Self.gateway(aws), "dynamodb.DescribeTable",
                                      JSONObject([("TableName", "t"), ("$wait", .object(JSONObject([("name", "TableExists"), ("maxAttempts", 2), ("delay", 1)])))]))
        guard case .failure(let timeout) = creating else { Issue.record("answered"); return }
        #expect(timeout.data?["state"] == "timeout" && timeout.data?["attempts"] == 2 && timeout.data?["lastError"] == nil)
        #expect(aws.requests.count == 2)
    }

    @Test("$timeoutMs bounds the whole wait: no poll starts that the delay would carry past it")
    func timeoutMs() async throws {
        let aws = FakeTransport { _, _ in Self.table("CREATING") }
        let sleeps = SleepLog()
        let outcome = await Self.run(Self.gateway(aws, sleeps: sleeps), "dynamodb.DescribeTable",
                                     JSONObject([("TableName", "t"), ("$wait", "TableExists"), ("$timeoutMs", 5000)]))
        guard case .failure(let error) = outcome else { Issue.record("answered"); return }
        #expect(error.data?["state"] == "timeout" && aws.requests.count == 1 && sleeps.count == 0)
    }

    @Test("refused before the first poll: a waiter of another operation, an unknown waiter, $wait with $paginate")
    func refusals() async throws {
        let aws = FakeTransport { _, _ in Self.table("ACTIVE") }
        let gw = Self.gateway(aws)
        for (method, params, problem) in [
            ("dynamodb.GetItem", JSONObject([("TableName", "t"), ("Key", .object(JSONObject())), ("$wait", "TableExists")]),
             "TableExists polls dynamodb.DescribeTable: call that method with it"),
            ("dynamodb.DescribeTable", JSONObject([("TableName", "t"), ("$wait", "TableGone")]),
             "dynamodb has no waiter TableGone; its waiters: BulkOperationCompleted, ContributorInsightsEnabled"),
            ("dynamodb.DescribeTable", JSONObject([("TableName", "t"), ("$wait", "TableExists"), ("$paginate", true)]),
             "cannot be combined with $paginate"),
            ("dynamodb.DescribeTable", JSONObject([("TableName", "t"), ("$wait", .object(JSONObject([("name", "TableExists"), ("delay", -1)])))]),
             "delay: expected seconds"),
        ] {
            guard case .failure(let error) = await Self.run(gw, method, params) else { Issue.record("\(method) answered"); continue }
            let found = error.data?["errors"]?.arrayValue?.first
            #expect(error.code == -32602 && found?["path"]?.stringValue?.hasPrefix("$.$wait") == true
                    && found?["problem"]?.stringValue?.contains(problem) == true, "\(found?.serializedString() ?? error.message)")
        }
        #expect(aws.requests.isEmpty)
    }
}
