import AWSCredentials
import AWSJSON
import AWSSigning
import Foundation
import GatewayCore
import GatewayServer
import GatewayTesting
import GatewayTransport
import Testing

#if canImport(Glibc)
import Glibc
#endif

@Suite("Identities and team policy through real sockets", .serialized)
struct PolicyEndToEndTests {
    @Test("Unix peer credentials: the caller's real uid and gid decide its team")
    func unixPeerCredentials() async throws {
        let me = getuid(), myGroup = getgid()
        let admitted = try await TestGateway(policy: Policy(teams: [Team(name: "me", members: [.uid(me)], allow: [OperationPattern("networkmanager:*")!])]))
        let ok = try await httpExchange(admitted.address("unix"), body: rpc(1, "networkmanager.AssociateConnectPeer", associateParams))
        #expect(ok.json?["result"] != nil)
        // The same caller over TCP has no peer credentials: denied.
        let overTCP = try await httpExchange(admitted.address("tcp"), body: rpc(1, "networkmanager.AssociateConnectPeer", associateParams))
        #expect(overTCP.json?["error"]?["code"] == -32001)
        #expect(overTCP.json?["error"]?["data"]?["identity"] == "anonymous")
        await admitted.stop()

        let byGroup = try await TestGateway(policy: Policy(teams: [Team(name: "grp", members: [.gid(myGroup)], allow: [OperationPattern("*:*")!])]))
        #expect(try await httpExchange(byGroup.address("unix"), body: rpc(1, "networkmanager.AssociateConnectPeer", associateParams)).json?["result"] != nil)
        await byGroup.stop()

        let other = try await TestGateway(policy: Policy(teams: [Team(name: "other", members: [.uid(me &+ 4242)], allow: [OperationPattern("*:*")!])]))
        let denied = try await httpExchange(other.address("unix"), body: rpc(1, "networkmanager.AssociateConnectPeer", associateParams))
        let error = try #require(denied.json?["error"])
        #expect(error["code"] == -32001)
        #expect(error["data"]?["identity"] == .string("uid:\(me)"))
        #expect(error["data"]?["rule"] == "(no team's members match)")
        #expect(other.fake.requests.isEmpty)
        await other.stop()
    }

    @Test("allow and deny: deny wins, the deciding rule is named, nothing reaches AWS")
    func allowDeny() async throws {
        let team = Team(name: "ops", members: [.any], allow: [OperationPattern("networkmanager:*")!],
                        deny: [OperationPattern("networkmanager:Disassociate*")!])
        let gw = try await TestGateway(policy: Policy(teams: [team]))
        let unix = gw.address("unix")
        #expect(try await httpExchange(unix, body: rpc(1, "networkmanager.AssociateConnectPeer", associateParams)).json?["result"] != nil)
        let denied = try await httpExchange(unix, body: rpc(2, "networkmanager.disassociate_connect_peer", ["GlobalNetworkId": "g", "ConnectPeerId": "c"]))
        #expect(denied.json?["error"]?["code"] == -32001)
        #expect(denied.json?["error"]?["data"]?["rule"] == "networkmanager:Disassociate*")
        let notAllowed = try await httpExchange(unix, body: rpc(3, "LambdaCore.GetNetworkConnector", ["Identifier": "nc-1"]))
        #expect(notAllowed.json?["error"]?["data"]?["rule"] == "(no allow rule matches)")
        #expect(gw.fake.requests.count == 1)
        await gw.stop()
    }

    @Test("bearer tokens: from the Authorization header or $token, matched by SHA-256, never echoed")
    func bearerTokens() async throws {
        let digest = MemberPattern("token-sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08")!
        let gw = try await TestGateway(policy: Policy(teams: [Team(name: "ci", members: [digest], allow: [OperationPattern("*:*")!])]))
        let tcp = gw.address("tcp")
        let viaHeader = try await httpExchange(tcp, body: rpc(1, "networkmanager.AssociateConnectPeer", associateParams), headers: [("Authorization", "Bearer test")])
        #expect(viaHeader.json?["result"] != nil)
        // The scheme's name has no case (RFC 9110 §11.1); spaces around the token are not part of it.
        let anyCase = try await httpExchange(tcp, body: rpc(1, "networkmanager.AssociateConnectPeer", associateParams), headers: [("Authorization", "bEaReR  test ")])
        #expect(anyCase.json?["result"] != nil)
        let otherScheme = try await httpExchange(tcp, body: rpc(1, "networkmanager.AssociateConnectPeer", associateParams), headers: [("Authorization", "Basic test")])
        #expect(otherScheme.json?["error"]?["code"] == -32001)
        var withToken = associateParams
        if case .object(var o) = withToken { o["$token"] = "test"; withToken = .object(o) }
        let viaParam = try await ndjsonExchange(tcp, lines: [rpc(1, "networkmanager.AssociateConnectPeer", withToken)], expect: 1)
        #expect(viaParam.first?["result"] != nil)
        // $token is the gateway's: it never reaches AWS.
        #expect(gw.fake.requests.count == 3 && gw.fake.requests.allSatisfy { !$0.bodyText.contains("$token") })
        let wrong = try await httpExchange(tcp, body: rpc(1, "networkmanager.AssociateConnectPeer", associateParams), headers: [("Authorization", "Bearer SECRET-WRONG-TOKEN")])
        #expect(wrong.json?["error"]?["code"] == -32001)
        #expect(!wrong.body.contains("SECRET-WRONG-TOKEN"))
        #expect(wrong.json?["error"]?["data"]?["identity"]?.stringValue?.hasPrefix("token-sha256:") == true)
        await gw.stop()
    }

    @Test("each team's calls are signed with its own credentials and region")
    func perTeamCredentials() async throws {
        let netopsKeys = StaticCredentialProvider(Credentials(accessKeyId: "AKIDNETOPS", secretAccessKey: "netops-secret"))
        let policy = Policy(teams: [
            Team(name: "netops", members: [.uid(getuid())], credentials: "netops", region: "eu-west-1", allow: [OperationPattern("*:*")!]),
            Team(name: "rest", members: [.any], allow: [OperationPattern("*:*")!]),
        ])
        let gw = try await TestGateway(policy: policy, extraSources: ["netops": netopsKeys])
        _ = try await httpExchange(gw.address("unix"), body: rpc(1, "lambda-core.GetNetworkConnector", ["Identifier": "nc-1"]))
        _ = try await httpExchange(gw.address("tcp"), body: rpc(2, "lambda-core.GetNetworkConnector", ["Identifier": "nc-1"]))
        let authorizations = gw.fake.requests.compactMap { $0.header("Authorization") }
        #expect(authorizations.count == 2)
        #expect(authorizations[0].contains("Credential=AKIDNETOPS/") && authorizations[0].contains("/eu-west-1/lambda/"))
        #expect(authorizations[1].contains("Credential=AKIDEXAMPLE/") && authorizations[1].contains("/us-east-1/lambda/"))
        await gw.stop()
    }

    @Test("mTLS: the client certificate's CN is the identity")
    func certificateIdentity() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("awsgw-cn-\(UUID().uuidString.prefix(8))").path
        let server = try DevCertificate.generate(dir: dir, hosts: ["localhost", "127.0.0.1"])
        let clientCA = try TestCA(commonName: "clients CA")
        try clientCA.write(to: dir + "/clients-ca.pem")
        let netops = try clientCA.issueClient(commonName: "netops-app", dir: dir)
        let intruder = try clientCA.issueClient(commonName: "other-app", dir: dir)
        let gw = try await TestGateway(
            listen: ["tls:127.0.0.1:0"],
            configure: { $0.tls = TLSConfig(cert: server.certificate, key: server.key, clientCA: dir + "/clients-ca.pem") },
            policy: Policy(teams: [Team(name: "netops", members: [.commonName("netops-app")], allow: [OperationPattern("*:*")!])]))
        guard case .tls(_, let port) = gw.address("tls") else { Issue.record("no tls listener"); return }
        let body = rpc(1, "networkmanager.AssociateConnectPeer", associateParams)
        let ok = try await tlsExchange(port: port, ca: server.certificate, client: netops, body: body, group: gw.group)
        #expect(ok.json?["result"] != nil)
        let denied = try await tlsExchange(port: port, ca: server.certificate, client: intruder, body: body, group: gw.group)
        #expect(denied.json?["error"]?["code"] == -32001)
        #expect(denied.json?["error"]?["data"]?["identity"] == "cn:other-app")
        await gw.stop()
        try? FileManager.default.removeItem(atPath: dir)
    }

    @Test("over the rate limit: -32002 with retryAfterMs, and nothing reaches AWS")
    func rateLimited() async throws {
        let limiter = RateLimiter(limits: ["everyone": .init(team: Rate("1/m burst 2")!, operations: [])])
        let gw = try await TestGateway(rateLimiter: limiter)
        let answers = try await ndjsonExchange(gw.address("tcp"), lines: (1...3).map { rpc(.int(Int64($0)), "networkmanager.AssociateConnectPeer", associateParams) }, expect: 3)
        let limited = answers.filter { $0["error"]?["code"] == -32002 }
        #expect(limited.count == 1)
        let wait = limited.first?["error"]?["data"]?["retryAfterMs"]?.intValue ?? 0
        #expect(wait > 50_000 && wait <= 60_000)
        #expect(gw.fake.requests.count == 2)
        await gw.stop()
    }

    @Test("a throttling answer from AWS holds back that team's next calls of the operation")
    func adaptiveSlowdown() async throws {
        let gw = try await TestGateway(script: { _, _ in .respond(status: 400, headers: [("x-amzn-ErrorType", "ThrottlingException")], body: "{}") })
        let first = try await httpExchange(gw.address("unix"), body: rpc(1, "networkmanager.AssociateConnectPeer", associateParams))
        #expect(first.json?["error"]?["code"] == -32010)
        let held = try await httpExchange(gw.address("unix"), body: rpc(2, "networkmanager.AssociateConnectPeer", associateParams))
        #expect(held.json?["error"]?["code"] == -32002)
        let attemptsSoFar = gw.fake.requests.count
        #expect(attemptsSoFar == 3)
        await gw.stop()
    }
}

@Suite("Cached reads through the gateway", .serialized)
struct CacheEndToEndTests {
    static func cache() -> ResponseCache {
        var settings = CacheSettings()
        settings.ttl = [(OperationPattern("*:*")!, 60)]
        return ResponseCache(settings: settings)
    }

    static let get = rpc(1, "lambda-core.GetNetworkConnector", ["Identifier": "nc-1"])

    @Test("100 concurrent identical gets make exactly one call to AWS")
    func singleFlight() async throws {
        let gw = try await TestGateway(cache: Self.cache(), script: { _, _ in .respond(status: 200, headers: [], body: #"{"Id":"nc-1"}"#, delay: 0.3) })
        let lines = (0..<100).map { rpc(.int(Int64($0)), "lambda-core.GetNetworkConnector", ["Identifier": "nc-1"]) }
        let answers = try await withThrowingTaskGroup(of: [JSON].self) { group in
            for chunk in 0..<4 {
                let part = Array(lines[(chunk * 25)..<((chunk + 1) * 25)])
                group.addTask { try await ndjsonExchange(gw.address("tcp"), lines: part, expect: 25) }
            }
            var all: [JSON] = []
            for try await batch in group { all += batch }
            return all
        }
        #expect(answers.count == 100 && answers.allSatisfy { $0["result"]?["Id"] == "nc-1" })
        #expect(gw.fake.requests.count == 1)
        await gw.stop()
    }

    @Test("hit, bypass, refresh; errors are not cached; metrics count hits")
    func modes() async throws {
        let gw = try await TestGateway(cache: Self.cache(), script: { _, attempt in
            attempt == 1 ? .respond(status: 404, headers: [("x-amzn-ErrorType", "ResourceNotFoundException")], body: "{}")
                : .respond(status: 200, headers: [], body: #"{"Id":"nc-\#(attempt)"}"#)
        })
        let unix = gw.address("unix")
        func call(_ cacheMode: String? = nil) async throws -> JSON? {
            var params = JSONObject([("Identifier", "nc-1")])
            if let cacheMode { params["$cache"] = .string(cacheMode) }
            return try await httpExchange(unix, body: rpc(1, "lambda-core.GetNetworkConnector", .object(params))).json
        }
        #expect(try await call()?["error"]?["code"] == -32010)     // upstream 1: error, not cached
        #expect(try await call()?["result"]?["Id"] == "nc-2")      // upstream 2: stored
        #expect(try await call()?["result"]?["Id"] == "nc-2")      // hit
        #expect(try await call("bypass")?["result"]?["Id"] == "nc-3")  // upstream 3, not stored
        #expect(try await call()?["result"]?["Id"] == "nc-2")      // still the stored one
        #expect(try await call("refresh")?["result"]?["Id"] == "nc-4") // upstream 4, stored
        #expect(try await call()?["result"]?["Id"] == "nc-4")
        #expect(gw.fake.requests.count == 4)
        let metrics = try await httpExchange(unix, method: "GET", path: "/metrics").body
        #expect(metrics.contains(#"awsgw_cache_total{result="hit"} 3"#))
        await gw.stop()
    }

    @Test("a mutating call drops the service's entries for the same credentials")
    func invalidation() async throws {
        let gw = try await TestGateway(cache: Self.cache(), script: { request, attempt in
            .respond(status: request.method == "DELETE" ? 202 : 200, headers: [], body: #"{"Id":"v\#(attempt)"}"#)
        })
        let unix = gw.address("unix")
        #expect(try await httpExchange(unix, body: Self.get).json?["result"]?["Id"] == "v1")
        #expect(try await httpExchange(unix, body: Self.get).json?["result"]?["Id"] == "v1")
        _ = try await httpExchange(unix, body: rpc(2, "lambda-core.DeleteNetworkConnector", ["Identifier": "nc-1"]))
        #expect(try await httpExchange(unix, body: Self.get).json?["result"]?["Id"] == "v3")
        await gw.stop()
    }

    @Test("no cross-team leak: teams with different credentials never share entries")
    func noCrossTeamLeak() async throws {
        let other = StaticCredentialProvider(Credentials(accessKeyId: "AKIDOTHER", secretAccessKey: "other"))
        let policy = Policy(teams: [
            Team(name: "mine", members: [.uid(getuid())], credentials: "other", allow: [OperationPattern("*:*")!]),
            Team(name: "rest", members: [.any], allow: [OperationPattern("*:*")!]),
        ])
        let gw = try await TestGateway(policy: policy, extraSources: ["other": other], cache: Self.cache(), script: { request, _ in
            .respond(status: 200, headers: [], body: #"{"Id":"\#(request.header("Authorization")?.contains("AKIDOTHER") == true ? "other" : "default")"}"#)
        })
        #expect(try await httpExchange(gw.address("unix"), body: Self.get).json?["result"]?["Id"] == "other")
        #expect(try await httpExchange(gw.address("tcp"), body: Self.get).json?["result"]?["Id"] == "default")
        #expect(try await httpExchange(gw.address("tcp"), body: Self.get).json?["result"]?["Id"] == "default")
        #expect(gw.fake.requests.count == 2)
        await gw.stop()
    }
}
