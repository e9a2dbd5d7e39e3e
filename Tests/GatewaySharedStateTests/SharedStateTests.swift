import AWSJSON
import Foundation
import GatewayCore
@testable import GatewayApp
@testable import GatewayServer
import GatewayTesting
import GatewayTransport
import Logging
import NIOPosix
import Synchronization
import Testing
import TestSupport

#if canImport(Glibc)
import Glibc
#endif

/// Replicas sharing rate limits, throttle holds and the cache through a real redis-server,
/// each replica a real gateway built from a config file as `awsgw serve` builds it.
@Suite("Replicas share state through Redis", .serialized, .enabled(if: RedisServer.available, "redis-server is not installed (apt-get install redis-server)"))
struct SharedStateTests {
    /// Three replicas' config: one team admitted by anyone, `extra` appended.
    /// Timeouts are generous where the test is not about them: the whole suite runs at
    /// once on two cores, and a command has been seen to wait over a second there.
    static func config(redis: String, prefix: String, extra: String, timeout: String = "5s") -> String {
        """
        region: us-east-1
        credentials: { default: { source: env } }
        logs: { enabled: false }
        teams:
          apps: { members: any, allow: ["*:*"] }
        shared: { redis: "\(redis)", key_prefix: "\(prefix)", timeout: \(timeout) }
        \(extra)
        """
    }

    static func runner(_ text: String, fake: FakeAWS, environment: [String: String] = [:]) throws -> GatewayRunner {
        var env = ["AWS_ENDPOINT_URL": fake.url, "AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY": "secret"]
        for (key, value) in environment { env[key] = value }
        var logger = Logger(label: "shared-test")
        logger.logLevel = .critical
        return try GatewayRunner(config: try GatewayConfig.parse(text, environment: env), models: sharedModels, environment: env, logger: logger,
                                 threads: 1)
    }

    static func call(_ method: String, _ params: JSON) -> GatewayCall { GatewayCall(method: method, params: params.objectValue ?? JSONObject()) }

    static let context = CallContext(listener: "test")

    /// A call carried out on the replica's own event loop, as its listeners would run it
    /// (so that other tests keeping the cooperative pool busy cannot stall the replica's
    /// Redis commands past their timeout), and how long it took there.
    static func perform(_ runner: GatewayRunner, _ call: GatewayCall, trace: CallTrace = CallTrace()) async -> (result: Result<JSONObject, RPCError>, seconds: Double) {
        let gateway = runner.gateway
        let context = Self.context
        return try! await runner.group.next().runOnLoop {
            let started = Date()
            let result = await gateway.perform(call, context: context, trace: trace)
            return (result, Date().timeIntervalSince(started))
        }.get()
    }

    /// The shared-store lines of a replica's metrics, for failure messages.
    static func sharedMetrics(_ gateway: Gateway) -> String {
        String(decoding: gateway.metricsText(), as: UTF8.self).split(separator: "\n").filter { $0.hasPrefix("awsgw_shared") || $0.hasPrefix("awsgw_cache") }
            .joined(separator: "; ")
    }

    /// Reads answer slowly so that identical misses overlap; writes answer at once.
    static let script: FakeAWS.Script = { request, attempt in
        if request.method == "GET" {
            return .respond(status: 200, headers: [("Content-Type", "application/json")], body: #"{"Links":[{"LinkId":"link-\#(attempt)"}]}"#, delay: 0.2)
        }
        return FakeAWS.okAssociate(request, attempt)
    }

    @Test("shared cache: A's answer is a hit on B; a write on B hides it from A; 50 identical misses over 3 replicas make one AWS call; large answers stay unshared")
    func sharedCache() async throws {
        let redis = try await RedisServer()
        defer { redis.stop() }
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let fake = try await FakeAWS(group: group, script: Self.script)
        let text = Self.config(redis: redis.urlText, prefix: "c1:", extra: #"cache: { store: shared, ttl: { "*": 60s } }"#)
        let replicas = try (0..<3).map { _ in try Self.runner(text, fake: fake) }
        let (a, b, c) = (replicas[0], replicas[1], replicas[2])
        func reads() -> Int { fake.requests.filter { $0.method == "GET" }.count }

        let read = Self.call("networkmanager.GetLinks", ["GlobalNetworkId": "g1"])
        let first = CallTrace()
        let answered = try await Self.perform(a, read, trace: first).result.get()
        #expect(first.cache == .miss && reads() == 1)
        let onB = CallTrace()
        #expect(try await Self.perform(b, read, trace: onB).result.get() == answered)
        #expect(onB.cache == .hit && reads() == 1, "B answered from what A stored")
        // The same params in another order, or another region, are the same or another entry.
        #expect(try await Self.perform(c, Self.call("networkmanager.GetLinks", ["GlobalNetworkId": "g1", "$region": "eu-west-1"])).result.get() != answered)
        #expect(reads() == 2)

        // A write through B (same credentials, same service) hides the entry everywhere.
        _ = try await Self.perform(b, Self.call("networkmanager.AssociateConnectPeer", associateParams)).result.get()
        let afterWrite = CallTrace()
        let fresh1 = await Self.perform(a, read, trace: afterWrite).result
        #expect((try? fresh1.get()) != answered, "\(fresh1)")
        #expect(afterWrite.cache == .miss && reads() == 3,
                "\(afterWrite.cache) after \(reads()) reads; A: \(Self.sharedMetrics(a.gateway)); B: \(Self.sharedMetrics(b.gateway)) (\(replicas[1].sharedStoreFailure ?? "")); AWS saw \(fake.requests.map { $0.method + " " + $0.uri })")

        // 50 identical misses spread over the three replicas: one AWS call.
        let fresh = Self.call("networkmanager.GetLinks", ["GlobalNetworkId": "g2"])
        let results = await withTaskGroup(of: (JSONObject?, CacheOutcome, String).self) { tasks in
            for i in 0..<50 {
                tasks.addTask {
                    let trace = CallTrace()
                    let outcome = await Self.perform(replicas[i % 3], fresh, trace: trace).result
                    let failure: String
                    if case .failure(let error) = outcome { failure = "\(error.code) \(error.message)" } else { failure = "" }
                    return (try? outcome.get(), trace.cache, "replica \(i % 3) \(trace.cache) \(failure)")
                }
            }
            var all: [(JSONObject?, CacheOutcome, String)] = []
            for await result in tasks { all.append(result) }
            return all
        }
        // When this fails, say how each call ended and what the shared store went through.
        let story = "\(Set(results.map(\.2)).sorted()); metrics A: \(Self.sharedMetrics(a.gateway)), B: \(Self.sharedMetrics(b.gateway)), C: \(Self.sharedMetrics(c.gateway))"
        #expect(reads() == 4, "50 misses over 3 replicas made \(reads() - 3) AWS calls: \(story)")
        #expect(results.allSatisfy { $0.0 != nil && $0.0 == results[0].0 }, "\(story)")
        #expect(results.filter { $0.1 == .hit }.count >= 2, "the other replicas waited for the first's value")

        // Over shared_max_entry: answered, cached nowhere.
        let small = try Self.runner(Self.config(redis: redis.urlText, prefix: "c2:", extra: #"cache: { store: shared, shared_max_entry: 16, ttl: { "*": 60s } }"#),
                                    fake: fake)
        for _ in 0..<2 {
            let trace = CallTrace()
            _ = try await Self.perform(small, Self.call("networkmanager.GetLinks", ["GlobalNetworkId": "g3"]), trace: trace).result.get()
            #expect(trace.cache == .miss)
        }
        #expect(reads() == 6)
        for replica in replicas + [small] { await replica.stop() }
        await fake.stop()
        try await group.shutdownGracefully()
    }

    @Test("Redis killed mid-load and restarted: every call answered once, none slowed past the timeout; local fallback taken and left; deny refuses with the cause")
    func redisOutage() async throws {
        let redis = try await RedisServer()
        let port = redis.port
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let fake = try await FakeAWS(group: group, script: FakeAWS.okAssociate)
        let limits = """
            cache: { store: shared, ttl: { "*": 60s } }
            """
        var local = Self.config(redis: redis.urlText, prefix: "o:", extra: limits, timeout: "200ms")
        local = local.replacingOccurrences(of: #"allow: ["*:*"] }"#, with: #"allow: ["*:*"], rate: { "*": "1000/s burst 1000" } }"#)
        let deny = local.replacingOccurrences(of: "timeout: 200ms", with: "timeout: 200ms, on_failure: deny")
        let replicas = [try Self.runner(local, fake: fake), try Self.runner(local, fake: fake)]
        let strict = try Self.runner(deny, fake: fake)

        struct Outcome: Sendable {
            let at: Double
            let seconds: Double
            let code: Int?
            let limiter: RateLimiter.Limiter?
            let cause: String?
        }
        let started = Date()
        @Sendable func now() -> Double { Date().timeIntervalSince(started) }
        let outcomes = Mutex<[Outcome]>([])
        // When Redis was killed and back, as they happened (a busy machine shifts them).
        let timeline = Mutex<(killed: Double, restarted: Double, stop: Double)>((.infinity, .infinity, 60))
        let call = Self.call("networkmanager.AssociateConnectPeer", associateParams)
        async let load: Void = withTaskGroup(of: Void.self) { workers in
            for worker in 0..<3 {
                workers.addTask {
                    while now() < timeline.withLock({ $0.stop }) {
                        let replica = worker == 2 ? strict : replicas[worker]
                        let trace = CallTrace()
                        let began = now()
                        let (result, seconds) = await Self.perform(replica, call, trace: trace)
                        var code: Int?
                        var cause: String?
                        if case .failure(let error) = result {
                            code = error.code
                            cause = error.data?["cause"]?.stringValue
                        }
                        let outcome = Outcome(at: began, seconds: seconds, code: code, limiter: trace.limiter, cause: cause)
                        outcomes.withLock { $0.append(outcome) }
                        try? await Task.sleep(nanoseconds: 5_000_000)
                    }
                }
            }
        }
        try await Task.sleep(nanoseconds: 1_000_000_000)
        timeline.withLock { $0.killed = now() }
        redis.stop()
        try await Task.sleep(nanoseconds: 1_000_000_000)
        let again = try await RedisServer(port: port)
        defer { again.stop() }
        timeline.withLock { $0.restarted = now(); $0.stop = $0.restarted + 2.2 }
        await load
        let (killed, restarted, _) = timeline.withLock { $0 }
        let all = outcomes.withLock { $0 }
        let served = all.filter { $0.code == nil }
        let refused = all.filter { $0.code != nil }
        // Every call answered: successes, or (deny, during the outage) -32002 with the cause.
        #expect(refused.allSatisfy { $0.code == -32002 && $0.limiter == .unavailable && $0.cause?.contains("shared rate limiter is unavailable") == true },
                "\(refused.prefix(3).map { "\($0.code ?? 0) \($0.cause ?? "")" })")
        #expect(!refused.isEmpty, "deny refused calls during the outage")
        #expect(served.contains { $0.at < killed && $0.limiter == .shared })
        #expect(served.contains { $0.at > killed + 0.1 && $0.at < restarted && $0.limiter == .fallback }, "local fallback while Redis is down")
        // The store is tried again a second after a failure: back to shared within about
        // a second of Redis's return.
        #expect(served.contains { $0.at > restarted + 1.5 && $0.limiter == .shared }, "back to shared once Redis answers")
        #expect(all.filter { $0.at > restarted + 1.5 }.allSatisfy { $0.code == nil && $0.limiter == .shared }, "deny admits again too")
        // None waited much longer than the 200 ms timeout (a margin: the machine is shared).
        let slowest = all.map(\.seconds).max() ?? 0
        #expect(slowest < 0.6, "slowest call \(slowest) s")
        let metrics = String(decoding: replicas[0].gateway.metricsText(), as: UTF8.self)
        #expect(metrics.contains("awsgw_shared_store_up 1"))
        let fallbacks = metrics.split(separator: "\n").first { $0.hasPrefix("awsgw_rate_limit_fallback_total ") }.flatMap { Double($0.split(separator: " ")[1]) }
        #expect((fallbacks ?? 0) > 0, "fallbacks counted: \(fallbacks ?? -1)")
        for replica in replicas + [strict] { await replica.stop() }
        await fake.stop()
        try await group.shutdownGracefully()
    }

    @Test("rediss:// with a password from the environment: the start summary says Redis answered; a wrong password says it did not")
    func tlsAndPassword() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("awsgw-shared-tls-\(UUID().uuidString.prefix(8))").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let files = try DevCertificate.generate(dir: dir, hosts: ["localhost"])
        let redis = try await RedisServer(password: "redis pass", tls: (files.certificate, files.key))
        defer { redis.stop() }
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let fake = try await FakeAWS(group: group, script: FakeAWS.okAssociate)
        let text = Self.config(redis: "rediss://localhost:\(redis.port)", prefix: "s:", extra: "")
            .replacingOccurrences(of: "timeout: 5s", with: "timeout: 5s, password_env: REDIS_PW, ca_file: \(files.certificate)")
        let good = try Self.runner(text, fake: fake, environment: ["REDIS_PW": "redis pass"])
        let summary = await good.startupSummary()
        let line = try #require(summary.first { $0.text.hasPrefix("shared store:") })
        #expect(!line.warning && line.text.contains("Redis answered"), "\(line.text)")
        #expect(!summary.map(\.text).joined().contains("redis pass"))
        let answer = try await Self.perform(good, Self.call("networkmanager.AssociateConnectPeer", associateParams)).result.get()
        #expect(JSON.object(answer)["ConnectPeerAssociation"]?["State"] == "PENDING")
        let bad = try Self.runner(text, fake: fake, environment: ["REDIS_PW": "not-the-redis-pass"])
        let badLine = try #require(await bad.startupSummary().first { $0.text.hasPrefix("shared store:") })
        #expect(badLine.warning && badLine.text.contains("does not answer"), "\(badLine.text)")
        #expect(!badLine.text.contains("not-the-redis-pass"))
        for runner in [good, bad] { await runner.stop() }
        await fake.stop()
        try await group.shutdownGracefully()
    }

    /// Three `awsgw serve` processes on their own sockets, and what `seconds` of load spread
    /// over them admits: two callers per process, each calling again at once when admitted
    /// and after `retryAfterMs` when refused.
    static func loadThreeProcesses(shared: String?, seconds: Double, fake: FakeAWS) async throws -> (admitted: Int, refused: Int, other: [String]) {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("awsgw-replicas-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var processes: [ServeProcess] = []
        for i in 0..<3 {
            let file = dir + "/replica\(i).yaml"
            try """
                listen: ["unix:\(dir)/gw\(i).sock"]
                region: us-east-1
                credentials: { default: { source: env } }
                logs: { enabled: false }
                teams:
                  apps: { members: any, allow: ["*:*"], rate: { "*": "50/s burst 50" } }
                \(shared ?? "")
                """.write(toFile: file, atomically: true, encoding: .utf8)
            let environment = ["PATH": "/usr/bin:/bin", "HOME": dir, "AWSGW_MODELS": Fixtures.modelsDir, "AWS_ENDPOINT_URL": fake.url,
                               "AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY": "secret"]
            let process = try ServeProcess(["--config", file, "--log-level", "warning"], environment: environment)
            let lines = try await process.output(through: "awsgw: audit log:")
            if shared != nil { #expect(lines.contains { $0.contains("shared store: rate limits shared through") && $0.contains("Redis answered") }, "\(lines)") }
            processes.append(process)
        }
        let body = rpc(1, "networkmanager.AssociateConnectPeer", associateParams)
        let started = Date()
        let counts = try await withThrowingTaskGroup(of: (Int, Int, [String]).self) { workers in
            for worker in 0..<6 {
                let address = ListenAddress.unix(path: dir + "/gw\(worker % 3).sock")
                workers.addTask {
                    try await onThread {
                        var admitted = 0, refused = 0
                        var other: [String] = []
                        while Date().timeIntervalSince(started) < seconds {
                            let socket = try RawSocket(address)
                            try socket.write("POST / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n\r\n" + body)
                            let reply = HTTPReply.parse(socket.readToEnd())?.json
                            if reply?["result"] != nil {
                                admitted += 1
                            } else if reply?["error"]?["code"] == -32002 {
                                refused += 1
                                usleep(UInt32(max(1, reply?["error"]?["data"]?["retryAfterMs"]?.intValue ?? 5)) * 1000)
                            } else {
                                other.append(reply.map { $0.serializedString() } ?? "no answer")
                            }
                        }
                        return (admitted, refused, other)
                    }
                }
            }
            return try await workers.reduce((0, 0, [])) { ($0.0 + $1.0, $0.1 + $1.1, $0.2 + $1.2) }
        }
        for process in processes { process.signal(SIGTERM) }
        for process in processes { _ = try await process.exit() }
        return counts
    }

    @Test("3 gateway processes, one Redis, one team at \"50/s burst 50\": 10 s of load over all three admits 550 ± 5%; without shared: each process admits its own rate")
    func threeProcesses() async throws {
        let redis = try await RedisServer()
        defer { redis.stop() }
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let fake = try await FakeAWS(group: group, script: FakeAWS.okAssociate)
        let shared = try await Self.loadThreeProcesses(shared: "shared: { redis: \"\(redis.urlText)\", key_prefix: \"p:\", timeout: 5s }",
                                                       seconds: 10, fake: fake)
        print("three replicas sharing one bucket: admitted \(shared.admitted) of 550 expected, refused \(shared.refused)")
        #expect(shared.other.isEmpty, "\(shared.other.prefix(3))")
        #expect(abs(shared.admitted - 550) <= 27, "admitted \(shared.admitted), refused \(shared.refused)")
        #expect(shared.refused > 0)
        // Today's behaviour without `shared:`: three buckets, three times the rate.
        let alone = try await Self.loadThreeProcesses(shared: nil, seconds: 2, fake: fake)
        print("three replicas alone, 2 s: admitted \(alone.admitted) (three buckets allow 450)")
        #expect(alone.other.isEmpty)
        #expect(alone.admitted >= 3 * 120 && alone.admitted <= 3 * 151, "admitted \(alone.admitted) by three separate buckets of 50 + 50/s × 2 s")
        await fake.stop()
        try await group.shutdownGracefully()
    }
}
