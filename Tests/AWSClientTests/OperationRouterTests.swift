import AWSClient
import AWSJSON
import AWSModels
import AWSPrimitives
import Foundation
import Testing
import TestSupport

/// The AWS door finds a request's operation: every request the engine builds (byte for
/// byte what boto3 sends) routes back to the operation it was built for.
@Suite("Routing requests to operations (the AWS door)")
struct OperationRouterTests {
    /// The request as the door receives it from an SDK pointed at it (path-style S3).
    static func incoming(_ request: PreparedRequest) -> IncomingRequest {
        let afterScheme = request.url.split(separator: "/", maxSplits: 3, omittingEmptySubsequences: false)
        let target = afterScheme.count > 3 ? "/" + afterScheme[3] : "/"
        let parts = target.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        return IncomingRequest(method: request.method, path: String(parts[0]), query: parts.count > 1 ? String(parts[1]) : "",
                               headers: request.headers, body: request.body)
    }

    /// Every operation (or every `every`th) of every service, with params generated for it
    /// (seeded by its name), built as boto3 would send it; those the generator's values
    /// make unbuildable are left out.
    static func builtRequests(_ engine: AWSEngine, every: Int = 1) throws -> [(ServiceModel, String, PreparedRequest)] {
        var out: [(ServiceModel, String, PreparedRequest)] = []
        var count = 0
        for serviceName in engine.models.serviceNames {
            guard let service = try engine.models.service(serviceName) else { continue }
            for operationName in service.operationNames {
                count += 1
                guard count % every == 0, let handle = try? engine.operation(serviceName + "." + operationName) else { continue }
                var generator = HostileValues(rng: SplitMix64(seed: fnv1a(serviceName + "." + operationName)), wild: false)
                guard let prepared = try? engine.prepareParams(generator.params(for: handle.operation.input), for: handle, newToken: { "token" }),
                      let request = try? engine.buildRequest(handle, params: prepared, region: "us-east-1", credentials: exampleKeys, at: frozenTime)
                else { continue }
                out.append((service, operationName, request))
            }
        }
        return out
    }

    @Test("every operation of every service, with generated params: the request built routes back to its operation (or to one the model binds identically)")
    func everyOperation() throws {
        let engine = try makeEngine(environment: ["AWS_ENDPOINT_URL": "http://localhost:4566"])
        var built = 0, routed = 0, identical: [String] = [], wrong: [String] = []
        var routers: [String: OperationRouter] = [:]
        for (service, operationName, request) in try Self.builtRequests(engine) {
            let serviceName = service.name
            let router = routers[serviceName] ?? OperationRouter(service: service)
            routers[serviceName] = router
            built += 1
            switch router.route(Self.incoming(request)) {
            case .success(operationName):
                routed += 1
            case .success(let other):
                // Two operations the model binds to the same method, path and query
                // (S3's deprecated PutBucketNotification beside its successor) cannot be told apart.
                let a = service.operation(named: operationName), b = service.operation(named: other)
                if a?.httpMethod == b?.httpMethod && a?.requestURI == b?.requestURI {
                    identical.append("\(serviceName).\(operationName) ~ \(other)")
                } else {
                    wrong.append("\(serviceName).\(operationName) -> \(other): \(request.method) \(request.url.prefix(200))")
                }
            case .failure(let failure):
                wrong.append("\(serviceName).\(operationName): \(String(failure.description.prefix(200))) (\(request.method) \(request.url.prefix(200)))")
            }
        }
        print("routing: \(built) requests built, \(routed) routed to their operation, \(identical.count) to one bound identically, \(wrong.count) wrong")
        #expect(built > 10_000)
        #expect(wrong.isEmpty, "\(wrong.count) wrong:\n\(wrong.prefix(60).joined(separator: "\n"))")
        #expect(identical.count <= 5, "\(identical)")
    }

    @Test("by signing name alone, as the door knows it from the credential scope: every operation of every service finds its service and operation (or one bound identically)")
    func bySigningName() throws {
        let engine = try makeEngine(environment: ["AWS_ENDPOINT_URL": "http://localhost:4566"])
        let router = ServiceRouter(models: engine.models)
        #expect(Set(router.services(signingName: "bedrock")).isSuperset(of: ["bedrock", "bedrock-runtime", "bedrock-agent", "bedrock-agent-runtime"]))
        var built = 0, routed = 0, identical: [String] = [], wrong: [String] = []
        // Every third operation: the whole set is the test above, per service.
        for (service, operationName, request) in try Self.builtRequests(engine, every: 3) {
            let serviceName = service.name
            built += 1
            switch router.route(Self.incoming(request), signingName: request.signingName) {
            case .success(let found) where found.service == serviceName && found.operation == operationName:
                routed += 1
            case .success(let found):
                let other = try engine.models.service(found.service)?.operation(named: found.operation)
                let mine = service.operation(named: operationName)
                // Bound identically: the same wire (rds, docdb and neptune share one
                // API; greengrass and greengrassv2 share connectivityInfo's paths).
                let otherService = try engine.models.service(found.service)
                func shape(_ uri: String?) -> String? { uri?.replacingOccurrences(of: #"\{[^}+]*\+\}"#, with: "{+}", options: .regularExpression)
                    .replacingOccurrences(of: #"\{[^}]*\}"#, with: "{}", options: .regularExpression) }
                let sameWire = otherService?.metadata.resolvedProtocol == service.metadata.resolvedProtocol && other?.httpMethod == mine?.httpMethod
                    && shape(other?.requestURI) == shape(mine?.requestURI) && (service.metadata.resolvedProtocol.hasPrefix("rest") || found.operation == operationName)
                    && otherService?.metadata.targetPrefix == service.metadata.targetPrefix
                    && (!["query", "ec2"].contains(service.metadata.resolvedProtocol) || otherService?.metadata.apiVersion == service.metadata.apiVersion)
                if sameWire {
                    identical.append("\(serviceName).\(operationName) ~ \(found.service).\(found.operation)")
                } else {
                    wrong.append("\(serviceName).\(operationName) -> \(found.service).\(found.operation): \(request.method) \(request.url.prefix(150))")
                }
            case .failure(let failure):
                wrong.append("\(serviceName).\(operationName) (signs as \(request.signingName)): \(String(failure.description.prefix(150)))")
            }
        }
        print("routing by signing name: \(built) built, \(routed) found, \(identical.count) bound identically elsewhere, \(wrong.count) wrong")
        #expect(built > 3000)
        #expect(wrong.isEmpty, "\(wrong.count) wrong:\n\(wrong.prefix(40).joined(separator: "\n"))")
        // rds, docdb and neptune (one query API, one signing name) make most of these.
        #expect(identical.count <= 100, "\(identical.prefix(120))")
    }

    @Test("S3 virtual-hosted: the bucket from the Host; sub-resources (?acl, ?uploads, ?list-type=2) tell operations apart")
    func s3() throws {
        let engine = try makeEngine()
        let service = try #require(try engine.models.service("s3"))
        let router = OperationRouter(service: service)
        func route(_ method: String, _ path: String, _ query: String = "", headers: [(name: String, value: String)] = [], bucket: String? = nil) -> String? {
            try? router.route(IncomingRequest(method: method, path: path, query: query, headers: headers, bucketFromHost: bucket)).get()
        }
        #expect(route("GET", "/") == "ListBuckets")
        #expect(route("GET", "/", "list-type=2&prefix=a", bucket: "my-bucket") == "ListObjectsV2")
        #expect(route("GET", "/", "prefix=a", bucket: "my-bucket") == "ListObjects")
        #expect(route("GET", "/a/b%20c", bucket: "my-bucket") == "GetObject")
        #expect(route("GET", "/my-bucket/a/b%2Fc", "acl") == "GetObjectAcl")
        #expect(route("POST", "/my-bucket/big.bin", "uploads") == "CreateMultipartUpload")
        #expect(route("PUT", "/my-bucket/big.bin", "partNumber=1&uploadId=u") == "UploadPart")
        #expect(route("PUT", "/my-bucket/copy", "") == "PutObject")
        #expect(route("PUT", "/my-bucket/copy", "", headers: [("x-amz-copy-source", "/other/key")]) == "CopyObject")
        #expect(route("PUT", "/my-bucket/big.bin", "partNumber=1&uploadId=u", headers: [("X-Amz-Copy-Source", "/other/key")]) == "UploadPartCopy")
        #expect(route("DELETE", "/my-bucket/k", "uploadId=u") == "AbortMultipartUpload")
        #expect(route("HEAD", "/my-bucket") == "HeadBucket")
        #expect(route("DELETE", "/my-bucket/k") == "DeleteObject")
        #expect(route("PATCH", "/my-bucket/k") == nil)
    }

    @Test("json, query and rpc-v2-cbor: a target, an Action or a path that names no operation is refused, saying what it got")
    func refusals() throws {
        let engine = try makeEngine()
        let dynamodb = OperationRouter(service: try #require(try engine.models.service("dynamodb")))
        let target = { (value: String) in IncomingRequest(method: "POST", path: "/", query: "", headers: [("X-Amz-Target", value)]) }
        #expect(try dynamodb.route(target("DynamoDB_20120810.GetItem")).get() == "GetItem")
        #expect(dynamodb.route(target("DynamoDB_20120810.Nope")) == .failure(RouteFailure("X-Amz-Target DynamoDB_20120810.Nope names no operation of DynamoDB")))
        #expect(dynamodb.route(target("Kinesis_20131202.GetItem")) == .failure(RouteFailure("X-Amz-Target Kinesis_20131202.GetItem names no operation of DynamoDB")))
        let sts = OperationRouter(service: try #require(try engine.models.service("sts")))
        let form = IncomingRequest(method: "POST", path: "/", query: "", headers: [], body: Array("Action=GetCallerIdentity&Version=2011-06-15".utf8))
        #expect(try sts.route(form).get() == "GetCallerIdentity")
        #expect(try sts.route(IncomingRequest(method: "GET", path: "/", query: "Action=AssumeRole&Version=2011-06-15", headers: [])).get() == "AssumeRole")
        #expect(sts.route(IncomingRequest(method: "POST", path: "/", query: "", headers: [], body: [])) == .failure(RouteFailure("no Action parameter")))
    }
}
