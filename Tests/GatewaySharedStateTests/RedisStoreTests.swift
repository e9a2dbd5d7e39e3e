import Foundation
import GatewayCore
import GatewaySharedState
import NIOCore
import NIOPosix
import RedisClient
import Synchronization
import Testing
import TestSupport

/// The Redis stores replicas share state through, against a real redis-server.
@Suite("Redis stores against a real redis-server", .serialized, .enabled(if: RedisServer.available, "redis-server is not installed (apt-get install redis-server)"))
struct RedisStoreTests {
    static let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    static let timeout = TimeAmount.seconds(2)

    @Test("shared token buckets: three clients (as three replicas) on one \"10/s burst 10\" bucket admit burst + rate × time, not three times it")
    func sharedBuckets() async throws {
        let server = try await RedisServer()
        defer { server.stop() }
        let clients = (0..<3).map { _ in RedisClient(url: RedisURL(server.urlText)!, group: Self.group, commandTimeout: .seconds(1)) }
        defer { clients.forEach { $0.close() } }
        let stores = clients.map { RedisRateLimitStore(client: $0) }
        let rate = try #require(Rate("10/s burst 10"))
        let key = RedisRateLimitStore.key(prefix: "awsgw:", team: "apps", rule: "*")
        #expect(key == "awsgw:{apps}:rate:*")
        let started = Date()
        // At least a second, and until the burst is in: on a crowded machine (the whole
        // suite at once on two cores) these tasks may wait long before they first run.
        let soFar = Atomic<Int>(0)
        let admitted = try await withThrowingTaskGroup(of: Int.self) { group in
            for store in stores {
                group.addTask {
                    var count = 0
                    while Date().timeIntervalSince(started) < 1.0 || (soFar.load(ordering: .relaxed) < 10 && Date().timeIntervalSince(started) < 20) {
                        if try await store.admit(team: "apps", operation: "s:Op", buckets: [("*", rate)]).waitSeconds == nil {
                            count += 1
                            soFar.add(1, ordering: .relaxed)
                        } else {
                            try await Task.sleep(nanoseconds: 5_000_000)
                        }
                    }
                    return count
                }
            }
            return try await group.reduce(0, +)
        }
        // Never more than one bucket allows (three local buckets would admit ~60); at
        // least the burst (the lower side depends on how busy the machine is).
        let allowed = 10 + 10 * Date().timeIntervalSince(started)
        #expect(Double(admitted) <= allowed + 1 && admitted >= 10, "admitted \(admitted), one bucket allows \(allowed)")

        // Several buckets: all or nothing, and the wait names the emptiest.
        let oneASecond = try #require(Rate("1/s"))
        #expect(try await stores[0].admit(team: "b", operation: "ec2:RunInstances", buckets: [("*", rate), ("ec2:Run*", oneASecond)]).waitSeconds == nil)
        let wait = try #require(try await stores[1].admit(team: "b", operation: "ec2:RunInstances", buckets: [("*", rate), ("ec2:Run*", oneASecond)]).waitSeconds)
        #expect(wait > 0 && wait <= 1.0)
        let left = try await RedisConnection.connect(to: RedisURL(server.urlText)!, on: Self.group.next())
        defer { left.close() }
        // "<tokens> <when>"
        let state = try await left.command(["GET", "awsgw:{b}:rate:*"], timeout: Self.timeout).string ?? ""
        let tokens = state.split(separator: " ").first.flatMap { Double($0) } ?? -1
        #expect(tokens >= 8.9 && tokens < 9.5, "the refused call took nothing from the other bucket (\(tokens))")
        let ttl = try await left.command(["PTTL", "awsgw:{b}:rate:ec2:Run*"], timeout: Self.timeout).int ?? -1
        #expect(ttl > 0 && ttl <= 2000, "idle buckets expire")
    }

    @Test("calls that arrive together share one script run, each decided in turn: buckets of 4 per operation and 10 per team admit exactly 8 of 40; a hold lets one through")
    func batchedAdmits() async throws {
        let server = try await RedisServer()
        defer { server.stop() }
        let client = RedisClient(url: RedisURL(server.urlText)!, group: Self.group, commandTimeout: .seconds(1))
        defer { client.close() }
        let store = RedisRateLimitStore(client: client, prefix: "t:")
        let rate = try #require(Rate("1/h burst 10"))
        let perOperation = try #require(Rate("1/h burst 4"))
        let admissions = try await withThrowingTaskGroup(of: SharedAdmission.self) { group in
            for i in 0..<40 {
                group.addTask {
                    try await store.admit(team: "apps", operation: "s:Op\(i % 2)", buckets: [("*", rate), ("s:Op\(i % 2)", perOperation)])
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        // Both per-operation buckets (4 each) bind before the team's (10): 8 admitted.
        #expect(admissions.filter { $0.waitSeconds == nil }.count == 8)
        #expect(admissions.allSatisfy { $0.waitSeconds == nil || ($0.waitSeconds! > 3000 && $0.waitSeconds! <= 3600) })
        let left = try await RedisConnection.connect(to: RedisURL(server.urlText)!, on: Self.group.next())
        defer { left.close() }
        let team = try await left.command(["GET", "t:{apps}:rate:*"], timeout: Self.timeout).string ?? ""
        let teamTokens = team.split(separator: " ").first.flatMap { Double($0) } ?? -1
        #expect(teamTokens > 1.99 && teamTokens < 2.01, "the team's bucket: \(team)")
        let stats = try await left.command(["INFO", "commandstats"], timeout: Self.timeout).string ?? ""
        // cmdstat_evalsha:calls=N,usec=...
        let line = stats.split(separator: "\r\n").first { $0.hasPrefix("cmdstat_evalsha:calls=") } ?? ""
        let runs = Int(line.dropFirst("cmdstat_evalsha:calls=".count).prefix { $0 != "," }) ?? 0
        #expect(runs >= 1 && runs < 40, "40 calls in \(runs) script runs")

        // A throttle hold set on one operation: in one batch, the first call after the hold
        // goes and moves the hold on, the rest of the batch waits.
        try await store.throttled(team: "b", operation: "s:Held", minimum: 0.05, maximum: 5)
        try await Task.sleep(nanoseconds: 100_000_000)
        let held = try await withThrowingTaskGroup(of: SharedAdmission.self) { group in
            for _ in 0..<10 { group.addTask { try await store.admit(team: "b", operation: "s:Held", buckets: []) } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(held.filter { $0.waitSeconds == nil }.count == 1 && held.allSatisfy(\.held), "\(held)")
    }

    @Test("shared throttle hold: one replica's throttle holds the others' calls; it doubles, eases by half and ends below the minimum")
    func sharedHold() async throws {
        let server = try await RedisServer()
        defer { server.stop() }
        let a = RedisRateLimitStore(client: RedisClient(url: RedisURL(server.urlText)!, group: Self.group, commandTimeout: .seconds(1)), prefix: "t:")
        let b = RedisRateLimitStore(client: RedisClient(url: RedisURL(server.urlText)!, group: Self.group, commandTimeout: .seconds(1)), prefix: "t:")
        #expect(try await b.admit(team: "apps", operation: "sqs:SendMessage", buckets: []) == SharedAdmission(waitSeconds: nil, held: false))
        let throttledAt = Date()
        try await a.throttled(team: "apps", operation: "sqs:SendMessage", minimum: 0.5, maximum: 5)
        let held = try await b.admit(team: "apps", operation: "sqs:SendMessage", buckets: [])
        // The hold's rest: 0.5 s less the time the two round trips took (a loaded machine is slow).
        let took = Date().timeIntervalSince(throttledAt)
        #expect(held.held && (held.waitSeconds ?? 0) > 0.45 - took && (held.waitSeconds ?? 9) <= 0.5, "\(held) after \(took) s")
        #expect(try await b.admit(team: "apps", operation: "sqs:ReceiveMessage", buckets: []).waitSeconds == nil, "other operations go on")
        #expect(try await b.admit(team: "other", operation: "sqs:SendMessage", buckets: []).waitSeconds == nil, "other teams go on")
        try await a.throttled(team: "apps", operation: "sqs:SendMessage", minimum: 0.5, maximum: 5)
        let left = try await RedisConnection.connect(to: RedisURL(server.urlText)!, on: Self.group.next())
        defer { left.close() }
        #expect(try await left.command(["HGET", "t:{apps}:hold:sqs:SendMessage", "i"], timeout: Self.timeout).string == "1")
        try await Task.sleep(nanoseconds: 1_050_000_000)
        let through = try await b.admit(team: "apps", operation: "sqs:SendMessage", buckets: [])
        #expect(through == SharedAdmission(waitSeconds: nil, held: true), "after the hold one call goes, and the next waits an interval")
        #expect((try await a.admit(team: "apps", operation: "sqs:SendMessage", buckets: []).waitSeconds ?? 0) > 0.8)
        try await b.succeeded(team: "apps", operation: "sqs:SendMessage", minimum: 0.5)
        #expect(try await left.command(["HGET", "t:{apps}:hold:sqs:SendMessage", "i"], timeout: Self.timeout).string == "0.5")
        try await b.succeeded(team: "apps", operation: "sqs:SendMessage", minimum: 0.5)
        #expect(try await left.command(["EXISTS", "t:{apps}:hold:sqs:SendMessage"], timeout: Self.timeout).int == 0)
    }
}

@Suite("shared: settings and the Redis client")
struct SharedSettingsTests {
    @Test("config check accepts a shared.redis URL exactly when the client can use it (and it holds no password)")
    func configAgreesWithClient() {
        let urls = ["redis://127.0.0.1", "rediss://cache.internal:6380/2", "redis://gw@h:6379/0", "redis://[::1]:7000", "redis://[::1]", "redis://h/",
                    "http://x", "redis://", "redis://h:0", "redis://h:65536", "redis://h:port", "redis://h/-1", "redis://h/x", "redis://[::1",
                    "redis://[::1]x", "redis://[]", "redis://:7000", "redis://h:"]
        for url in urls {
            #expect((SharedSettings.problem(redisURL: url) == nil) == (RedisURL(url) != nil), "\(url)")
        }
        #expect(SharedSettings.problem(redisURL: "redis://gw:secret@h") != nil && RedisURL("redis://gw:secret@h") != nil, "a password is refused in the file")
    }
}
