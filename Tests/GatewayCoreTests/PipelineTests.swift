import AWSClient
import AWSCredentials
import AWSJSON
import AWSModels
import AWSProtocols
import AWSSigning
import Foundation
@testable import GatewayCore
import Synchronization
import GatewayTesting
import Testing
import TestSupport

let pipelineModels: ModelStore = try! ModelStore(root: Fixtures.modelsDir)

/// The backoff delays asked for, without waiting them out.
final class SleepLog: Sendable {
    private let delays = Mutex<[Double]>([])
    func add(_ seconds: Double) { delays.withLock { $0.append(seconds) } }
    var count: Int { delays.withLock { $0.count } }
}

struct FailingSource: CredentialProvider {
    var sourceName: String { "static keys AKIDSECRETID (secret from $NOPE)" }
    func credentials() async throws(CredentialsError) -> Credentials {
        throw CredentialsError(source: sourceName, reason: "environment variable NOPE is not set")
    }
}

@Suite("Gateway pipeline without sockets")
struct PipelineTests {
    static let keys = StaticCredentialProvider(Credentials(accessKeyId: "AKIDEXAMPLE", secretAccessKey: "secret"))
    static let associate = JSONObject([("GlobalNetworkId", "g"), ("ConnectPeerId", "c"), ("DeviceId", "d")])

    static func gateway(_ aws: FakeTransport, policy: Policy = Policy(teams: [Team(name: "all", members: [.any], allow: [OperationPattern("*:*")!])]),
                        cache: ResponseCache? = nil, sources: [String: any CredentialProvider] = ["default": keys],
                        sleeps: SleepLog? = nil) -> Gateway {
        var dependencies = GatewayDependencies(engine: AWSEngine(models: pipelineModels, environment: [:]), transport: aws,
                                               credentialSources: sources)
        dependencies.policy = policy
        dependencies.cache = cache
        dependencies.defaultRegion = "us-east-1"
        dependencies.sleep = { seconds in sleeps?.add(seconds) }
        return Gateway(dependencies)
    }

    static func call(_ method: String, _ params: JSONObject) -> GatewayCall { GatewayCall(method: method, params: params) }

    @Test("limits.max_blob: a larger blob in params is -32602 at its path; a larger object in an answer is -32011, asked once")
    func blobLimit() async throws {
        let body = [UInt8](repeating: 0x61, count: 1001)
        let aws = FakeTransport { request, _ in
            request.method == "GET" ? ResponseData(status: 200, headers: [("Content-Type", "text/plain")], body: body)
                : ResponseData(status: 200, headers: [("ETag", "\"e\"")], body: [])
        }
        var options = CodecOptions()
        options.maxBlobBytes = 1000
        var dependencies = GatewayDependencies(engine: AWSEngine(models: pipelineModels, environment: [:], codecOptions: options),
                                               transport: aws, credentialSources: ["default": Self.keys])
        dependencies.policy = Policy(teams: [Team(name: "all", members: [.any], allow: [OperationPattern("*:*")!])])
        dependencies.defaultRegion = "us-east-1"
        dependencies.sleep = { _ in }
        let gw = Gateway(dependencies)

        let get = await gw.perform(Self.call("s3.GetObject", JSONObject([("Bucket", "team-data"), ("Key", "big.bin")])),
                                   context: CallContext(listener: "test"))
        guard case .failure(let tooLarge) = get else { Issue.record("a blob over the limit was answered"); return }
        #expect(tooLarge.code == -32011 && tooLarge.message.contains("limits.max_blob (1000 bytes)") && tooLarge.message.contains("$presign"))
        #expect(aws.requests.count == 1)

        let put = await gw.perform(Self.call("s3.PutObject", JSONObject([("Bucket", "team-data"), ("Key", "k"),
                                                                          ("Body", .string(Base64.encode(body)))])),
                                   context: CallContext(listener: "test"))
        guard case .failure(let refused) = put else { Issue.record("a blob over the limit was sent"); return }
        #expect(refused.code == -32602 && refused.data?["errors"]?.arrayValue?.first?["path"] == "$.Body")
        #expect(aws.requests.count == 1)

        let small = await gw.perform(Self.call("s3.PutObject", JSONObject([("Bucket", "team-data"), ("Key", "k"),
                                                                            ("Body", .string(Base64.encode(Array(body.prefix(1000)))))])),
                                     context: CallContext(listener: "test"))
        #expect((try? small.get()) != nil)
    }

    @Test("S3: a bucket in another region is asked again there, once, as botocore's redirector does")
    func s3RegionRedirect() async throws {
        let redirect = ResponseData(status: 301, headers: [("x-amz-bucket-region", "eu-west-1"), ("x-amz-request-id", "r1")],
                                    body: Array("<Error><Code>PermanentRedirect</Code><Message>use the right endpoint</Message></Error>".utf8))
        let aws = FakeTransport { request, _ in
            request.url.contains(".s3.eu-west-1.amazonaws.com/")
                ? ResponseData(status: 200, headers: [("Content-Type", "text/plain"), ("x-amz-request-id", "r2")], body: Array("hi".utf8)) : redirect
        }
        let gw = Self.gateway(aws)
        let outcome = await gw.perform(Self.call("s3.GetObject", JSONObject([("Bucket", "team-data"), ("Key", "a.txt")])),
                                       context: CallContext(listener: "test"))
        #expect(try outcome.get()["Body"] == "aGk=")
        #expect(aws.requests.map(\.url) == ["https://team-data.s3.amazonaws.com/a.txt", "https://team-data.s3.eu-west-1.amazonaws.com/a.txt"])
        let authorization = aws.requests.last?.headers.first { $0.name == "Authorization" }?.value ?? ""
        #expect(authorization.contains("/eu-west-1/s3/aws4_request"))
        // The next call for the bucket goes to its region at once (botocore's redirector cache).
        _ = try await gw.perform(Self.call("s3.GetObject", JSONObject([("Bucket", "team-data"), ("Key", "b.txt")])),
                                 context: CallContext(listener: "test")).get()
        #expect(aws.requests.count == 3 && aws.requests[2].url == "https://team-data.s3.eu-west-1.amazonaws.com/b.txt")

        // A wrong signing region named in the error body; and no second redirect.
        let malformed = ResponseData(status: 400, headers: [],
                                     body: Array("<Error><Code>AuthorizationHeaderMalformed</Code><Message>m</Message><Region>ap-south-1</Region></Error>".utf8))
        let always = FakeTransport { request, _ in request.url.contains("ap-south-1") ? redirect : malformed }
        let twice = await Self.gateway(always).perform(Self.call("s3.GetObject", JSONObject([("Bucket", "team-data"), ("Key", "a.txt")])),
                                                       context: CallContext(listener: "test"))
        guard case .failure(let error) = twice else { Issue.record("a second redirect was followed"); return }
        #expect(error.code == -32010 && always.requests.count == 2 && always.requests[1].url.contains(".s3.ap-south-1.amazonaws.com/"))
    }

    @Test("S3: a redirect that names no region: HeadBucket asked, its x-amz-bucket-region followed; none found, the error stands")
    func s3RegionProbe() async throws {
        let bare = ResponseData(status: 301, headers: [("x-amz-request-id", "r1")], body: [])
        let aws = FakeTransport { request, _ in
            if request.method == "HEAD", request.url == "https://team-data.s3.amazonaws.com/" {
                return ResponseData(status: 301, headers: [("x-amz-bucket-region", "ap-northeast-2")], body: [])
            }
            return request.url.contains(".s3.ap-northeast-2.amazonaws.com/")
                ? ResponseData(status: 200, headers: [("Content-Type", "text/plain")], body: Array("hi".utf8)) : bare
        }
        let outcome = await Self.gateway(aws).perform(Self.call("s3.GetObject", JSONObject([("Bucket", "team-data"), ("Key", "a.txt")])),
                                                      context: CallContext(listener: "test"))
        #expect(try outcome.get()["Body"] == "aGk=")
        #expect(aws.requests.map { "\($0.method) \($0.url)" } == [
            "GET https://team-data.s3.amazonaws.com/a.txt", "HEAD https://team-data.s3.amazonaws.com/",
            "GET https://team-data.s3.ap-northeast-2.amazonaws.com/a.txt",
        ])
        let nothing = FakeTransport { _, _ in bare }
        let failed = await Self.gateway(nothing).perform(Self.call("s3.GetObject", JSONObject([("Bucket", "team-data"), ("Key", "a.txt")])),
                                                         context: CallContext(listener: "test"))
        guard case .failure(let error) = failed else { Issue.record("succeeded"); return }
        #expect(error.code == -32010)
        #expect(nothing.requests.filter { $0.method == "HEAD" }.count >= 1)
    }

    @Test("$presign: a presigned URL after the same policy checks, and nothing sent to AWS")
    func presign() async throws {
        let aws = FakeTransport()
        let gw = Self.gateway(aws)
        let params = JSONObject([("Bucket", "team-data"), ("Key", "a b.txt"), ("$presign", 600), ("$region", "eu-west-1")])
        let outcome = await gw.perform(Self.call("s3.GetObject", params), context: CallContext(listener: "test"))
        let result = try outcome.get()
        let url = try #require(result["url"]?.stringValue)
        #expect(url.hasPrefix("https://team-data.s3.amazonaws.com/a%20b.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDEXAMPLE%2F"))
        #expect(url.contains("%2Feu-west-1%2Fs3%2Faws4_request") && url.contains("&X-Amz-Expires=600&X-Amz-SignedHeaders=host&X-Amz-Signature="))
        #expect(result["method"] == "GET" && result["headers"] == .object(JSONObject()))
        #expect(result["expires"]?.stringValue?.hasSuffix("Z") == true)
        #expect(aws.requests.isEmpty)

        let bad = await gw.perform(Self.call("s3.GetObject", JSONObject([("Bucket", "b1"), ("Key", "k"), ("$presign", 604_801)])),
                                   context: CallContext(listener: "test"))
        guard case .failure(let error) = bad else { Issue.record("accepted"); return }
        #expect(error.code == -32602 && error.data?["errors"]?.arrayValue?.first?["path"] == "$.$presign")

        let denied = await Self.gateway(aws, policy: Policy(teams: [Team(name: "all", members: [.any], allow: [OperationPattern("sts:*")!])]))
            .perform(Self.call("s3.GetObject", params), context: CallContext(listener: "test"))
        guard case .failure(let refusal) = denied else { Issue.record("a denied presign succeeded"); return }
        #expect(refusal.code == -32001)
    }

    @Test("bearer tokens: a team is found by the token's SHA-256, hashed once per token; a wrong token matches no team")
    func tokenDigests() {
        let digests = TokenDigests()
        let expected = "1b32c28cb38c05480eccc1bd60ff97029b57a05c96718b96dad7e9d84894f549"  // sha256("bench")
        #expect(Hex.encode(digests.known("bench").digest) == expected)
        #expect(Hex.encode(digests.known("bench").digest) == expected, "the kept digest is the same")
        for i in 0..<(TokenDigests.limit + 5) { _ = digests.known("t\(i)") }
        #expect(Hex.encode(digests.known("bench").digest) == expected, "past the limit the table starts afresh, still right")
        let policy = Policy(teams: [Team(name: "apps", members: [.tokenSHA256(Hex.decode(expected)!)], allow: [OperationPattern("*:*")!])])
        for _ in 0..<3 {
            #expect(policy.team(for: PeerIdentity(), token: "bench") == (policy.teams.first, "token-sha256:1b32c28cb38c…"),
                    "the caller named by the first six bytes of the digest, the token never")
            #expect(policy.team(for: PeerIdentity(), token: "benc").0 == nil)
            #expect(policy.team(for: PeerIdentity(), token: nil).0 == nil)
        }
    }

    @Test("policy: a denied call never reaches AWS and names the caller and the rule")
    func policy() async {
        let aws = FakeTransport()
        let policy = Policy(teams: [Team(name: "ops", members: [.uid(1001)], allow: [OperationPattern("networkmanager:*")!],
                                         deny: [OperationPattern("networkmanager:Associate*")!])])
        let gw = Self.gateway(aws, policy: policy)
        let denied = await gw.perform(Self.call("networkmanager.AssociateConnectPeer", Self.associate),
                                      context: CallContext(listener: "test", peer: PeerIdentity(uid: 1001)))
        guard case .failure(let error) = denied else { Issue.record("allowed"); return }
        #expect(error.code == -32001)
        #expect(error.data == ["identity": "uid:1001", "rule": "networkmanager:Associate*"])
        let stranger = await gw.perform(Self.call("networkmanager.ListCoreNetworks", JSONObject()),
                                        context: CallContext(listener: "test", peer: PeerIdentity(uid: 7)))
        guard case .failure(let nobody) = stranger else { Issue.record("allowed"); return }
        #expect(nobody.code == -32001 && nobody.data?["identity"] == "uid:7")
        #expect(aws.requests.isEmpty)
        let allowed = await gw.perform(Self.call("networkmanager.ListCoreNetworks", JSONObject()),
                                       context: CallContext(listener: "test", peer: PeerIdentity(uid: 1001)))
        #expect((try? allowed.get()) != nil)
        #expect(aws.requests.count == 1)
    }

    @Test("a caller no team admits, or a service no rule of the team names, is refused before any model is loaded; wrong names load none")
    func deniedBeforeResolving() async throws {
        // A model of its own, so that what is loaded is this test's doing.
        let models = try ModelStore(root: Fixtures.modelsDir)
        let aws = FakeTransport()
        var dependencies = GatewayDependencies(engine: AWSEngine(models: models, environment: [:]), transport: aws, credentialSources: ["default": Self.keys])
        dependencies.policy = Policy(teams: [
            Team(name: "ops", members: [.uid(1001)], allow: [OperationPattern("*:*")!]),
            Team(name: "net", members: [.uid(1002)], allow: [OperationPattern("networkmanager:*")!]),
            Team(name: "careful", members: [.uid(1003)], allow: [OperationPattern("networkmanager:*")!], deny: [OperationPattern("lambda:Delete*")!]),
        ])
        dependencies.defaultRegion = "us-east-1"
        let gw = Gateway(dependencies)
        for method in ["ec2.DescribeInstances", "lambda.Nope", "ec.DescribeInstances", "nope.Nothing", "nodot"] {
            let outcome = await gw.perform(Self.call(method, JSONObject()), context: CallContext(listener: "test", peer: PeerIdentity(uid: 7)))
            guard case .failure(let error) = outcome else { Issue.record("\(method) allowed"); continue }
            #expect(error.code == -32001 && error.data?["identity"] == "uid:7", "\(method)")
        }
        #expect(models.loadedService("ec2") == nil && models.loadedService("lambda") == nil)
        // An admitted caller's misspelt service is -32601 with suggestions, still loading nothing.
        let typo = await gw.perform(Self.call("ec.DescribeInstances", JSONObject()), context: CallContext(listener: "test", peer: PeerIdentity(uid: 1001)))
        guard case .failure(let unknown) = typo else { Issue.record("allowed"); return }
        #expect(unknown.code == -32601 && unknown.data?["suggestions"]?.arrayValue?.contains("ec2") == true)
        #expect(models.loadedService("ec2") == nil && models.loadedService("ecs") == nil)
        // A team none of whose rules names the service: refused as the policy would, unloaded.
        let other = await gw.perform(Self.call("ec2.describe_instances", JSONObject()), context: CallContext(listener: "test", peer: PeerIdentity(uid: 1002)))
        guard case .failure(let refused) = other else { Issue.record("allowed"); return }
        #expect(refused.code == -32001 && refused.data == ["identity": "uid:1002", "rule": "(no allow rule matches)"])
        #expect(models.loadedService("ec2") == nil)
        // A deny rule that names the service needs the operation's name: the model is loaded
        // and the deny rule decides, as before.
        let named = await gw.perform(Self.call("lambda.delete_function", JSONObject([("FunctionName", "f")])),
                                     context: CallContext(listener: "test", peer: PeerIdentity(uid: 1003)))
        guard case .failure(let deniedByRule) = named else { Issue.record("allowed"); return }
        #expect(deniedByRule.code == -32001 && deniedByRule.data?["rule"] == "lambda:Delete*")
        #expect(models.loadedService("lambda") != nil)
        #expect(aws.requests.isEmpty)
        let allowed = await gw.perform(Self.call("networkmanager.ListCoreNetworks", JSONObject()), context: CallContext(listener: "test", peer: PeerIdentity(uid: 1002)))
        #expect((try? allowed.get()) != nil && aws.requests.count == 1)
    }

    @Test("cache: a repeated read is one call; bypass and a mutating call go through, and the mutation drops the entry")
    func cache() async throws {
        let aws = FakeTransport()
        var settings = CacheSettings()
        settings.ttl = [(OperationPattern("*:*")!, 60)]
        settings.exclude = [OperationPattern("networkmanager:GetDevices")!]
        let gw = Self.gateway(aws, cache: ResponseCache(settings: settings))
        let context = CallContext(listener: "test")
        let read = Self.call("networkmanager.GetLinks", JSONObject([("GlobalNetworkId", "g")]))
        _ = await gw.perform(read, context: context)
        let trace = CallTrace()
        _ = await gw.perform(read, context: context, trace: trace)
        #expect(trace.cache == .hit)
        #expect(aws.requests.count == 1)
        _ = await gw.perform(Self.call("networkmanager.GetLinks", JSONObject([("GlobalNetworkId", "g"), ("$cache", "bypass")])), context: context)
        #expect(aws.requests.count == 2)
        // A read that is not cached (excluded) leaves the entries alone.
        _ = await gw.perform(Self.call("networkmanager.GetDevices", JSONObject([("GlobalNetworkId", "g")])), context: context)
        let stillCached = CallTrace()
        _ = await gw.perform(read, context: context, trace: stillCached)
        #expect(stillCached.cache == .hit && aws.requests.count == 3)
        _ = await gw.perform(Self.call("networkmanager.AssociateConnectPeer", Self.associate), context: context)
        #expect(aws.requests.count == 4)
        let after = CallTrace()
        _ = await gw.perform(read, context: context, trace: after)
        #expect(after.cache == .miss)
        #expect(aws.requests.count == 5)
    }

    @Test("cache: identical misses together make one call (single flight)")
    func singleFlight() async throws {
        let aws = FakeTransport { _, _ in
            Thread.sleep(forTimeInterval: 0.05)
            return FakeTransport.ok
        }
        var settings = CacheSettings()
        settings.ttl = [(OperationPattern("*:*")!, 60)]
        let gw = Self.gateway(aws, cache: ResponseCache(settings: settings))
        let read = Self.call("networkmanager.GetLinks", JSONObject([("GlobalNetworkId", "g")]))
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<20 { group.addTask { _ = await gw.perform(read, context: CallContext(listener: "test")) } }
        }
        #expect(aws.requests.count == 1)
    }

    @Test("retries: throttling is retried with backoff and the same idempotency token; a client error is not")
    func retries() async throws {
        let aws = FakeTransport { _, attempt in attempt < 3 ? FakeTransport.throttled : FakeTransport.ok }
        let sleeps = SleepLog()
        let gw = Self.gateway(aws, sleeps: sleeps)
        let trace = CallTrace()
        let outcome = await gw.perform(Self.call("networkmanager.CreateConnection",
                                                 JSONObject([("GlobalNetworkId", "g"), ("DeviceId", "d"), ("ConnectedDeviceId", "e")])),
                                       context: CallContext(listener: "test"), trace: trace)
        #expect((try? outcome.get()) != nil)
        #expect(trace.attempts == 3 && aws.requests.count == 3)
        #expect(sleeps.count == 2)
        // The body (with its filled ClientToken, if the operation has one) is the same each time.
        #expect(Set(aws.requests.map { String(decoding: $0.body, as: UTF8.self) }).count == 1)

        let refusing = FakeTransport { _, _ in
            ResponseData(status: 400, headers: [("x-amzn-ErrorType", "ValidationException")], body: Array(#"{"message":"no"}"#.utf8))
        }
        let once = await Self.gateway(refusing).perform(Self.call("networkmanager.AssociateConnectPeer", Self.associate),
                                                        context: CallContext(listener: "test"))
        guard case .failure(let error) = once else { Issue.record("succeeded"); return }
        #expect(error.code == -32010 && error.data?["type"] == "ValidationException")
        #expect(refusing.requests.count == 1)
    }

    @Test("credentials: a failing source is -32012 naming its config name only")
    func credentials() async {
        let aws = FakeTransport()
        let gw = Self.gateway(aws, sources: ["default": FailingSource()])
        let outcome = await gw.perform(Self.call("networkmanager.AssociateConnectPeer", Self.associate), context: CallContext(listener: "test"))
        guard case .failure(let error) = outcome else { Issue.record("succeeded"); return }
        #expect(error.code == -32012)
        #expect(error.data == ["source": "default"])
        #expect(!error.json.serializedString().contains("AKIDSECRETID"))
        #expect(aws.requests.isEmpty)
    }

    @Test("gateway options: a wrong or repeated $ option is -32602 naming it")
    func options() async {
        let gw = Self.gateway(FakeTransport())
        var params = Self.associate
        params.append("$cache", "sometimes")
        params.append("$region", "us-east-1")
        params.append("$region", "eu-west-1")
        guard case .failure(let error) = await gw.perform(Self.call("networkmanager.AssociateConnectPeer", params), context: CallContext(listener: "t"))
        else { Issue.record("accepted"); return }
        #expect(error.code == -32602)
        #expect(error.data?["errors"]?.arrayValue?.compactMap { $0["path"]?.stringValue } == ["$.$cache", "$.$region"])
    }

    @Test("audit record: fields, decision, params by mode, sensitive values and tokens never written")
    func auditRecord() throws {
        let engine = AWSEngine(models: pipelineModels, environment: [:])
        let verify = try engine.operation("account.VerifyPhoneNumber")
        let record = AuditRecord(
            started: Date(timeIntervalSince1970: 1_764_000_000.25), listener: "unix:/s", door: .jsonrpc, identity: "uid:1", team: "ops",
            method: "account.VerifyPhoneNumber", decision: AuditDecision(code: nil, allowed: true), cache: .none, code: nil, awsType: nil,
            awsRequestId: "r-1", attempts: 1, latencySeconds: 0.0123456, bytesIn: 10, bytesOut: 20,
            params: JSONObject([("Otp", "OTP-555"), ("AccountId", "1"), ("$token", "BEARER")]), inputShape: verify.operation.input,
            notification: false)
        // The line is written as bytes: it must parse, and be exactly this.
        let keysLine = String(decoding: record.line(params: .keys), as: UTF8.self)
        #expect(keysLine == #"{"time":"2025-11-24T16:00:00.250Z","listener":"unix:/s","door":"jsonrpc","identity":"uid:1","team":"ops","method":"account.VerifyPhoneNumber","decision":"allowed","cache":"none","awsRequestId":"r-1","attempts":1,"latencyMs":12.346,"bytesIn":10,"bytesOut":20,"params":["Otp","AccountId"]}"#)
        let keys = try JSON.parse(keysLine)
        #expect(keys["limiter"] == nil, "no limiter field without shared:")
        var shared = record
        shared.limiter = .fallback
        shared.code = -32010
        shared.awsType = "Throttling \"quoted\""
        shared.notification = true
        let sharedJSON = try JSON.parse(shared.line(params: .keys))
        #expect(sharedJSON["limiter"] == "memory-fallback" && sharedJSON["code"] == -32010 && sharedJSON["awsType"] == "Throttling \"quoted\"")
        #expect(sharedJSON["notification"] == true)
        #expect(keys["time"] == "2025-11-24T16:00:00.250Z")
        #expect(keys["decision"] == "allowed" && keys["cache"] == "none" && keys["latencyMs"] == 12.346)
        #expect(keys["params"] == ["Otp", "AccountId"])
        // No shape (an unknown method, a caller refused before resolving): no value is written.
        var unknown = record
        unknown.inputShape = nil
        #expect(try JSON.parse(unknown.line(params: .full))["params"] == ["Otp": "***", "AccountId": "***"])
        let fullLine = String(decoding: record.line(params: .full), as: UTF8.self)
        let full = try JSON.parse(fullLine)
        #expect(full["params"] == ["Otp": "***", "AccountId": "1"])
        #expect(!fullLine.contains("BEARER") && !fullLine.contains("OTP-555"))
        #expect(try JSON.parse(record.line(params: .none))["params"] == nil)
        // latencyMs is written without the float formatter: the same text as Python's repr.
        var timed = record
        var state: UInt64 = 7
        for micros in [0.0, 1, 5, 10, 999, 1000, 1001, 12_300, 12_346, 12_000, 123_456_789] + (0..<2000).map({ _ -> Double in
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Double(state >> 24 % 100_000_000_000)
        }) {
            timed.latencySeconds = micros / 1_000_000
            let expected = JSON.double((timed.latencySeconds * 1_000_000).rounded() / 1000).serializedString()
            let line = String(decoding: timed.line(params: .none), as: UTF8.self)
            #expect(line.contains(#","latencyMs":"# + expected + ","), "\(micros): \(line)")
        }
        #expect(AuditDecision(code: -32001, allowed: false) == .denied)
        #expect(AuditDecision(code: -32002, allowed: true) == .rateLimited)
        #expect(AuditDecision(code: -32003, allowed: false) == .overloaded)
        #expect(AuditDecision(code: -32602, allowed: true) == .invalid)
        #expect(AuditDecision(code: -32010, allowed: true) == .allowed)
    }
}
