@testable import AWSClient
import AWSJSON
import AWSModels
import AWSProtocols
import AWSSigning
import GatewayCore
import Testing
import TestSupport

/// A call whose exact request boto3 (botocore 1.44.5) made with a frozen clock.
struct SeedCase: CustomTestStringConvertible, Sendable {
    let name: String
    let json: JSON
    var testDescription: String { name }

    static func all(_ file: String = "boto3-seed-requests.json") -> [SeedCase] {
        guard case .array(let items)? = try? Fixtures.readJSON(Fixtures.repoRoot + "/Tests/AWSClientTests/" + file) else { return [] }
        return items.map { SeedCase(name: $0["name"]?.stringValue ?? "?", json: $0) }
    }

    /// Every reference: the seed operations (rest-json) and the json protocol's cases
    /// (scripts/make_wire_reference.py).
    static func everyProtocol() -> [SeedCase] {
        all() + all("boto3-json-requests.json") + all("boto3-query-requests.json") + all("boto3-xml-requests.json")
    }
}

let frozenTime = Timestamp(year: 2026, month: 11, day: 20, hour: 10)
let exampleKeys = Credentials(accessKeyId: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")

func makeEngine(environment: [String: String] = [:]) throws -> AWSEngine {
    AWSEngine(models: try ModelStore(root: Fixtures.modelsDir), environment: environment)
}

@Suite("Seed operations: the exact request boto3 sends")
struct SeedOperationWireTests {
    @Test("the reference file lists every seed case")
    func inventory() {
        let names = SeedCase.all().map(\.name)
        #expect(names.count == 10)
        for required in ["associateConnectPeer", "associateConnectPeerWithLink", "disassociateConnectPeer", "createConnectionWithTags",
                         "createAccountAssociationFillsClientToken", "getNetworkConnectorByARN"] {
            #expect(names.contains(required))
        }
    }

    @Test("the json protocol's references are all there")
    func jsonInventory() {
        #expect(SeedCase.all("boto3-json-requests.json").map(\.name) == [
            "dynamodbPutItemNested", "dynamodbQueryExpressionValues", "sqsSendMessageAttributes", "secretsmanagerGetSecretValue",
            "kmsEncryptBlob", "dynamodbListTablesEmpty", "logsPutLogEventsTimestamps", "apigatewayGetApiKeysAccept", "rumUntagEmptyListQuery", "cloudsearchSearchAsPost",
            "cognitoGetId", "ssoGetRoleCredentials", "ebsPutSnapshotBlockUnsignedPayload",
            "glacierListVaultsAccountDefault", "glacierUploadArchiveTreeHash", "machinelearningPredictEndpoint",
            "dynamodbDescribeEndpointsApiVersion", "cloudwatchPutMetricDataGzip", "cloudwatchPutMetricDataSmall",
            "eventbridgev2CreateEventBusCbor", "eventbridgev2ListEventBusesCbor", "cloudwatchomniCreateOneTimeDeepLinkCodeCbor",
            "cloudwatchomniGetIntelligenceConfigurationCbor",
        ])
    }

    @Test("the query and ec2 protocols' references are all there")
    func queryInventory() {
        #expect(SeedCase.all("boto3-query-requests.json").map(\.name) == [
            "stsGetCallerIdentity", "stsAssumeRole", "iamListUsers", "snsPublishAttributes", "cloudformationCreateStack",
            "cloudformationEmptyList", "ec2DescribeInstancesFilters", "ec2RunInstancesMappings", "ec2RunInstancesUserData",
            "ec2CopySnapshotCrossRegion", "ec2CopySnapshotGivenUrl", "rdsCopyDBSnapshotCrossRegion", "rdsReadReplicaGivenUrl",
            "rdsCopyDBSnapshotLocal", "neptuneCreateDBClusterCrossRegion", "stsWebIdentityGlobal", "stsWebIdentityRegional",
        ])
    }

    @Test("the rest-xml protocol's references are all there")
    func xmlInventory() {
        #expect(SeedCase.all("boto3-xml-requests.json").count == 22)
    }

    @Test("method, URL, headers and body match boto3 byte for byte", arguments: SeedCase.everyProtocol())
    func matchesBoto3(_ c: SeedCase) throws {
        var environment: [String: String] = [:]
        for entry in c.json["env"]?.objectValue ?? JSONObject() { environment[entry.key] = entry.value.stringValue }
        let engine = try makeEngine(environment: environment)
        let handle = try engine.operation(try #require(c.json["method"]?.stringValue))
        let params = try engine.prepareParams(c.json["params"]?.objectValue ?? JSONObject(), for: handle,
                                               newToken: { "11111111-2222-4333-8444-555555555555" })
        var credentials = exampleKeys
        credentials.sessionToken = c.json["sessionToken"]?.stringValue
        let request = try engine.buildRequest(handle, params: params, region: try #require(c.json["region"]?.stringValue),
                                               credentials: credentials, at: frozenTime)
        let expect = try #require(c.json["expect"])
        #expect(request.method == expect["method"]?.stringValue)
        #expect(request.url == expect["url"]?.stringValue)
        if let base64 = expect["bodyBase64"]?.stringValue {
            #expect(Base64.encode(request.body) == base64, "body (binary)")
        } else {
            #expect(String(decoding: request.body, as: UTF8.self) == expect["body"]?.stringValue)
        }

        // Every header boto3 sets, in the same order, with the same value; plus Host
        // (which urllib3 adds on the wire) and our own User-Agent.
        let ours = request.headers.filter { $0.name != "Host" && $0.name != "User-Agent" }
        let theirs = expect["headers"]?.objectValue?.members ?? []
        #expect(ours.map(\.name) == theirs.map(\.key))
        for header in theirs {
            #expect(ours.first(where: { $0.name == header.key })?.value == header.value.stringValue, "header \(header.key)")
        }
        let authority = request.url.split(separator: "/")[1]
        #expect(request.headers.first(where: { $0.name == "Host" })?.value == String(authority))
    }
}

@Suite("Handlers botocore applies")
struct HandlerTests {
    @Test("Glacier's tree hash is botocore's calculate_tree_hash", arguments: [
        (0, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
        (1, "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"),
        (1_048_576, "e76e4c02227083fd12207b7bc85287bb9e02a618fed3bd8eab1bc2daeda2fb53"),
        (1_048_577, "4e280062d49dafb2e6377b5ce6a16b88adf953c0cd8c939289b1068139bc34eb"),
        (3_145_735, "2b737a4cadcdbf1c44f44479b7228708d5eaca26d2d1aea86c7ab05e6d17e866"),
    ])
    func glacierTreeHash(size: Int, expected: String) {
        let body = (0..<size).map { UInt8(($0 * 7) % 251) }
        #expect(GlacierCustomization.treeHash(body) == expected)
    }

    @Test("S3 answers are checked against their checksum headers as botocore checks them")
    func responseChecksums() throws {
        let engine = try makeEngine()
        let handle = try engine.operation("s3.GetObject")
        func answer(_ headers: [(name: String, value: String)]) -> Result<JSONObject, AWSErrorResponse> {
            engine.parseResponse(ResponseData(status: 200, headers: headers, body: Array("hello world".utf8)), for: handle)
        }
        #expect((try? answer([("x-amz-checksum-crc32", "DUoRhQ==")]).get()) != nil)
        guard case .failure(let mismatch) = answer([("x-amz-checksum-crc32", "AAAAAA==")]) else { Issue.record("a wrong CRC32 passed"); return }
        #expect(mismatch.code == "FlexibleChecksumError" && mismatch.message.contains("did not match calculated checksum: DUoRhQ=="))
        // CRC32 is preferred to SHA-256; a composite (multipart) checksum is not checked.
        #expect((try? answer([("x-amz-checksum-sha256", "bad"), ("x-amz-checksum-crc32", "DUoRhQ==")]).get()) != nil)
        #expect((try? answer([("x-amz-checksum-crc32", "AAAAAA==-3")]).get()) != nil)
        #expect((try? answer([("x-amz-checksum-sha256", "uU0nuZNNPgilLlLX2n2r+sSE7+N6U4DukIj3rOLvzek=")]).get()) != nil)
        guard case .failure = answer([("x-amz-checksum-sha256", Base64.encode([UInt8](repeating: 0, count: 32)))]) else {
            Issue.record("a wrong SHA-256 passed"); return
        }
    }

    @Test("S3 Express directory buckets and SigV4a-only access points are refused by name, nothing sent")
    func unsupportedAuthSchemes() throws {
        let engine = try makeEngine()
        let handle = try engine.operation("s3.GetObject")
        for (bucket, reason) in [("data--use1-az4--x-s3", "rest-xml with S3 Express session auth (directory buckets)"),
                                 ("arn:aws:s3::123456789012:accesspoint/mfzwi23gnjvgw.mrap", "rest-xml with sigv4a signing")] {
            let params = try engine.prepareParams(JSONObject([("Bucket", .string(bucket)), ("Key", "k")]), for: handle)
            let refusal = validationError { _ = try engine.buildRequest(handle, params: params, region: "us-east-1", credentials: exampleKeys, at: frozenTime) }
            #expect(refusal?.code == -32601 && refusal?.data?["protocol"]?.stringValue == reason)
        }
    }

    @Test("Machine Learning Predict goes only to an AWS host")
    func predictEndpointIsAnAWSHost() throws {
        let engine = try makeEngine()
        let handle = try engine.operation("machinelearning.Predict")
        for bad in ["http://realtime.machinelearning.us-east-1.amazonaws.com", "https://attacker.example", "https://amazonaws.com.evil.example"] {
            let params = JSONObject([("MLModelId", "ml-1"), ("Record", .object(JSONObject())), ("PredictEndpoint", .string(bad))])
            #expect(throws: ClientError.self) {
                _ = try engine.buildRequest(handle, params: params, region: "us-east-1", credentials: exampleKeys, at: frozenTime)
            }
        }
    }

    @Test("CRC32 is zlib's")
    func crc32() {
        #expect(CRC32.checksum(Array("123456789".utf8)) == 0xCBF4_3926)
        #expect(CRC32.checksum([UInt8]()) == 0)
    }

    @Test("a DynamoDB answer whose x-amz-crc32 does not match is a retryable error; a matching one parses")
    func dynamodbCRC32() throws {
        let engine = try makeEngine()
        let handle = try engine.operation("dynamodb.ListTables")
        let body = Array(#"{"TableNames":["a"]}"#.utf8)
        let good = ResponseData(status: 200, headers: [("x-amz-crc32", String(CRC32.checksum(body)))], body: body)
        #expect((try? engine.parseResponse(good, for: handle).get()).map(JSON.object) == ["TableNames": ["a"]])
        let bad = ResponseData(status: 200, headers: [("x-amz-crc32", "12345")], body: body)
        guard case .failure(let error) = engine.parseResponse(bad, for: handle) else { Issue.record("accepted a bad CRC32"); return }
        #expect(error.code == "CRC32CheckFailed")
    }
}

@Suite("Request building")
struct AWSEngineTests {
    @Test("services and operations resolve by every accepted spelling")
    func nameResolution() throws {
        let engine = try makeEngine()
        for method in ["networkmanager.AssociateConnectPeer", "NetworkManager.associate_connect_peer", "networkmanager.associate_connect_peer",
                       "iot-managed-integrations.CreateAccountAssociation", "IoTManagedIntegrations.create_account_association",
                       "lambda-core.GetNetworkConnector", "LambdaCore.get_network_connector", "lambdacore.GetNetworkConnector"] {
            let handle = try engine.operation(method)
            #expect(["networkmanager.AssociateConnectPeer", "iot-managed-integrations.CreateAccountAssociation", "lambda-core.GetNetworkConnector"]
                        .contains(handle.canonicalName), "\(method)")
        }
    }

    @Test("an unknown service or operation is -32601 with suggestions")
    func unknownNames() throws {
        let engine = try makeEngine()
        // Not of the form service.Operation: say what the form is.
        let malformed = validationError { _ = try engine.operation("foo") }
        #expect(malformed?.code == -32601 && malformed?.message.contains("<service>.<Operation>") == true)
        // Served protocols, but not as boto3 calls these: SigV2, endpoint discovery.
        let sigV2 = validationError { _ = try engine.operation("sdb.ListDomains") }
        #expect(sigV2?.code == -32601 && sigV2?.data?["protocol"] == "query with SigV2 signing")
        let discovery = validationError { _ = try engine.operation("timestream-write.DescribeDatabase") }
        #expect(discovery?.code == -32601 && discovery?.data?["protocol"] == "json with endpoint discovery")
        #expect(throws: ClientError.self) { try engine.operation("networkmanagr.AssociateConnectPeer") }
        // A close service's model is not loaded for a suggestion (a wrong name is cheap to
        // send, a model is megabytes): its name is suggested alone.
        do {
            _ = try engine.operation("networkmanagr.AssociateConnectPeer")
        } catch {
            #expect(error.rpcError.code == -32601)
            #expect(error.rpcError.data?["suggestions"]?.arrayValue?.first == "networkmanager")
        }
        do {
            _ = try engine.operation("ec.DescribeInstances")
        } catch {
            #expect(error.rpcError.data?["suggestions"]?.arrayValue?.compactMap(\.stringValue).contains("ec2") == true)
        }
        #expect(engine.models.loadedService("networkmanager") == nil && engine.models.loadedService("ec2") == nil)
        // Once the close service is loaded: whole methods, where the operation exists in it.
        _ = try engine.operation("networkmanager.AssociateConnectPeer")
        do {
            _ = try engine.operation("networkmanagr.AssociateConnectPeer")
        } catch {
            let rpc = error.rpcError
            #expect(rpc.code == -32601)
            #expect(rpc.data?["suggestions"]?.arrayValue?.first == "networkmanager.AssociateConnectPeer")
        }
        do {
            _ = try engine.operation("networkmanager.AssociateConectPeer")
        } catch {
            #expect(error.rpcError.code == -32601)
            #expect(error.rpcError.data?["suggestions"]?.arrayValue?.first == "networkmanager.AssociateConnectPeer")
        }
    }

    @Test("every problem with the params is reported with its path, and nothing is sent")
    func validation() throws {
        let engine = try makeEngine()
        let handle = try engine.operation("networkmanager.CreateConnection")
        let params = try JSON.parse(#"{"GlobalNetworkId": 7, "ConnectedDeviceId": "", "Tags": [{"Key": 1, "Value": "v"}, {"Nope": true}], "Extra": null}"#).objectValue!
        do {
            _ = try engine.prepareParams(params, for: handle)
            Issue.record("expected invalid params")
        } catch {
            let rpc = error.rpcError
            #expect(rpc.code == -32602)
            let errors = rpc.data?["errors"]?.arrayValue ?? []
            let byPath = Dictionary(errors.map { ($0["path"]?.stringValue ?? "", $0["problem"]?.stringValue ?? "") }, uniquingKeysWith: { a, _ in a })
            #expect(byPath["$.DeviceId"] == "missing required member")
            #expect(byPath["$.GlobalNetworkId"] == "expected string, got number")
            #expect(byPath["$.Tags[0].Key"] == "expected string, got number")
            #expect(byPath["$.Tags[1].Nope"]?.hasPrefix("unknown member") == true)
            #expect(byPath["$.Extra"]?.hasPrefix("unknown member") == true)
        }
    }

    @Test("paths through maps and lists: odd keys quoted, indexes, nested members")
    func validationPathsThroughMaps() throws {
        let engine = try makeEngine()
        let handle = try engine.operation("dynamodb.PutItem")
        let params = try JSON.parse(#"{"TableName": "t", "Item": {"odd key": {"S": 1}, "k": {"L": [{"S": "ok"}, {"Q": "x"}]}, "it's": {"M": {"in": {"N": true}}}}}"#).objectValue!
        do {
            _ = try engine.prepareParams(params, for: handle)
            Issue.record("expected invalid params")
        } catch {
            let errors = error.rpcError.data?["errors"]?.arrayValue ?? []
            let paths = Set(errors.compactMap { $0["path"]?.stringValue })
            #expect(paths == ["$.Item['odd key'].S", "$.Item.k.L[1].Q", "$.Item['it\\'s'].M.in.N"], "\(errors)")
        }
    }

    @Test("params of every shape and wrong type: the right ones build, the wrong ones are refused at their path")
    func hostileParams() throws {
        let engine = try makeEngine()
        let handle = try engine.operation("networkmanager.CreateConnection")
        let values: [JSON] = [.null, true, 1, 1.5, "s", [], [1, [2, [3]]], ["a": ["b": ["c": 1]]], .double(.infinity)]
        // Which (member, value) pairs fit CreateConnection's input.
        func fits(_ member: String, _ value: JSON) -> Bool {
            switch member {
            case "GlobalNetworkId", "DeviceId", "Description": return value == "s"
            case "Tags": return value == [] as JSON
            case "$region": return true  // gateway options are not the operation's
            default: return false
            }
        }
        for member in ["GlobalNetworkId", "DeviceId", "Tags", "Description", "$region", "__proto__"] {
            for value in values {
                var params = JSONObject([("GlobalNetworkId", "g"), ("DeviceId", "d"), ("ConnectedDeviceId", "c")])
                params[member] = value
                let problems = validationProblems {
                    let prepared = try engine.prepareParams(params, for: handle)
                    _ = try engine.buildRequest(handle, params: prepared, region: "us-east-1", credentials: exampleKeys, at: frozenTime)
                }
                if fits(member, value) {
                    #expect(problems.isEmpty, "\(member) = \(value): \(problems)")
                } else {
                    #expect(!problems.isEmpty && problems.allSatisfy { $0.path.hasPrefix("$." + member) }, "\(member) = \(value): \(problems)")
                }
            }
        }
    }

    @Test("a region with no endpoint is an error naming the problem")
    func unresolvableEndpoint() throws {
        let engine = try makeEngine()
        let handle = try engine.operation("lambda-core.GetNetworkConnector")
        let params = try engine.prepareParams(JSONObject([("Identifier", "nc-1")]), for: handle)
        #expect(throws: ClientError.self) {
            try engine.buildRequest(handle, params: params, region: "not a region!", credentials: exampleKeys, at: frozenTime)
        }
    }

    @Test("the plan is compiled once and reused, whatever the spelling")
    func planReuse() throws {
        let engine = try makeEngine()
        #expect(engine.compiledPlans == 0)
        let a = try engine.operation("networkmanager.AssociateConnectPeer")
        _ = try engine.operation("networkmanager.AssociateConnectPeer")
        let c = try engine.operation("NetworkManager.associate_connect_peer")
        #expect(engine.compiledPlans == 1)
        #expect(a.canonicalName == c.canonicalName)
        _ = try engine.operation("networkmanager.DisassociateConnectPeer")
        #expect(engine.compiledPlans == 2)
    }
}

/// The JSON-RPC error a call throws, if it throws a ClientError.
func validationError(_ body: () throws -> Void) -> RPCError? {
    do {
        try body()
    } catch {
        if let clientError = error as? ClientError { return clientError.rpcError }
    }
    return nil
}

@Suite("Sensitive values")
struct SensitiveRedactionTests {
    @Test("members the model marks sensitive are masked, at any depth; others are kept")
    func redaction() throws {
        let engine = try makeEngine()
        let verify = try engine.operation("account.VerifyPhoneNumber")
        let params = try JSON.parse(#"{"Otp":"OTP-555","AccountId":"123456789012","Other":1}"#)
        let redacted = SensitiveRedaction.redact(params, shape: try #require(verify.operation.input))
        #expect(redacted["Otp"] == "***")
        #expect(redacted["AccountId"] == "123456789012")
        #expect(redacted["Other"] == 1)
        #expect(!redacted.serializedString().contains("OTP-555"))
        // Nested: networkmanager's CreateConnection has no sensitive members; nothing changes.
        let create = try engine.operation("networkmanager.CreateConnection")
        let nested = try JSON.parse(#"{"GlobalNetworkId":"g","Tags":[{"Key":"k","Value":"v"}]}"#)
        #expect(SensitiveRedaction.redact(nested, shape: try #require(create.operation.input)) == nested)
    }
}
