import AWSModels
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
#if canImport(Glibc)
import Glibc
#endif

// The side-by-side figures of single features: policy and the cache, the audit log, state
// shared through Redis.

/// The cached read of the cache rows: the same `GetLinks` every time.
let benchGet = #"{"jsonrpc":"2.0","id":1,"method":"networkmanager.GetLinks","params":{"GlobalNetworkId":"global-network-0123"}}"#

let benchCall = #"{"jsonrpc":"2.0","id":1,"method":"networkmanager.AssociateConnectPeer","params":{"GlobalNetworkId":"global-network-0123","ConnectPeerId":"connect-peer-0123","DeviceId":"device-0123"}}"#

/// Issue 4's figures: cache hits over NDJSON, and what policy costs on the uncached path
/// (several teams, a bearer token, allow/deny lists and a rate limit that never binds,
/// against one team that admits anyone), alternating the two to even out noise.
func policyAndCacheBenchmarks(modelsDir: String, seconds: Double) throws {
    guard let setup = try BenchSetup(name: "bench4") else { return }
    setup.modelsDirectory = modelsDir
    let open = try setup.gateway("open", config: """
    credentials: { default: { source: env } }
    teams: { everyone: { members: any, allow: ["*:*"] } }
    cache: { ttl: { "*": 60s } }
    """)
    // The token is "bench"; its SHA-256 is the second member of ci.
    let strict = try setup.gateway("strict", config: """
    credentials: { default: { source: env }, other: { source: env } }
    teams:
      ops: { members: [ "uid:4000", "gid:4000", "cn:ops-app" ], credentials: other, allow: [ "ec2:Describe*", "s3:Get*" ] }
      ci:
        members: [ "token-sha256:0ae1f2a8e2ac58bd43eb1ce80db5e8a0dea40c5ddd8b2c4a64c9a3d55d4a5d97", "token-sha256:1b32c28cb38c05480eccc1bd60ff97029b57a05c96718b96dad7e9d84894f549" ]
        allow: [ "lambda-core:Get*", "iot-managed-integrations:*", "networkmanager:Get*", "networkmanager:Associate*", "networkmanager:Create*" ]
        deny: [ "networkmanager:Delete*", "networkmanager:Disassociate*", "*:Put*" ]
        rate: { "*": "1000000/s", "networkmanager:Associate*": "1000000/s burst 1000000" }
      everyone: { members: any, allow: [ "sts:GetCallerIdentity" ] }
    """)
    let tokenCall = benchCall.replacingOccurrences(of: #""DeviceId":"device-0123"}"#, with: #""DeviceId":"device-0123","$token":"bench"}"#)

    print("")
    print("policy and cache (NDJSON over the Unix socket, concurrency 64, \(seconds) s per row)")
    let (off, offRuns, on, onRuns) = try setup.alternate((open, benchCall), (strict, tokenCall), seconds: seconds)
    print(String(format: "uncached, policy off (one team, anyone): %8.0f calls/s (runs: %@)", off, runsText(offRuns)))
    print(String(format: "uncached, policy on (3 teams, token, rules, rate): %8.0f calls/s (runs: %@)", on, runsText(onRuns)))
    print(String(format: "policy cost: %.1f%% fewer calls/s", (1 - on / off) * 100))
    let hits = try runLoad(group: setup.clientGroup, target: open, framing: .ndjson, body: benchGet, concurrency: 64, seconds: seconds)
    print(String(format: "cache hits (networkmanager.GetLinks): %8.0f calls/s, p50 %.0f µs, p99 %.0f µs", hits.callsPerSecond, hits.p50, hits.p99))
}

/// Issue 5's figures: calls/s with the audit log on and off, and its compression ratio.
func auditBenchmarks(modelsDir: String, seconds: Double) throws {
    guard let setup = try BenchSetup(name: "bench5") else { return }
    setup.modelsDirectory = modelsDir
    let common = """
    credentials: { default: { source: env } }
    teams: { everyone: { members: any, allow: ["*:*"] } }

    """
    let off = try setup.gateway("off", config: common + "logs: { enabled: false }\n")
    let on = try setup.gateway("on", config: common + "logs: { dir: \(setup.dir)/logs }\n")
    print("")
    print("audit log (NDJSON over the Unix socket, concurrency 64, \(seconds) s per row, alternating)")
    let (offRate, offRuns, onRate, onRuns) = try setup.alternate((off, benchCall), (on, benchCall), seconds: seconds)
    setup.stopGateways()
    print(String(format: "audit log off: %8.0f calls/s (runs: %@)", offRate, runsText(offRuns)))
    print(String(format: "audit log on:  %8.0f calls/s (runs: %@)", onRate, runsText(onRuns)))
    print(String(format: "audit cost: %.1f%% fewer calls/s", (1 - onRate / offRate) * 100))
    var raw = 0, compressed = 0, records = 0
    for file in ((try? FileManager.default.contentsOfDirectory(atPath: setup.dir + "/logs")) ?? []) where file.hasSuffix(".jsonl.gz") {
        let bytes = Array(FileManager.default.contents(atPath: setup.dir + "/logs/" + file) ?? Data())
        compressed += bytes.count
        let text = (try? Inflater.inflate(bytes)) ?? []
        raw += text.count
        records += text.filter { $0 == UInt8(ascii: "\n") }.count
    }
    print(String(format: "audit log: %d records, %d bytes raw, %d bytes compressed: %.1f:1", records, raw, compressed, Double(raw) / Double(max(compressed, 1))))
}

/// A redis-server for the shared-state figures, on a free loopback port.
final class BenchRedis {
    let process = Process()
    let port: Int

    init?() throws {
        guard let binary = ["/usr/bin/redis-server", "/usr/local/bin/redis-server"].first(where: { FileManager.default.isExecutableFile(atPath: $0) })
        else { return nil }
        // A port the kernel just gave out and we released.
        let probe = try ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton).bind(host: "127.0.0.1", port: 0).wait()
        port = probe.localAddress!.port!
        try probe.close().wait()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = ["--bind", "127.0.0.1", "--port", String(port), "--save", "", "--appendonly", "no"]
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        for _ in 0..<200 where (try? info("server")) == nil { usleep(20_000) }
    }

    /// `INFO section` over a plain socket (no client library in the bench).
    func info(_ section: String) throws -> String {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        inet_pton(AF_INET, "127.0.0.1", &address.sin_addr)
        let connected = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        guard connected == 0 else { throw CocoaError(.fileReadUnknown) }
        let command = Array("*2\r\n$4\r\nINFO\r\n$\(section.utf8.count)\r\n\(section)\r\n".utf8)
        _ = command.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        var reply: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        // `$<length>\r\n<text>\r\n`: read until the announced length is in.
        while true {
            let n = read(fd, &buffer, buffer.count)
            guard n > 0 else { break }
            reply += buffer[0..<n]
            if let lineEnd = reply.firstIndex(of: UInt8(ascii: "\r")), let length = Int(String(decoding: reply[1..<lineEnd], as: UTF8.self)),
               reply.count >= lineEnd + 2 + length { break }
        }
        return String(decoding: reply, as: UTF8.self)
    }

    /// Redis's own time per call of a command (`usec_per_call` in `INFO commandstats`).
    func microsecondsPerCall(_ command: String) throws -> Double? {
        let line = try info("commandstats").split(separator: "\r\n").first { $0.hasPrefix("cmdstat_\(command):") }
        return line?.split(separator: ",").first { $0.hasPrefix("usec_per_call=") }.flatMap { Double($0.dropFirst("usec_per_call=".count)) }
    }

    /// Commands clients have sent so far: one round trip each. Commands a script runs
    /// inside Redis count under their own names, so only the ones the gateway sends from
    /// outside and never inside a script are summed; SET is left out (the rate script uses
    /// it; the gateway sends it itself only to store a miss or take a fetch lock, which the
    /// rows measured here do not do).
    func roundTrips() throws -> Int {
        let outside: Set<String> = ["evalsha", "eval", "mget", "script", "ping", "auth", "select", "hello"]
        var total = 0
        for line in try info("commandstats").split(separator: "\r\n") where line.hasPrefix("cmdstat_") {
            let name = line.dropFirst("cmdstat_".count).prefix { $0 != ":" }
            // `cmdstat_evalsha:calls=12,usec=...,rejected_calls=0,failed_calls=0`
            let fields = line.drop { $0 != ":" }.dropFirst().split(separator: ",")
            guard outside.contains(String(name)), let calls = fields.first(where: { $0.hasPrefix("calls=") })?.dropFirst(6) else { continue }
            total += Int(calls) ?? 0
        }
        return total
    }

    deinit {
        process.terminate()
        process.waitUntilExit()
    }
}

/// Issue 13's figures: calls/s at concurrency 64 with rate limits shared through Redis
/// against the same limits in memory (alternating), Redis commands per call, and cache
/// hits served from the shared cache.
func sharedStateBenchmarks(modelsDir: String, seconds: Double) throws {
    guard let redis = try BenchRedis() else {
        print("\nshared state: skipped (no redis-server; apt-get install redis-server)")
        return
    }
    guard let setup = try BenchSetup(name: "bench13") else { return }
    setup.modelsDirectory = modelsDir
    let team = """
    credentials: { default: { source: env } }
    logs: { enabled: false }
    teams: { apps: { members: any, allow: ["*:*"], rate: { "*": "1000000/s burst 1000000" } } }

    """
    let shared = "shared: { redis: \"redis://127.0.0.1:\(redis.port)\", timeout: 200ms }\n"
    let local = try setup.gateway("local", config: team)
    let remote = try setup.gateway("shared", config: team + shared)
    let cached = try setup.gateway("sharedcache", config: team + shared + "cache: { store: shared, ttl: { \"*\": 600s } }\n")
    let memoryCache = try setup.gateway("memorycache", config: team + "cache: { ttl: { \"*\": 600s } }\n")

    print("")
    print("shared state through Redis (NDJSON over the Unix socket, concurrency 64, \(seconds) s per row, alternating)")
    let (memory, memoryRuns, viaRedis, redisRuns) = try setup.alternate((local, benchCall), (remote, benchCall), seconds: seconds)
    print(String(format: "rate limits in memory:     %8.0f calls/s (runs: %@)", memory, runsText(memoryRuns)))
    print(String(format: "rate limits through Redis: %8.0f calls/s (runs: %@)", viaRedis, runsText(redisRuns)))
    print(String(format: "shared / memory: %.0f%%", viaRedis / memory * 100))
    let before = try redis.roundTrips()
    let counted = try runLoad(group: setup.clientGroup, target: remote, framing: .ndjson, body: benchCall, concurrency: 64, seconds: seconds)
    let trips = try redis.roundTrips() - before
    print(String(format: "Redis round trips per admitted uncached call: %.2f (%d round trips, %d calls); Redis's own time per rate script: %.1f µs",
                 Double(trips) / Double(max(counted.calls, 1)), trips, counted.calls, try redis.microsecondsPerCall("evalsha") ?? -1))
    // Cache hits: the same read over and over, from the shared cache and from memory.
    for target in [cached, memoryCache] {
        _ = try runLoad(group: setup.clientGroup, target: target, framing: .ndjson, body: benchGet, concurrency: 16, seconds: 0.5)
    }
    var sharedHits: [Double] = [], memoryHits: [Double] = []
    var hitTrips = 0, hitCalls = 0
    for _ in 0..<3 {
        let tripsBefore = try redis.roundTrips()
        let hits = try runLoad(group: setup.clientGroup, target: cached, framing: .ndjson, body: benchGet, concurrency: 64, seconds: seconds)
        hitTrips += try redis.roundTrips() - tripsBefore
        hitCalls += hits.calls
        sharedHits.append(hits.callsPerSecond)
        memoryHits.append(try runLoad(group: setup.clientGroup, target: memoryCache, framing: .ndjson, body: benchGet, concurrency: 64, seconds: seconds).callsPerSecond)
    }
    print(String(format: "shared-cache hits (networkmanager.GetLinks): %8.0f calls/s (runs: %@), %.2f Redis round trips per hit",
                 sharedHits.sorted()[1], runsText(sharedHits), Double(hitTrips) / Double(max(hitCalls, 1))))
    print(String(format: "memory-cache hits, same call:                %8.0f calls/s (runs: %@)", memoryHits.sorted()[1], runsText(memoryHits)))
    let bytes = try redis.info("memory").split(separator: "\r\n").first { $0.hasPrefix("used_memory:") }.map(String.init) ?? "?"
    let keys = try redis.info("keyspace").split(separator: "\r\n").first { $0.hasPrefix("db0:") }.map(String.init) ?? "?"
    print("Redis after the run: \(bytes) bytes, \(keys)")
}
