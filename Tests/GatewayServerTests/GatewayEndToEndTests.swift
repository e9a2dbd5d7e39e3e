import AWSCredentials
import AWSJSON
import Foundation
import GatewayCore
import GatewayServer
import GatewayTesting
import GatewayTransport
import Testing

#if canImport(Glibc)
import Glibc
#endif

@Suite("Gateway end to end: real sockets, a real HTTP server standing in for AWS", .serialized)
struct GatewayEndToEndTests {
    @Test("HTTP over the Unix socket: the signed request reaches AWS and the result comes back")
    func httpOverUnix() async throws {
        let gw = try await TestGateway()
        let reply = try await httpExchange(gw.address("unix"), body: rpc(1, "networkmanager.AssociateConnectPeer", associateParams))
        #expect(reply.status == 200)
        #expect(reply.header("Content-Type") == "application/json")
        #expect(reply.json?["result"]?["ConnectPeerAssociation"]?["State"] == "PENDING")
        #expect(reply.json?["id"] == 1)
        let sent = try #require(gw.fake.requests.first)
        #expect(sent.method == "POST")
        #expect(sent.uri == "/global-networks/global-network-0123/connect-peer-associations")
        #expect(sent.bodyText == #"{"ConnectPeerId": "connect-peer-0123", "DeviceId": "device-0123"}"#)
        #expect(sent.header("Content-Type") == "application/json")
        #expect(sent.header("Content-Length") == "65")
        #expect(sent.header("Authorization")?.contains("SignedHeaders=content-type;host;x-amz-date") == true)
        #expect(sent.header("Authorization")?.contains("/us-east-1/networkmanager/aws4_request") == true)
        await gw.stop()
    }

    @Test("the Unix socket is created with mode 0600")
    func socketMode() async throws {
        let gw = try await TestGateway()
        var info = stat()
        #expect(stat(gw.socketPath, &info) == 0)
        #expect(info.st_mode & 0o777 == 0o600)
        await gw.stop()
        #expect(access(gw.socketPath, F_OK) != 0, "the socket file is removed on shutdown")
    }

    @Test("a stale socket file is replaced; a live one is an error")
    func staleAndLiveSockets() async throws {
        let first = try await TestGateway()
        // Live: a second gateway on the same path must refuse.
        await #expect(throws: (any Error).self) {
            _ = try await TestGateway(listen: ["unix:" + first.socketPath])
        }
        // Stale: a socket file nobody listens on.
        let stalePath = first.dir + "/stale.sock"
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in
            for (i, b) in stalePath.utf8.enumerated() { raw[i] = b }
        }
        _ = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) } }
        close(fd)
        let second = try await TestGateway(listen: ["unix:" + stalePath])
        let reply = try await httpExchange(.unix(path: stalePath), method: "GET", path: "/healthz")
        #expect(reply.status == 200)
        await second.stop()
        await first.stop()
    }

    @Test("plaintext TCP on a non-loopback address is refused unless allowed")
    func nonLoopbackTCP() async throws {
        await #expect(throws: (any Error).self) {
            _ = try await TestGateway(listen: ["tcp:0.0.0.0:0"])
        }
        let allowed = try await TestGateway(listen: ["tcp:0.0.0.0:0"], configure: { $0.allowPlaintextNonLoopback = true })
        await allowed.stop()
    }

    @Test("NDJSON over TCP: answers come as calls complete, matched by id")
    func ndjsonOutOfOrder() async throws {
        let gw = try await TestGateway(script: { request, _ in
            let slow = request.uri.contains("slow-network")
            return .respond(status: 200, headers: [("Content-Type", "application/json")],
                            body: #"{"ConnectPeerAssociation":{"GlobalNetworkId":"\#(slow ? "slow" : "fast")"}}"#, delay: slow ? 0.5 : 0)
        })
        var slowParams = associateParams
        if case .object(var o) = slowParams { o["GlobalNetworkId"] = "slow-network"; slowParams = .object(o) }
        let answers = try await ndjsonExchange(gw.address("tcp"), lines: [
            rpc("slow", "networkmanager.AssociateConnectPeer", slowParams),
            rpc("fast", "networkmanager.AssociateConnectPeer", associateParams),
        ], expect: 2)
        #expect(answers.map { $0["id"] } == ["fast", "slow"])
        #expect(answers.last?["result"]?["ConnectPeerAssociation"]?["GlobalNetworkId"] == "slow")
        await gw.stop()
    }

    @Test("batches run concurrently and answer in order; notifications get no answer")
    func batchesAndNotifications() async throws {
        let gw = try await TestGateway()
        let batch = "[" + [
            rpc(1, "networkmanager.AssociateConnectPeer", associateParams),
            rpc(nil, "networkmanager.AssociateConnectPeer", associateParams),
            rpc(2, "networkmanager.NoSuchOperation"),
        ].joined(separator: ",") + "]"
        let reply = try await httpExchange(gw.address("unix"), body: batch)
        let answers = try #require(reply.json?.arrayValue)
        #expect(answers.count == 2)
        #expect(answers[0]["id"] == 1 && answers[0]["result"] != nil)
        #expect(answers[1]["id"] == 2 && answers[1]["error"]?["code"] == -32601)
        // The notification was carried out all the same.
        #expect(gw.fake.requests.count == 2)

        let onlyNotification = try await httpExchange(gw.address("unix"), body: rpc(nil, "networkmanager.AssociateConnectPeer", associateParams))
        #expect(onlyNotification.status == 204)
        #expect(onlyNotification.body.isEmpty)
        let ndjson = try await ndjsonExchange(gw.address("tcp"), lines: [rpc(nil, "networkmanager.AssociateConnectPeer", associateParams), rpc(9, "networkmanager.AssociateConnectPeer", associateParams)], expect: 1)
        #expect(ndjson.count == 1 && ndjson[0]["id"] == 9)
        await gw.stop()
    }

    @Test("every error code of INTERFACE.md that this layer owns")
    func errorCodes() async throws {
        let gw = try await TestGateway(configure: { $0.limits.maxBatchSize = 3; $0.limits.maxBodyBytes = 4096; $0.limits.maxJSONDepth = 16 })
        let unix = gw.address("unix")
        func code(_ body: String) async throws -> JSON? { try await httpExchange(unix, body: body).json?["error"]?["code"] }

        #expect(try await code("{not json") == -32700)
        #expect(try await code(#"{"jsonrpc":"1.0","id":1,"method":"a.b"}"#) == -32600)
        #expect(try await code(#"{"jsonrpc":"2.0","id":{},"method":"a.b"}"#) == -32600)
        #expect(try await code("[]") == -32600)
        let overBatch = try await httpExchange(unix, body: "[" + Array(repeating: rpc(1, "a.b"), count: 4).joined(separator: ",") + "]")
        #expect(overBatch.json?["error"]?["data"]?["limit"] == 3)
        let deep = String(repeating: "[", count: 40) + String(repeating: "]", count: 40)
        #expect(try await httpExchange(unix, body: deep).json?["error"]?["data"]?["limit"] == 16)
        let big = try await httpExchange(unix, body: rpc(1, "networkmanager.AssociateConnectPeer", ["Description": .string(String(repeating: "x", count: 5000))]))
        #expect(big.status == 413)
        #expect(big.json?["error"]?["code"] == -32600)
        #expect(big.json?["error"]?["data"]?["limit"] == 4096)
        #expect(try await code(rpc(1, "networkmanager.AssociateConectPeer")) == -32601)
        #expect(try await code(rpc(1, "networkmanagr.AssociateConnectPeer")) == -32601)
        let invalid = try await httpExchange(unix, body: rpc(1, "networkmanager.AssociateConnectPeer", ["DeviceId": 5]))
        #expect(invalid.json?["error"]?["code"] == -32602)
        #expect(invalid.json?["error"]?["data"]?["errors"]?.arrayValue?.contains { $0["path"] == "$.GlobalNetworkId" } == true)
        #expect(try await code(rpc(1, "networkmanager.AssociateConnectPeer", .array([]))) == -32602)
        #expect(try await code(rpc(1, "networkmanager.AssociateConnectPeer", ["$regoin": "x"])) == -32602)
        // Nothing invalid reached AWS.
        #expect(gw.fake.requests.isEmpty)

        gw.fake.setScript { _, _ in
            .respond(status: 404, headers: [("x-amzn-RequestId", "req-404"), ("x-amzn-ErrorType", "ResourceNotFoundException:http://internal.amazon.com/")],
                     body: #"{"Message":"Connect peer not found"}"#)
        }
        let awsError = try await httpExchange(unix, body: rpc(7, "networkmanager.AssociateConnectPeer", associateParams))
        let error = try #require(awsError.json?["error"])
        #expect(error["code"] == -32010)
        #expect(error["data"]?["type"] == "ResourceNotFoundException")
        #expect(error["data"]?["message"] == "Connect peer not found")
        #expect(error["data"]?["httpStatus"] == 404)
        #expect(error["data"]?["requestId"] == "req-404")
        #expect(error["data"]?["retryable"] == false)
        await gw.stop()
    }

    @Test("a json-protocol call (DynamoDB) end to end: X-Amz-Target on the wire, the result parsed, AWS's error typed")
    func jsonProtocol() async throws {
        let gw = try await TestGateway(script: { request, attempt in
            if request.bodyText.contains("missing") {
                return .respond(status: 400, headers: [("x-amzn-RequestId", "req-j2")],
                                body: #"{"__type":"com.amazonaws.dynamodb.v20120810#ResourceNotFoundException","message":"Requested resource not found"}"#)
            }
            return .respond(status: 200, headers: [("x-amzn-RequestId", "req-j1"), ("Content-Type", "application/x-amz-json-1.0")],
                            body: #"{"Item":{"pk":{"S":"a"},"n":{"N":"1"}}}"#)
        })
        let reply = try await httpExchange(gw.address("unix"),
                                           body: rpc(1, "dynamodb.GetItem", ["TableName": "orders", "Key": ["pk": ["S": "a"]]]))
        #expect(reply.json?["result"] == ["Item": ["pk": ["S": "a"], "n": ["N": "1"]]])
        let sent = try #require(gw.fake.requests.first)
        #expect(sent.method == "POST" && sent.uri == "/")
        #expect(sent.header("X-Amz-Target") == "DynamoDB_20120810.GetItem")
        #expect(sent.header("Content-Type") == "application/x-amz-json-1.0")
        #expect(sent.bodyText == #"{"TableName": "orders", "Key": {"pk": {"S": "a"}}}"#)
        let missing = try await httpExchange(gw.address("unix"), body: rpc(2, "dynamodb.GetItem", ["TableName": "missing", "Key": ["pk": ["S": "a"]]]))
        #expect(missing.json?["error"]?["code"] == -32010)
        #expect(missing.json?["error"]?["data"]?["type"] == "ResourceNotFoundException")
        #expect(missing.json?["error"]?["data"]?["requestId"] == "req-j2")
        await gw.stop()
    }

    @Test("a query-protocol call (STS) end to end: a form body on the wire, the XML answer parsed, an XML error typed")
    func queryProtocol() async throws {
        let gw = try await TestGateway(script: { request, _ in
            if request.bodyText.contains("RoleArn") {
                return .respond(status: 403, headers: [("Content-Type", "text/xml")],
                                body: "<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>not allowed</Message></Error><RequestId>req-x2</RequestId></ErrorResponse>")
            }
            return .respond(status: 200, headers: [("Content-Type", "text/xml"), ("x-amzn-RequestId", "req-x1")],
                            body: "<GetCallerIdentityResponse><GetCallerIdentityResult><Arn>arn:aws:iam::123456789012:user/a</Arn><UserId>AIDA</UserId><Account>123456789012</Account></GetCallerIdentityResult></GetCallerIdentityResponse>")
        })
        let reply = try await httpExchange(gw.address("unix"), body: rpc(1, "sts.GetCallerIdentity"))
        #expect(reply.json?["result"] == ["UserId": "AIDA", "Account": "123456789012", "Arn": "arn:aws:iam::123456789012:user/a"])
        let sent = try #require(gw.fake.requests.first)
        #expect(sent.bodyText == "Action=GetCallerIdentity&Version=2011-06-15")
        #expect(sent.header("Content-Type") == "application/x-www-form-urlencoded; charset=utf-8")
        let denied = try await httpExchange(gw.address("unix"), body: rpc(2, "sts.AssumeRole", ["RoleArn": "arn:aws:iam::123456789012:role/r", "RoleSessionName": "awsgw"]))
        #expect(denied.json?["error"]?["code"] == -32010)
        #expect(denied.json?["error"]?["data"]?["type"] == "AccessDenied")
        #expect(denied.json?["error"]?["data"]?["requestId"] == "req-x2")
        await gw.stop()
    }

    @Test("no usable credentials: -32012 naming the source, never a secret")
    func noCredentials() async throws {
        let gw = try await TestGateway(credentials: EnvironmentCredentialProvider(environment: ["AWS_SECRET_ACCESS_KEY": "DO-NOT-LEAK"]))
        let reply = try await httpExchange(gw.address("unix"), body: rpc(1, "networkmanager.AssociateConnectPeer", associateParams))
        #expect(reply.json?["error"]?["code"] == -32012)
        // Callers see the source's config name only; why it failed is in the operator's log.
        #expect(reply.json?["error"]?["data"] == ["source": "default"])
        #expect(!reply.body.contains("DO-NOT-LEAK") && !reply.body.contains("AWS_"))
        #expect(gw.fake.requests.isEmpty)
        await gw.stop()
    }

    @Test("browser requests (Origin) are refused and never reach AWS")
    func originRefused() async throws {
        let gw = try await TestGateway()
        let reply = try await httpExchange(gw.address("tcp"), body: rpc(1, "networkmanager.AssociateConnectPeer", associateParams),
                                           headers: [("Origin", "https://evil.example")])
        #expect(reply.status == 403)
        #expect(gw.fake.requests.isEmpty)
        await gw.stop()
    }

    @Test("GET /healthz and GET /metrics")
    func healthAndMetrics() async throws {
        let gw = try await TestGateway()
        #expect(try await httpExchange(gw.address("tcp"), method: "GET", path: "/healthz").status == 200)
        #expect(try await httpExchange(gw.address("tcp"), method: "GET", path: "/healthz?probe=1").status == 200, "a query is not part of the route")
        _ = try await httpExchange(gw.address("unix"), body: rpc(1, "networkmanager.AssociateConnectPeer", associateParams))
        let metrics = try await httpExchange(gw.address("tcp"), method: "GET", path: "/metrics")
        #expect(metrics.status == 200)
        #expect(metrics.body.contains(#"awsgw_calls_total{method="networkmanager.AssociateConnectPeer",outcome="ok"} 1"#))
        #expect(metrics.body.contains("awsgw_upstream_attempts_total 1"))
        #expect(try await httpExchange(gw.address("tcp"), method: "GET", path: "/nope").status == 404)
        #expect(try await httpExchange(gw.address("tcp"), method: "PUT", path: "/").status == 405)
        await gw.stop()
    }

    @Test("HTTP keep-alive with pipelined requests: answered in order on one connection")
    func keepAlivePipelining() async throws {
        let gw = try await TestGateway()
        let unix = gw.address("unix")
        let bodies = (1...3).map { rpc(.int(Int64($0)), "networkmanager.AssociateConnectPeer", associateParams) }
        let raw = try await onThread { () -> String in
            let socket = try RawSocket(unix)
            var requests = ""
            for (i, body) in bodies.enumerated() {
                requests += "POST /rpc HTTP/1.1\r\nHost: x\r\nContent-Length: \(body.utf8.count)\r\n\(i == 2 ? "Connection: close\r\n" : "")\r\n\(body)"
            }
            try socket.write(requests)
            return String(decoding: socket.readToEnd(), as: UTF8.self)
        }
        let ids = raw.components(separatedBy: "\"id\":").dropFirst().map { $0.prefix(1) }
        #expect(ids == ["1", "2", "3"])
        #expect(raw.components(separatedBy: "HTTP/1.1 200 OK").count == 4)
        await gw.stop()
    }

    @Test("thousands of pipelined calls answered at once (refusals), around one that goes to AWS: all in order, exactly once")
    func pipelinedImmediateAnswers() async throws {
        let gw = try await TestGateway()
        let unix = gw.address("unix")
        // Calls that are answered without waiting on anything (an unknown method) start and
        // end while the request before them is still being read: they must not nest.
        let count = 2000
        let raw = try await onThread { () -> String in
            let socket = try RawSocket(unix)
            var requests = ""
            for i in 1...count {
                let body = i == count / 2
                    ? rpc(.int(Int64(i)), "networkmanager.AssociateConnectPeer", associateParams)
                    : #"{"jsonrpc":"2.0","id":\#(i),"method":"nope.Nothing"}"#
                requests += "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: \(body.utf8.count)\r\n\(i == count ? "Connection: close\r\n" : "")\r\n\(body)"
            }
            try socket.write(requests)
            return String(decoding: socket.readToEnd(), as: UTF8.self)
        }
        let ids = raw.components(separatedBy: "\"id\":").dropFirst().map { Int($0.prefix(while: \.isNumber)) }
        #expect(ids == (1...count).map { $0 })
        #expect(raw.components(separatedBy: "HTTP/1.1 200 OK").count == count + 1)
        #expect(raw.components(separatedBy: "\"result\":").count == 2)
        #expect(gw.fake.requests.count == 1)
        await gw.stop()
    }
}

@Suite("Gateway forwarding: retries and timeouts", .serialized)
struct GatewayRetryTests {
    @Test("throttled once, then success: exactly two attempts with the same ClientToken")
    func throttledOnce() async throws {
        let gw = try await TestGateway(script: { _, attempt in
            attempt == 1
                ? .respond(status: 400, headers: [("x-amzn-ErrorType", "ThrottlingException")], body: #"{"message":"Rate exceeded"}"#)
                : .respond(status: 200, headers: [], body: #"{"AccountAssociationId":"aa-1"}"#)
        })
        let reply = try await httpExchange(gw.address("unix"),
                                           body: rpc(1, "iot-managed-integrations.CreateAccountAssociation", ["ConnectorDestinationId": "dest-1"]))
        #expect(reply.json?["result"]?["AccountAssociationId"] == "aa-1")
        let sent = gw.fake.requests
        #expect(sent.count == 2)
        let tokens = sent.compactMap { (try? JSON.parse($0.body))?["ClientToken"]?.stringValue }
        #expect(tokens.count == 2 && tokens[0] == tokens[1])
        #expect(tokens[0].count == 36)
        // A throttling retry waits up to the 1 s base (full jitter).
        #expect(gw.sleeps.recorded.count == 1 && gw.sleeps.recorded[0] <= 1.0)
        await gw.stop()
    }

    @Test("500 forever: AWS_MAX_ATTEMPTS attempts, then -32010 marked retryable")
    func serverErrorForever() async throws {
        let gw = try await TestGateway(script: { _, _ in .respond(status: 500, headers: [("x-amzn-RequestId", "r")], body: #"{"__type":"InternalServerException","message":"boom"}"#) })
        let reply = try await httpExchange(gw.address("unix"), body: rpc(1, "networkmanager.AssociateConnectPeer", associateParams))
        #expect(gw.fake.requests.count == 3)
        #expect(reply.json?["error"]?["code"] == -32010)
        #expect(reply.json?["error"]?["data"]?["retryable"] == true)
        #expect(gw.sleeps.recorded.allSatisfy { $0 <= 0.05 * 4 })
        await gw.stop()
    }

    @Test("a permanent error is not retried")
    func permanentError() async throws {
        let gw = try await TestGateway(script: { _, _ in .respond(status: 400, headers: [("x-amzn-ErrorType", "ValidationException")], body: #"{"message":"bad"}"#) })
        let reply = try await httpExchange(gw.address("unix"), body: rpc(1, "networkmanager.AssociateConnectPeer", associateParams))
        #expect(gw.fake.requests.count == 1)
        #expect(reply.json?["error"]?["data"]?["type"] == "ValidationException")
        await gw.stop()
    }

    @Test("a dropped connection is retried")
    func droppedConnection() async throws {
        let gw = try await TestGateway(script: { request, attempt in attempt == 1 ? .drop : FakeAWS.okAssociate(request, attempt) })
        let reply = try await httpExchange(gw.address("unix"), body: rpc(1, "networkmanager.AssociateConnectPeer", associateParams))
        #expect(reply.json?["result"] != nil)
        #expect(gw.fake.requests.count == 2)
        await gw.stop()
    }

    @Test("AWS unreachable: -32011 after every attempt, with the attempts and the cause")
    func unreachable() async throws {
        let gw = try await TestGateway()
        await gw.fake.stop()
        let reply = try await httpExchange(gw.address("unix"), body: rpc(1, "networkmanager.AssociateConnectPeer", associateParams))
        let error = try #require(reply.json?["error"])
        #expect(error["code"] == -32011)
        #expect(error["data"]?["attempts"] == 3)
        #expect(error["data"]?["cause"]?.stringValue?.isEmpty == false)
        await gw.stop()
    }

    @Test("$timeoutMs bounds the call: a slow AWS gives -32011 in time")
    func callTimeout() async throws {
        let gw = try await TestGateway(script: { _, _ in .respond(status: 200, headers: [], body: "{}", delay: 3) })
        var params = associateParams
        if case .object(var o) = params { o["$timeoutMs"] = 300; params = .object(o) }
        let started = Date()
        let reply = try await httpExchange(gw.address("unix"), body: rpc(1, "networkmanager.AssociateConnectPeer", params))
        #expect(Date().timeIntervalSince(started) < 2.5)
        #expect(reply.json?["error"]?["code"] == -32011)
        await gw.stop()
    }

    @Test("x-amz-retry-after is honoured")
    func retryAfter() async throws {
        let gw = try await TestGateway(script: { request, attempt in
            attempt == 1 ? .respond(status: 503, headers: [("x-amz-retry-after", "1500")], body: "") : FakeAWS.okAssociate(request, attempt)
        })
        _ = try await httpExchange(gw.address("unix"), body: rpc(1, "networkmanager.AssociateConnectPeer", associateParams))
        #expect(gw.sleeps.recorded == [1.5])
        await gw.stop()
    }
}

@Suite("Gateway under load and at shutdown", .serialized)
struct GatewayLoadTests {
    @Test("500 concurrent calls are all answered exactly once")
    func fiveHundredConcurrent() async throws {
        let gw = try await TestGateway()
        let tcp = gw.address("tcp")
        let answers = try await withThrowingTaskGroup(of: [JSON].self) { group in
            for connection in 0..<10 {
                let lines = (0..<50).map { rpc(.int(Int64(connection * 50 + $0)), "networkmanager.AssociateConnectPeer", associateParams) }
                group.addTask { try await ndjsonExchange(tcp, lines: lines, expect: 50) }
            }
            var all: [JSON] = []
            for try await batch in group { all += batch }
            return all
        }
        let ids = answers.compactMap { $0["id"]?.intValue }
        #expect(ids.count == 500)
        #expect(Set(ids).count == 500)
        #expect(answers.allSatisfy { $0["result"] != nil })
        #expect(gw.fake.requests.count == 500)
        await gw.stop()
    }

    @Test("graceful shutdown: calls in flight are answered, then connections and the socket go")
    func gracefulShutdown() async throws {
        let gw = try await TestGateway(script: { _, _ in
            .respond(status: 200, headers: [], body: #"{"ConnectPeerAssociation":{"State":"PENDING"}}"#, delay: 2)
        })
        let unix = gw.address("unix")
        async let reply = httpExchange(unix, body: rpc(1, "networkmanager.AssociateConnectPeer", associateParams))
        // Wait until the call is at AWS, then stop.
        for _ in 0..<200 where gw.fake.requests.isEmpty { try await Task.sleep(nanoseconds: 10_000_000) }
        let stopping = Task { await gw.server.shutdown() }
        // No new connections while stopping: the listener goes at once (polled, not slept: CI is slow),
        // long before the call in flight is answered.
        var refused = false
        for _ in 0..<150 where !refused {
            do { _ = try RawSocket(unix); try await Task.sleep(nanoseconds: 10_000_000) } catch { refused = true }
        }
        #expect(refused)
        #expect(gw.fake.requests.count == 1)
        let answered = try await reply
        #expect(answered.json?["result"]?["ConnectPeerAssociation"]?["State"] == "PENDING")
        await stopping.value
        #expect(access(gw.socketPath, F_OK) != 0)
        await gw.stop()
    }
}

@Suite("Gateway limits", .serialized)
struct GatewayLimitTests {
    @Test("connections over the limit are closed at once and counted, when none is idle")
    func connectionLimit() async throws {
        let gw = try await TestGateway(configure: { $0.limits.maxConnections = 2 })
        let unix = gw.address("unix")
        let third = try await onThread { () -> [UInt8] in
            let a = try RawSocket(unix), b = try RawSocket(unix)
            // Both busy: a request head has started on each (idle ones would be reaped).
            try a.write("POST / HTTP/1.1\r\n")
            try b.write("POST / HTTP/1.1\r\n")
            Thread.sleep(forTimeInterval: 0.2)
            let c = try RawSocket(unix, timeoutSeconds: 3)
            let bytes = c.readToEnd()
            _ = (a, b)
            return bytes
        }
        #expect(third.isEmpty)
        // Once the others are gone, a new connection is served again.
        try await Task.sleep(nanoseconds: 200_000_000)
        #expect(try await httpExchange(unix, method: "GET", path: "/healthz").status == 200)
        let metrics = try await httpExchange(unix, method: "GET", path: "/metrics")
        #expect(metrics.body.contains("awsgw_connections_rejected_total 1"))
        await gw.stop()
    }

    @Test("a request that stalls mid-body gets 408 and the connection is closed")
    func headerTimeout() async throws {
        let gw = try await TestGateway(configure: { $0.limits.headerTimeoutSeconds = 0.3 })
        let unix = gw.address("unix")
        let started = Date()
        let reply = try await onThread { () -> HTTPReply? in
            let socket = try RawSocket(unix, timeoutSeconds: 15)
            try socket.write("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"jsonrpc\"")
            return HTTPReply.parse(socket.readToEnd())
        }
        #expect(reply?.status == 408)
        #expect(Date().timeIntervalSince(started) < 10)
        #expect(gw.fake.requests.isEmpty)
        await gw.stop()
    }

    @Test("a client trickling a request head is cut off at the header timeout")
    func slowHead() async throws {
        let gw = try await TestGateway(configure: { $0.limits.headerTimeoutSeconds = 0.3 })
        let unix = gw.address("unix")
        let started = Date()
        let bytes = try await onThread { () -> Int in
            let socket = try RawSocket(unix, timeoutSeconds: 15)
            try socket.write("POST / HTTP/1.1\r\nHost: x\r\n")
            return socket.readToEnd().count
        }
        #expect(bytes == 0)
        #expect(Date().timeIntervalSince(started) < 10)
        // A well-behaved keep-alive client is not affected across requests.
        let raw = try await onThread { () -> String in
            let socket = try RawSocket(unix, timeoutSeconds: 15)
            let body = rpc(1, "networkmanager.AssociateConnectPeer", associateParams)
            try socket.write("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)")
            Thread.sleep(forTimeInterval: 0.5)
            try socket.write("POST / HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)")
            return String(decoding: socket.readToEnd(), as: UTF8.self)
        }
        #expect(raw.components(separatedBy: "HTTP/1.1 200 OK").count == 3)
        await gw.stop()
    }

    @Test("an idle connection is closed after the idle timeout")
    func idleTimeout() async throws {
        let gw = try await TestGateway(configure: { $0.limits.idleTimeoutSeconds = 0.3 })
        let tcp = gw.address("tcp")
        let started = Date()
        let silent = try await onThread { () -> Int in
            let socket = try RawSocket(tcp, timeoutSeconds: 15)
            return socket.readToEnd().count
        }
        #expect(silent == 0)
        #expect(Date().timeIntervalSince(started) < 10)
        // A keep-alive NDJSON connection with a call pending is not idle.
        let slow = try await TestGateway(configure: { $0.limits.idleTimeoutSeconds = 0.3 }, script: { _, _ in
            .respond(status: 200, headers: [], body: #"{"ConnectPeerAssociation":{"State":"PENDING"}}"#, delay: 0.8)
        })
        let answers = try await ndjsonExchange(slow.address("tcp"), lines: [rpc(1, "networkmanager.AssociateConnectPeer", associateParams)], expect: 1)
        #expect(answers.first?["result"] != nil)
        await slow.stop()
        await gw.stop()
    }

    @Test("calls over the in-flight limit are answered at once with an error")
    func inFlightLimit() async throws {
        let gw = try await TestGateway(configure: { $0.limits.maxInFlightCalls = 1 }, script: { _, _ in
            .respond(status: 200, headers: [], body: #"{"ConnectPeerAssociation":{"State":"PENDING"}}"#, delay: 0.5)
        })
        let answers = try await ndjsonExchange(gw.address("tcp"), lines: [
            rpc(1, "networkmanager.AssociateConnectPeer", associateParams), rpc(2, "networkmanager.AssociateConnectPeer", associateParams),
        ], expect: 2)
        #expect(answers.count == 2)
        #expect(answers.contains { $0["result"] != nil })
        #expect(answers.contains { $0["error"]?["data"]?["limit"] == 1 })
        await gw.stop()
    }

    @Test("an NDJSON line over the body limit is answered with -32600 and the connection closed")
    func longLine() async throws {
        let gw = try await TestGateway(configure: { $0.limits.maxBodyBytes = 1000 })
        let answers = try await ndjsonExchange(gw.address("tcp"), lines: [String(repeating: " ", count: 2000)], expect: 1)
        #expect(answers.first?["error"]?["code"] == -32600)
        #expect(answers.first?["error"]?["data"]?["limit"] == 1000)
        await gw.stop()
    }
}

@Suite("Gateway with curl", .serialized)
struct CurlTests {
    @Test("curl --unix-socket, including a body large enough for Expect: 100-continue",
          .enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/curl") || ProcessInfo.processInfo.environment["CI"] == "true",
                   "curl is not installed (make test installs it where it can)"))
    func curl() async throws {
        let gw = try await TestGateway()
        let body = rpc(1, "networkmanager.CreateConnection", ["GlobalNetworkId": "g", "DeviceId": "d", "ConnectedDeviceId": "e",
                                                               "Description": .string(String(repeating: "d", count: 3000))])
        gw.fake.setScript { _, _ in .respond(status: 200, headers: [], body: #"{"Connection":{"ConnectionId":"c-1"}}"#) }
        let socketPath = gw.socketPath
        let (output, trace) = try await onThread { () -> (String, String) in
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
            process.arguments = ["-sv", "--unix-socket", socketPath, "-H", "Expect: 100-continue", "http://localhost/", "--data-binary", body]
            let out = Pipe(), err = Pipe()
            process.standardOutput = out
            process.standardError = err
            try process.run()
            let data = out.fileHandleForReading.readDataToEndOfFile()
            let verbose = err.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            return (String(decoding: data, as: UTF8.self), String(decoding: verbose, as: UTF8.self))
        }
        #expect(try JSON.parse(output)["result"]?["Connection"]?["ConnectionId"] == "c-1", "\(output)")
        #expect(trace.contains("HTTP/1.1 100 Continue"), "the gateway said 100 Continue rather than let curl wait")
        await gw.stop()
    }
}
