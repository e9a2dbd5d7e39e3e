import AWSJSON
import GatewayCore
import GatewayServer
import GatewayApp
import GatewayTesting
import GatewayTransport
import Logging
import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import Testing
import TestSupport

#if canImport(Glibc)
import Glibc
#endif

@Suite("awsgw serve as a process", .serialized)
struct ServeProcessTests {
    @Test("call --paginate: every page fetched through the gateway (one request each, the token in the query), the merged result printed; call --wait")
    func callPaginate() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let fake = try await FakeAWS(group: group) { request, _ in
            let page = request.uri.contains("nextToken=t2") ? (#"[{"CoreNetworkId":"c3"}]"#, "")
                : request.uri.contains("nextToken=t1") ? (#"[{"CoreNetworkId":"c2"}]"#, #","NextToken":"t2""#)
                : (#"[{"CoreNetworkId":"c1"}]"#, #","NextToken":"t1""#)
            return .respond(status: 200, headers: [("Content-Type", "application/json")], body: #"{"CoreNetworks":\#(page.0)\#(page.1)}"#)
        }
        let dir = try tempDir("paginate")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try ReloadTests.config(dir: dir, allow: "*:*").replacingOccurrences(of: "1/m burst 3", with: "100/s")
            .write(toFile: dir + "/awsgw.yaml", atomically: true, encoding: .utf8)
        let environment = ["PATH": "/usr/bin:/bin", "HOME": dir, "AWSGW_MODELS": Fixtures.modelsDir, "AWS_ENDPOINT_URL": fake.url,
                           "AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY": "secret"]
        let serve = try ServeProcess(["--config", dir + "/awsgw.yaml", "--log-level", "error"], environment: environment)
        _ = try await serve.listening(1)
        let (status, out, err) = try await runProcess(["call", "networkmanager.ListCoreNetworks", "--paginate", "--connect", "unix:\(dir)/gw.sock"],
                                                      environment: environment)
        #expect(status == 0, "\(err)")
        #expect(try JSON.parse(out) == JSON.parse(#"{"CoreNetworks":[{"CoreNetworkId":"c1"},{"CoreNetworkId":"c2"},{"CoreNetworkId":"c3"}]}"#))
        // (The gateway's start-up check of its credentials is the other request.)
        #expect(fake.requests.map(\.uri).filter { $0.hasPrefix("/core-networks") } == ["/core-networks", "/core-networks?nextToken=t1", "/core-networks?nextToken=t2"])
        let dryRun = try await runProcess(["call", "networkmanager.ListCoreNetworks", "--paginate", "--dry-run"], environment: environment)
        #expect(dryRun.0 == 2)
        // --wait: the table is ACTIVE at once.
        fake.setScript { _, _ in .respond(status: 200, headers: [], body: #"{"Table":{"TableName":"t","TableStatus":"ACTIVE"}}"#) }
        let waited = try await runProcess(["call", "dynamodb.DescribeTable", #"{"TableName":"t"}"#, "--wait", "TableExists",
                                           "--connect", "unix:\(dir)/gw.sock"], environment: environment)
        #expect(waited.0 == 0 && waited.1.contains(#""TableStatus":"ACTIVE""#), "\(waited.2)")
        serve.signal(SIGTERM)
        _ = try await serve.exit()
        await fake.stop()
        try? await group.shutdownGracefully()
    }

    @Test("call prints an event stream's events as lines as they come (the first while AWS holds the rest), then the result")
    func callPrintsEvents() async throws {
        let gate = FakeAWS.Gate()
        let gw = try await TestGateway(script: FakeAWS.eventStream(EventStreamFrames.converseStream, gate: gate))
        let params = #"{"modelId":"m","messages":[{"role":"user","content":[{"text":"hi"}]}]}"#
        let call = try ServeProcess(["bedrock-runtime.ConverseStream", params, "--connect", "unix:" + gw.socketPath], environment: ["PATH": "/usr/bin:/bin", "HOME": gw.dir],
                                    command: "call")
        let first = try await call.output(through: #"{"messageStart""#)
        #expect(first == [#"{"messageStart":{"role":"assistant"}}"#])
        #expect(gw.fake.streamedPieces == 1)
        gate.open()
        let rest = try await call.output(through: "{}")
        let (status, errors) = try await call.exit()
        #expect(status == 0, "\(errors)")
        #expect(rest == [#"{"contentBlockDelta":{"delta":{"text":"Hel"},"contentBlockIndex":0}}"#,
                         #"{"contentBlockDelta":{"delta":{"text":"lo"},"contentBlockIndex":0}}"#,
                         #"{"messageStop":{"stopReason":"end_turn"}}"#,
                         #"{"metadata":{"usage":{"inputTokens":1,"outputTokens":2,"totalTokens":3},"metrics":{"latencyMs":5}}}"#, "{}"])
        await gw.stop()
    }

    /// A process's resident memory, in bytes.
    static func residentBytes(_ pid: Int32) -> Int {
        let status = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
        let line = status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") } ?? ""
        return (Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0) * 1024
    }

    @Test("1,000 event streams at once through awsgw serve (far more than its pooled connections to AWS): all held open, the gateway's memory bounded, then all end")
    func thousandStreams() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let gate = FakeAWS.Gate()
        let fake = try await FakeAWS(group: group, script: FakeAWS.eventStream(EventStreamFrames.converseStream, gate: gate))
        let dir = try tempDir("streams")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try ReloadTests.config(dir: dir, allow: "*:*").replacingOccurrences(of: "1/m burst 3", with: "100000/s burst 100000")
            .write(toFile: dir + "/awsgw.yaml", atomically: true, encoding: .utf8)
        let serve = try ServeProcess(["--config", dir + "/awsgw.yaml", "--log-level", "error"], environment: [
            "PATH": "/usr/bin:/bin", "HOME": dir, "AWSGW_MODELS": Fixtures.modelsDir, "AWS_ENDPOINT_URL": fake.url,
            "AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY": "secret"])
        _ = try await serve.listening(1)
        let before = Self.residentBytes(serve.process.processIdentifier)
        let (connections, perConnection) = (10, 100)
        let held = NIOLockedValueBox(0)
        let socketPath = dir + "/gw.sock"
        let answers = try await withThrowingTaskGroup(of: Int.self) { tasks in
            for connection in 0..<connections {
                tasks.addTask {
                    try await onThread {
                        let socket = try RawSocket(.unix(path: socketPath), timeoutSeconds: 30)
                        try socket.write((0..<perConnection).map { rpc(.int(Int64(connection * perConnection + $0)), "bedrock-runtime.ConverseStream",
                                                                       ["modelId": "m", "messages": []]) + "\n" }.joined())
                        var data: [UInt8] = []
                        var counted = (from: 0, firsts: 0, answers: 0)
                        // Counts what the new bytes completed (the buffer is not read again each time).
                        let count = { (data: [UInt8]) -> (Int, Int) in
                            let text = String(decoding: data[counted.from...], as: UTF8.self)
                            counted.from = data.count
                            counted.firsts += text.components(separatedBy: "messageStart").count - 1
                            counted.answers += text.components(separatedBy: #""result":{}"#).count - 1
                            return (counted.firsts, counted.answers)
                        }
                        _ = socket.read(onto: &data, until: { count($0).0 == perConnection })
                        held.withLockedValue { $0 += 1 }
                        _ = socket.read(onto: &data, until: { count($0).1 == perConnection })
                        return counted.answers
                    }
                }
            }
            for _ in 0..<3000 where held.withLockedValue({ $0 }) < connections { try await Task.sleep(nanoseconds: 10_000_000) }
            // Every stream has sent its first event and waits: the peak.
            let peak = Self.residentBytes(serve.process.processIdentifier)
            #expect(held.withLockedValue { $0 } == connections)
            #expect(fake.requests.filter { $0.uri.contains("/converse-stream") }.count == connections * perConnection)
            #expect(fake.streamedPieces == fake.requests.count)  // each one's first piece (the start-up check's too)
            print("1,000 held streams: awsgw serve's resident memory \(before >> 20) → \(peak >> 20) MiB (\((peak - before) / 1000 / 1024) KiB a stream)")
            #expect(peak - before < 128 << 20)
            gate.open()
            return try await tasks.reduce(0, +)
        }
        #expect(answers == connections * perConnection)
        #expect(fake.streamsCutOff == 0)
        serve.signal(SIGTERM)
        _ = try await serve.exit()
        await fake.stop()
        try? await group.shutdownGracefully()
    }

    @Test("serve, call over the socket and over TCP, then SIGTERM: exit 0 and the socket file is gone")
    func serveCallAndStop() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let fake = try await FakeAWS(group: group, script: FakeAWS.okAssociate)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("awsgw-serve-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let socketPath = dir + "/gw.sock"
        let environment = [
            "PATH": "/usr/bin:/bin", "HOME": dir, "XDG_RUNTIME_DIR": dir + "/run", "AWSGW_MODELS": Fixtures.modelsDir, "AWS_ENDPOINT_URL": fake.url,
            "AWS_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
        ]
        let serve = try ServeProcess(["--listen", "unix:" + socketPath, "--listen", "tcp:127.0.0.1:0", "--log-level", "warning"],
                                     environment: environment)
        let lines = try await serve.output(through: "awsgw: audit log:")
        // --listen adds to the default socket (made in a private folder), as the README says.
        #expect(lines.contains("awsgw: listening on unix:\(dir)/run/awsgw.sock"))
        #expect(lines.contains("awsgw: listening on unix:" + socketPath))
        // The start says what the gateway found: region, credentials (never a value), logs.
        #expect(lines.contains("awsgw: region: us-east-1"))
        #expect(lines.contains { $0.hasPrefix("awsgw: credentials default (") && $0.contains("yields long-lived keys; ") })
        #expect(lines.contains("awsgw: audit log: \(dir)/.local/state/awsgw/logs (params: keys)"))
        #expect(!lines.joined().contains("EXAMPLEKEY") && !lines.joined().contains("AKIDEXAMPLE"))
        // Standard error is read by its own handler: give it a moment to catch up.
        let warned = "warning: tcp:127.0.0.1:0 admits nobody without teams"
        for _ in 0..<100 where !serve.errorsSoFar.contains(warned) { try await Task.sleep(nanoseconds: 50_000_000) }
        #expect(serve.errorsSoFar.contains(warned))
        let tcpLine = try #require(lines.first { $0.hasPrefix("awsgw: listening on tcp:") })
        let tcpAddress = String(tcpLine.dropFirst("awsgw: listening on ".count))

        let params = associateParams.serializedString()
        let viaSocket = try await runProcess(["call", "networkmanager.AssociateConnectPeer", params, "--connect", "unix:" + socketPath], environment: environment)
        #expect(viaSocket.0 == 0, "\(viaSocket.2)")
        #expect(try JSON.parse(viaSocket.1.trimmingCharacters(in: .whitespacesAndNewlines))["ConnectPeerAssociation"]?["State"] == "PENDING")
        // With no teams configured only the gateway's own user is admitted: a TCP caller has
        // no peer credentials, so it is denied.
        let viaTCP = try await runProcess(["call", "networkmanager.AssociateConnectPeer", params, "--connect", tcpAddress], environment: environment)
        #expect(viaTCP.0 == 1)
        let denial = try JSON.parse(viaTCP.2.trimmingCharacters(in: .whitespacesAndNewlines))
        #expect(denial["code"] == -32001)
        #expect(denial["data"]?["identity"] == "anonymous")
        #expect(denial["data"]?["rule"]?.stringValue?.contains("token-sha256:") == true)
        let failing = try await runProcess(["call", "networkmanager.AssociateConnectPeer", "{}", "--connect", "unix:" + socketPath], environment: environment)
        #expect(failing.0 == 1)
        #expect(try JSON.parse(failing.2.trimmingCharacters(in: .whitespacesAndNewlines))["code"] == -32602)
        // One call reached AWS; the start asked STS who the credentials are.
        #expect(fake.requests.filter { !$0.bodyText.hasPrefix("Action=GetCallerIdentity&") }.count == 1)
        #expect(fake.requests.filter { $0.bodyText.hasPrefix("Action=GetCallerIdentity&") }.count == 1)

        serve.signal(SIGTERM)
        #expect(try await serve.exit().0 == 0)
        #expect(access(socketPath, F_OK) != 0)
        await fake.stop()
        try await group.shutdownGracefully()
        try? FileManager.default.removeItem(atPath: dir)
    }

    @Test("a broken configuration file stops serve with every problem named")
    func brokenConfig() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("awsgw-cfg-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try "listen: [\"tcp:127.0.0.1:0\"]\nregoin: x\n".write(toFile: dir + "/bad.yaml", atomically: true, encoding: .utf8)
        let env = ["PATH": "/usr/bin:/bin", "HOME": dir, "AWSGW_MODELS": Fixtures.modelsDir]
        let serve = try await runProcess(["serve", "--config", dir + "/bad.yaml"], environment: env)
        #expect(serve.0 == 1)
        #expect(serve.2.contains("regoin"))
        let check = try await runProcess(["config", "check", dir + "/bad.yaml"], environment: env)
        #expect(check.0 == 1)
        #expect(check.2.contains("regoin: unknown key"))
        try? FileManager.default.removeItem(atPath: dir)
    }
}

@Suite("What serve and call say when something is in the way", .serialized)
struct StartAndConnectMessagesTests {
    @Test("a port in use names the address and the process holding it")
    func portInUse() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("awsgw-inuse-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // This test process holds the port.
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let holder = try await ServerBootstrap(group: group).bind(host: "127.0.0.1", port: 0).get()
        let port = try #require(holder.localAddress?.port)
        let env = ["PATH": "/usr/bin:/bin", "HOME": dir, "XDG_RUNTIME_DIR": dir + "/run", "AWSGW_MODELS": Fixtures.modelsDir]
        let serve = try await runProcess(["serve", "--listen", "tcp:127.0.0.1:\(port)"], environment: env)
        #expect(serve.0 == 1)
        #expect(serve.2.contains("awsgw: tcp:127.0.0.1:\(port) is in use (by pid \(getpid()), "), "\(serve.2)")
        #expect(!serve.2.contains("errno"))
        try await holder.close()
        try await group.shutdownGracefully()
    }

    @Test("call: --cert and --key for a gateway that requires client certificates; a wrong scheme or missing certificate says what to change")
    func mutualTLSAndDiagnosis() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("awsgw-mtls-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let server = try DevCertificate.generate(dir: dir, hosts: ["localhost", "127.0.0.1"])
        let (ca, client) = try DevCertificate.generateClient(dir: dir, name: "app")
        try """
        listen: ["tls:127.0.0.1:0"]
        tls: { cert: server.pem, key: server.key, client_ca: clients-ca.pem }
        region: us-east-1
        logs: { enabled: false }
        credentials: { default: { source: env } }
        teams:
          app: { members: ["cn:app"], allow: ["sts:GetCallerIdentity"] }
        """.write(toFile: dir + "/awsgw.yaml", atomically: true, encoding: .utf8)
        let env = ["PATH": "/usr/bin:/bin", "HOME": dir, "AWSGW_MODELS": Fixtures.modelsDir]
        let serve = try ServeProcess(["--config", dir + "/awsgw.yaml", "--log-level", "error"], environment: env)
        let line = try #require(try await serve.listening(1).first { $0.hasPrefix("awsgw: listening on tls:") })
        let port = String(line.split(separator: ":").last ?? "")
        #expect(server.certificate == dir + "/server.pem" && ca.certificate == dir + "/clients-ca.pem")

        let method = "networkmanager.ListCoreNetworks"
        let plain = try await runProcess(["call", method, "--connect", "tcp:127.0.0.1:\(port)"], environment: env)
        #expect(plain.0 == 1)
        #expect(plain.2.contains("it speaks TLS: use --connect tls:127.0.0.1:\(port)"), "\(plain.2)")
        let untrusted = try await runProcess(["call", method, "--connect", "tls:127.0.0.1:\(port)"], environment: env)
        #expect(untrusted.2.contains("the gateway's certificate is not trusted: give --ca FILE"), "\(untrusted.2)")
        let noCertificate = try await runProcess(["call", method, "--connect", "tls:127.0.0.1:\(port)", "--ca", server.certificate], environment: env)
        #expect(noCertificate.0 == 1)
        #expect(noCertificate.2.contains("the gateway asks for a client certificate: give --cert FILE and --key FILE"), "\(noCertificate.2)")

        // With the client certificate the caller is cn:app: its team's policy decides (this
        // method is not allowed, and the refusal names the identity).
        let flags = try await runProcess(["call", method, "--connect", "tls:127.0.0.1:\(port)", "--ca", server.certificate,
                                          "--cert", client.certificate, "--key", client.key], environment: env)
        #expect(flags.0 == 1)
        let denial = try JSON.parse(flags.2.trimmingCharacters(in: .whitespacesAndNewlines))
        #expect(denial["code"] == -32001 && denial["data"]?["identity"] == "cn:app", "\(flags.2)")
        // The same from the environment.
        var withVariables = env
        withVariables["AWSGW_CONNECT"] = "tls:127.0.0.1:\(port)"
        withVariables["AWSGW_CA"] = server.certificate
        withVariables["AWSGW_CLIENT_CERT"] = client.certificate
        withVariables["AWSGW_CLIENT_KEY"] = client.key
        let fromEnvironment = try await runProcess(["call", method], environment: withVariables)
        #expect(try JSON.parse(fromEnvironment.2.trimmingCharacters(in: .whitespacesAndNewlines))["data"]?["identity"] == "cn:app", "\(fromEnvironment.2)")
        let half = try await runProcess(["call", method, "--cert", client.certificate], environment: withVariables.filter { $0.key != "AWSGW_CLIENT_KEY" })
        #expect(half.0 == 2 && half.2.contains("--cert and --key go together"))

        serve.signal(SIGTERM)
        #expect(try await serve.exit().0 == 0)
    }
}

@Suite("Configuration reload", .serialized)
struct ReloadTests {
    static func config(dir: String, allow: String, extra: String = "") -> String {
        """
        listen: ["unix:\(dir)/gw.sock"]
        region: us-east-1
        credentials: { default: { source: env } }
        cache: { ttl: { "*": 60s } }
        logs: { dir: logs }
        teams:
          all: { members: any, allow: ["\(allow)"], rate: { "*": "1/m burst 3" } }
        \(extra)
        """
    }

    @Test("reload: new rules take effect; bucket and cache state survive where rules did not change; a bad file changes nothing")
    func reloadInProcess() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let fake = try await FakeAWS(group: group, script: { _, attempt in .respond(status: 200, headers: [], body: #"{"Id":"v\#(attempt)"}"#) })
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("awsgw-reload-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let file = dir + "/awsgw.yaml"
        try Self.config(dir: dir, allow: "networkmanager:*").write(toFile: file, atomically: true, encoding: .utf8)
        let environment = ["AWS_ENDPOINT_URL": fake.url, "AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY": "secret"]
        var logger = Logger(label: "reload-test")
        logger.logLevel = .critical
        let runner = try GatewayRunner(config: try GatewayConfig.load(file: file, environment: environment), configFile: file,
                                       models: sharedModels, environment: environment, logger: logger, threads: 1)
        try await runner.start()
        let unix = ListenAddress.unix(path: dir + "/gw.sock")
        let get = rpc(1, "lambda-core.GetNetworkConnector", ["Identifier": "nc-1"])
        #expect(try await httpExchange(unix, body: get).json?["error"]?["code"] == -32001)

        try Self.config(dir: dir, allow: "lambda-core:*").write(toFile: file, atomically: true, encoding: .utf8)
        #expect(runner.reload())
        #expect(try await httpExchange(unix, body: get).json?["result"]?["Id"] == "v1")   // token 1 of 3; cached

        // Same rules again: the cached answer and the spent tokens are kept.
        #expect(runner.reload())
        #expect(try await httpExchange(unix, body: get).json?["result"]?["Id"] == "v1")   // hit, token 2
        let describe = rpc(2, "lambda-core.ListNetworkConnectors")
        #expect(try await httpExchange(unix, body: describe).json?["result"] != nil)       // token 3
        #expect(try await httpExchange(unix, body: describe).json?["error"]?["code"] == -32002)
        #expect(fake.requests.count == 2)

        // A broken file: refused, the rules in force stay.
        try "teams: [not, a, mapping]\nbogus: 1\n".write(toFile: file, atomically: true, encoding: .utf8)
        #expect(!runner.reload())
        // Still the same rules: lambda-core allowed (not -32001), its bucket still empty.
        #expect(try await httpExchange(unix, body: get).json?["error"]?["code"] == -32002)

        await runner.stop()
        await fake.stop()
        try? await group.shutdownGracefully()
        try? FileManager.default.removeItem(atPath: dir)
    }

    /// `awsgw serve` on a Unix socket in a fresh folder, its team allowed `lambda-core:*`,
    /// in front of a stand-in for AWS; `stop` ends the stand-in and removes the folder.
    struct Served {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let fake: FakeAWS
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("awsgw-hup-\(UUID().uuidString.prefix(8))").path
        var file: String { dir + "/awsgw.yaml" }
        var socket: ListenAddress { .unix(path: dir + "/gw.sock") }
        let serve: ServeProcess

        init() async throws {
            fake = try await FakeAWS(group: group, script: FakeAWS.okAssociate)
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            try ReloadTests.config(dir: dir, allow: "lambda-core:*").write(toFile: dir + "/awsgw.yaml", atomically: true, encoding: .utf8)
            let environment = ["PATH": "/usr/bin:/bin", "HOME": dir, "AWSGW_MODELS": Fixtures.modelsDir, "AWS_ENDPOINT_URL": fake.url,
                               "AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY": "secret"]
            serve = try ServeProcess(["--config", dir + "/awsgw.yaml"], environment: environment)
            _ = try await serve.listening(1)
        }

        /// Whether a call to Network Manager is answered with a result within 2.5 s.
        func networkManagerAllowed() async throws -> Bool {
            let call = rpc(1, "networkmanager.AssociateConnectPeer", associateParams)
            for _ in 0..<50 {
                try await Task.sleep(nanoseconds: 50_000_000)
                if (try? await httpExchange(socket, body: call))?.json?["result"] != nil { return true }
            }
            return false
        }

        func stop() async {
            await fake.stop()
            try? await group.shutdownGracefully()
            try? FileManager.default.removeItem(atPath: dir)
        }
    }

    @Test("SIGHUP reloads a running awsgw serve; an invalid file is refused and says why")
    func sighup() async throws {
        let served = try await Served()
        let call = rpc(1, "networkmanager.AssociateConnectPeer", associateParams)
        #expect(try await httpExchange(served.socket, body: call).json?["error"]?["code"] == -32001)

        try ReloadTests.config(dir: served.dir, allow: "networkmanager:*").write(toFile: served.file, atomically: true, encoding: .utf8)
        served.serve.signal(SIGHUP)
        #expect(try await served.networkManagerAllowed())

        try "listen: 5\n".write(toFile: served.file, atomically: true, encoding: .utf8)
        served.serve.signal(SIGHUP)
        try await Task.sleep(nanoseconds: 300_000_000)
        #expect(try await httpExchange(served.socket, body: call).json?["result"] != nil)

        served.serve.signal(SIGTERM)
        let (status, stderr) = try await served.serve.exit()
        #expect(status == 0)
        #expect(stderr.contains("configuration reloaded"))
        #expect(stderr.contains("configuration reload failed") && stderr.contains("listen"))
        await served.stop()
    }

    @Test("a SIGHUP as soon as the listeners are announced reloads; it does not end the process")
    func earlySighup() async throws {
        let served = try await Served()
        // The new rules are in the file before the signal, which comes at once.
        try ReloadTests.config(dir: served.dir, allow: "networkmanager:*").write(toFile: served.file, atomically: true, encoding: .utf8)
        served.serve.signal(SIGHUP)
        #expect(try await served.networkManagerAllowed())
        served.serve.signal(SIGTERM)
        let (status, stderr) = try await served.serve.exit()
        #expect(status == 0)
        #expect(stderr.contains("configuration reloaded"))
        await served.stop()
    }
}
