import AWSCredentials
import AWSJSON
import AWSModels
import AWSSigning
import Foundation
import GatewayCore
import GatewayServer
import GatewayTesting
import GatewayTransport
import NIOPosix
import Testing
import TestSupport

#if canImport(Glibc)
import Glibc
#endif

@Suite("Audit log of a served gateway", .serialized)
struct AuditLogTests {
    @Test("records for every decision, with what AWS said; never a token; params as configured")
    func recordsThroughTheGateway() async throws {
        let dir = try tempDir("audit")
        var settings = AuditLogSettings()
        settings.dir = dir
        let log = try AuditLog(settings: settings)
        var cacheSettings = CacheSettings()
        cacheSettings.ttl = [(OperationPattern("*:*")!, 60)]
        let policy = Policy(teams: [Team(name: "ops", members: [.any], allow: [OperationPattern("*:*")!], deny: [OperationPattern("*:Delete*")!])])
        let gw = try await TestGateway(policy: policy, rateLimiter: RateLimiter(limits: ["ops": .init(team: nil, operations: [(OperationPattern("networkmanager:Create*")!, Rate("1/m")!)])]),
                                       cache: ResponseCache(settings: cacheSettings), audit: log, script: { _, _ in
            .respond(status: 200, headers: [("x-amzn-RequestId", "req-42")], body: #"{"Id":"nc-1"}"#)
        })
        let unix = gw.address("unix")
        var withToken = associateParams
        if case .object(var o) = withToken { o["$token"] = "BEARER-SECRET"; withToken = .object(o) }
        _ = try await httpExchange(unix, body: rpc(1, "networkmanager.AssociateConnectPeer", withToken))
        _ = try await httpExchange(unix, body: rpc(2, "lambda-core.GetNetworkConnector", ["Identifier": "nc-1"]))
        _ = try await httpExchange(unix, body: rpc(3, "lambda-core.GetNetworkConnector", ["Identifier": "nc-1"]))
        _ = try await httpExchange(unix, body: rpc(4, "lambda-core.DeleteNetworkConnector", ["Identifier": "nc-1"]))
        let create = rpc(5, "networkmanager.CreateLink", ["GlobalNetworkId": "g", "SiteId": "s", "Bandwidth": ["UploadSpeed": 1]])
        _ = try await httpExchange(unix, body: create)
        _ = try await httpExchange(unix, body: create)
        _ = try await httpExchange(unix, body: rpc(7, "networkmanager.AssociateConnectPeer", ["DeviceId": 1]))
        _ = try await httpExchange(unix, body: "{oops")
        _ = try await httpExchange(unix, body: rpc(nil, "networkmanager.AssociateConnectPeer", associateParams))
        await gw.stop()
        log.close()

        let records = try readRecords(dir)
        #expect(records.count == 9)
        let decisions = records.compactMap { $0["decision"]?.stringValue }
        #expect(decisions == ["allowed", "allowed", "allowed", "denied", "allowed", "rate-limited", "invalid", "invalid", "allowed"])
        #expect(records.map { $0["cache"]?.stringValue ?? "" } == ["none", "miss", "hit", "none", "none", "none", "none", "none", "none"])
        let first = records[0]
        for field in ["time", "listener", "door", "identity", "team", "method", "decision", "cache", "attempts", "latencyMs", "bytesIn", "bytesOut"] {
            #expect(first[field] != nil, "\(field)")
        }
        // Every record names the door the call came through, the unreadable ones too.
        #expect(records.allSatisfy { $0["door"] == "jsonrpc" })
        #expect(first["method"] == "networkmanager.AssociateConnectPeer")
        #expect(first["awsRequestId"] == "req-42")
        #expect(first["attempts"] == 1)
        #expect(first["code"] == nil)
        #expect(first["params"] == ["GlobalNetworkId", "ConnectPeerId", "DeviceId"])
        #expect(records[3]["code"] == -32001)
        #expect(records[5]["code"] == -32002)
        #expect(records[7]["code"] == -32700)
        #expect(records[8]["notification"] == true)
        let everything = try readRecords(dir).map { $0.serializedString() }.joined()
        #expect(!everything.contains("BEARER-SECRET"))
        #expect(!everything.contains("wJalrXUtnFEMI"))
        for file in AuditLog.logFiles(in: dir) { #expect(try gzipTest(file) == 0) }
        try? FileManager.default.removeItem(atPath: dir)
    }
}
