import AWSCredentials
import AWSJSON
import AWSModels
import AWSSigning
import Foundation
import GatewayCore
import GatewayServer
import GatewayApp
import GatewayTesting
import GatewayTransport
import NIOPosix
import Testing
import TestSupport

#if canImport(Glibc)
import Glibc
#endif

@Suite("Audit log of a running awsgw serve", .serialized)
struct AuditProcessTests {
    @Test("kill -9 mid-write: every flushed record is read back; no secret in any log or output")
    func killNine() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let fake = try await FakeAWS(group: group, script: FakeAWS.okAssociate)
        let dir = try tempDir("kill9")
        let file = dir + "/awsgw.yaml"
        try """
        listen: ["unix:\(dir)/gw.sock"]
        region: us-east-1
        logs: { dir: \(dir)/logs, params: full }
        credentials: { default: { source: env } }
        teams: { all: { members: [ "uid:\(getuid())", "token-sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08" ], allow: ["*:*"] } }
        """.write(toFile: file, atomically: true, encoding: .utf8)
        let secret = "SUPERSECRETKEY0123456789abcdefghijklmnop", sessionToken = "SESSIONTOKEN-DO-NOT-LOG"
        let serve = try ServeProcess(["--config", file, "--log-level", "debug"], environment: [
            "PATH": "/usr/bin:/bin", "HOME": dir, "AWSGW_MODELS": Fixtures.modelsDir, "AWS_ENDPOINT_URL": fake.url,
            "AWS_ACCESS_KEY_ID": "AKIDKILL9", "AWS_SECRET_ACCESS_KEY": secret, "AWS_SESSION_TOKEN": sessionToken,
        ])
        _ = try await serve.listening(1)
        let unix = ListenAddress.unix(path: dir + "/gw.sock")
        var withToken = associateParams
        if case .object(var o) = withToken { o["$token"] = "test"; withToken = .object(o) }
        for i in 0..<39 {
            _ = try await httpExchange(unix, body: rpc(.int(Int64(i)), "networkmanager.AssociateConnectPeer", i % 2 == 0 ? withToken : associateParams),
                                       headers: i % 3 == 0 ? [("Authorization", "Bearer test")] : [])
        }
        // A value the model marks sensitive stays out of the log even with params: full.
        _ = try await httpExchange(unix, body: rpc(39, "account.VerifyPhoneNumber", ["Otp": "OTP-987654", "AccountId": "123456789012"]))
        try await Task.sleep(nanoseconds: 1_500_000_000)  // past the 1 s flush
        serve.signal(SIGKILL)
        let (_, stderr) = try await serve.exit()
        let records = try readRecords(dir + "/logs")
        #expect(records.count == 40)
        #expect(Set(records.compactMap { $0["decision"]?.stringValue }) == ["allowed"])
        #expect(records.last?["params"]?["Otp"] == "***")
        #expect(records.last?["params"]?["AccountId"] == "123456789012")
        let cat = try await runProcess(["logs", "cat", "--method", "networkmanager.AssociateConnectPeer"] + AuditLog.logFiles(in: dir + "/logs"),
                                       environment: ["PATH": "/usr/bin:/bin"])
        #expect(cat.0 == 0)
        #expect(cat.1.split(separator: "\n").count == 39)
        // The file was cut short by the kill: its records are read, and a warning says so.
        #expect(cat.2.contains("ends early"))
        // A folder is read whole, in time order; --since takes a duration.
        let folder = try await runProcess(["logs", "cat", "--since", "1h", dir + "/logs"], environment: [:])
        #expect(folder.0 == 0 && folder.1.split(separator: "\n").count == 40)
        let badSince = try await runProcess(["logs", "cat", "--since", "yesterday", dir + "/logs"], environment: [:])
        #expect(badSince.0 == 2 && badSince.2.contains("15m"))
        let files = AuditLog.logFiles(in: dir + "/logs")
        #expect(try await runProcess(["logs", "cat", "--team", "all"] + files, environment: [:]).1.split(separator: "\n").count == 40)
        #expect(try await runProcess(["logs", "cat", "--method", "account.VerifyPhoneNumber"] + files, environment: [:]).1.split(separator: "\n").count == 1)
        #expect(try await runProcess(["logs", "cat", "--team", "nobody"] + files, environment: [:]).1.isEmpty)
        #expect(try await runProcess(["logs", "cat", "--since", "2999-01-01T00:00:00Z"] + files, environment: [:]).1.isEmpty)
        #expect(try await runProcess(["logs", "cat", "--since", "2000-01-01"] + files, environment: [:]).1.split(separator: "\n").count == 40)
        let everything = records.map { $0.serializedString() }.joined() + stderr + cat.1
        for secretText in [secret, sessionToken, "Bearer test", "\"$token\"", "OTP-987654"] {
            #expect(!everything.contains(secretText), "\(secretText) leaked")
        }
        await fake.stop()
        try? await group.shutdownGracefully()
        try? FileManager.default.removeItem(atPath: dir)
    }
}
