import AWSCredentials
import AWSJSON
import AWSModels
import AWSSigning
import Foundation
import GatewayCore
import GatewayServer
import NIOPosix
import Testing
import TestSupport

#if canImport(Glibc)
import Glibc
#endif

func tempDir(_ name: String) throws -> String {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("awsgw-\(name)-\(UUID().uuidString.prefix(8))").path
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    return dir
}

/// Every record in a log folder, read with the same lenient reader as `awsgw logs cat`.
func readRecords(_ dir: String) throws -> [JSON] {
    var records: [JSON] = []
    for file in ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).sorted() where file.hasSuffix(".jsonl.gz") {
        let text = try Inflater.inflate(Array(FileManager.default.contents(atPath: dir + "/" + file)!), allowTruncated: true)
        for line in text.split(separator: UInt8(ascii: "\n")) { if let record = try? JSON.parse(Array(line)) { records.append(record) } }
    }
    return records
}

func gzipTest(_ path: String) throws -> Int32 {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/bin/gzip")
    process.arguments = ["-t", path]
    process.standardError = FileHandle.nullDevice
    try process.run()
    process.waitUntilExit()
    return process.terminationStatus
}

@Suite("Audit log", .serialized)
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

    @Test("a log that records nothing leaves no file (a gateway that fails to start leaves no empty file)")
    func noEmptyFile() throws {
        let dir = try tempDir("empty")
        var settings = AuditLogSettings()
        settings.dir = dir
        let log = try AuditLog(settings: settings)
        log.close()
        #expect(AuditLog.logFiles(in: dir).isEmpty)
        try? FileManager.default.removeItem(atPath: dir)
    }

    @Test("rotation by size and retention of the newest files; finished files pass gzip -t")
    func rotationAndRetention() throws {
        let dir = try tempDir("rotate")
        var settings = AuditLogSettings()
        settings.dir = dir
        settings.rotateBytes = 2000
        settings.keep = 3
        let log = try AuditLog(settings: settings)
        for i in 0..<3000 {
            log.record(line: (["time": "2026-11-23T10:00:00Z", "n": .int(Int64(i)), "noise": .string(UUID().uuidString)] as JSON).serialized())
        }
        log.close()
        let files = AuditLog.logFiles(in: dir)
        #expect(files.count == 3)
        for file in files { #expect(try gzipTest(file) == 0, "\(file)") }
        let numbers = try readRecords(dir).compactMap { $0["n"]?.intValue }
        #expect(!numbers.isEmpty && numbers == Array(numbers.first!...2999), "the newest records, in order")
        try? FileManager.default.removeItem(atPath: dir)
    }

    @Test("compression ratio on realistic records is at least 8:1")
    func compressionRatio() throws {
        let dir = try tempDir("ratio")
        var settings = AuditLogSettings()
        settings.dir = dir
        let log = try AuditLog(settings: settings)
        var raw = 0
        let methods = ["networkmanager.AssociateConnectPeer", "lambda-core.GetNetworkConnector", "iot-managed-integrations.CreateAccountAssociation"]
        for i in 0..<20_000 {
            let record: JSON = [
                "time": .string("2026-11-23T10:\(String(format: "%02d", i / 1000 % 60)):\(String(format: "%02d", i % 60)).\(String(format: "%03d", i % 1000))Z"),
                "listener": "unix:/run/awsgw/awsgw.sock", "identity": .string("uid:\(1000 + i % 7)"), "team": i % 3 == 0 ? "netops" : "ci",
                "method": .string(methods[i % 3]), "decision": "allowed", "cache": i % 4 == 0 ? "hit" : "miss",
                "awsRequestId": .string(UUID().uuidString.lowercased()), "attempts": 1, "latencyMs": .double(Double(i % 900) / 10 + 3.7),
                "bytesIn": .int(Int64(150 + i % 40)), "bytesOut": .int(Int64(200 + i % 300)), "params": ["GlobalNetworkId", "ConnectPeerId", "DeviceId"],
            ]
            raw += record.serialized().count + 1
            log.record(line: record.serialized())
        }
        log.close()
        let compressed = AuditLog.logFiles(in: dir).reduce(0) { $0 + ((try? FileManager.default.attributesOfItem(atPath: $1)[.size] as? Int) ?? 0) }
        let ratio = Double(raw) / Double(compressed)
        #expect(ratio >= 8, "ratio \(ratio)")
        try? FileManager.default.removeItem(atPath: dir)
    }

    @Test("a full queue drops records and counts them; the caller never waits")
    func dropsWhenFull() throws {
        let dir = try tempDir("drops")
        var settings = AuditLogSettings()
        settings.dir = dir
        settings.queueLimit = 10
        let counter = DropCounter()
        let log = try AuditLog(settings: settings, onDrop: { counter.add() })
        for i in 0..<50_000 { log.record(line: (["n": .int(Int64(i))] as JSON).serialized()) }
        log.close()
        let written = try readRecords(dir).count
        #expect(written + log.dropped == 50_000)
        #expect(counter.count == log.dropped)
        try? FileManager.default.removeItem(atPath: dir)
    }
}

final class DropCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var n = 0
    func add() { lock.withLock { n += 1 } }
    var count: Int { lock.withLock { n } }
}

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
