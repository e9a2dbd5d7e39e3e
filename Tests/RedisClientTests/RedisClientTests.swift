import Foundation
import NIOCore
import NIOPosix
import NIOSSL
import RedisClient
import Testing
import TestSupport

#if canImport(Glibc)
import Glibc
#endif

@Suite("RESP replies")
struct RESPParserTests {
    static let parser = RESPParser()

    @Test("every reply type, RESP2 and RESP3")
    func types() throws {
        let cases: [(String, RESPValue)] = [
            ("+OK\r\n", .simpleString("OK")), ("-ERR wrong\r\n", .error("ERR wrong")), (":-42\r\n", .integer(-42)),
            ("$5\r\nhe\r\no\r\n", .bulkString(Array("he\r\no".utf8))), ("$-1\r\n", .bulkString(nil)), ("$0\r\n\r\n", .bulkString([])),
            ("*2\r\n:1\r\n$1\r\nx\r\n", .array([.integer(1), .bulkString([0x78])])), ("*-1\r\n", .array(nil)), ("*0\r\n", .array([])),
            ("_\r\n", .null), ("#t\r\n", .boolean(true)), (",1.5\r\n", .double(1.5)), (",-inf\r\n", .double(-.infinity)),
            ("%1\r\n+k\r\n:2\r\n", .map([(.simpleString("k"), .integer(2))])), ("!3\r\nBAD\r\n", .error("BAD")),
            ("*1\r\n*1\r\n*0\r\n", .array([.array([.array([])])])),
        ]
        for (text, expected) in cases {
            let bytes = Array(text.utf8)
            let parsed = try #require(try Self.parser.parse(bytes), "\(text)")
            #expect(parsed.value == expected, "\(text)")
            #expect(parsed.end == bytes.count)
        }
    }

    @Test("replies cut anywhere wait for the rest; pipelined replies come one by one")
    func incremental() throws {
        let stream = Array("+OK\r\n$3\r\nabc\r\n*2\r\n:1\r\n$-1\r\n:7\r\n".utf8)
        let expected: [RESPValue] = [.simpleString("OK"), .bulkString(Array("abc".utf8)), .array([.integer(1), .bulkString(nil)]), .integer(7)]
        for cut in 0...stream.count {
            var values: [RESPValue] = []
            var buffer = Array(stream[..<cut])
            var offset = 0
            while let (value, end) = try Self.parser.parse(buffer, from: offset) {
                values.append(value)
                offset = end
            }
            buffer += stream[cut...]
            while let (value, end) = try Self.parser.parse(buffer, from: offset) {
                values.append(value)
                offset = end
            }
            #expect(values == expected, "cut at \(cut)")
        }
    }

    @Test("malformed replies are errors, never guesses", arguments: [
        "?what\r\n", ":12a\r\n", "$3\r\nabcd\r\n", "$-2\r\n", "*-5\r\n", "#x\r\n", "+OK\n", "+O\rK\r\n", ",notanumber\r\n",
        "$99999999999\r\n", "_x\r\n",
    ])
    func malformed(_ text: String) {
        #expect(throws: RESPProtocolError.self) { try Self.parser.parse(Array(text.utf8)) }
    }

    @Test("deep nesting and huge counts are refused before any allocation")
    func limits() {
        let deep = String(repeating: "*1\r\n", count: 100) + ":1\r\n"
        #expect(throws: RESPProtocolError.self) { try Self.parser.parse(Array(deep.utf8)) }
        #expect(throws: RESPProtocolError.self) { try Self.parser.parse(Array("*999999999\r\n".utf8)) }
    }

    @Test("commands are arrays of bulk strings")
    func encoding() {
        #expect(RESPEncoder.command(["SET", "k", RESPArgument([0x0D, 0x0A])]) == Array("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$2\r\n\r\n\r\n".utf8))
    }

    @Test("URLs: redis and rediss, user and password, port, database")
    func urls() {
        let full = RedisURL("rediss://app:p%40ss@cache.internal:6380/2")
        #expect(full == RedisURL("rediss://app:p%40ss@cache.internal:6380/2"))
        #expect(full?.tls == true && full?.user == "app" && full?.password == "p@ss" && full?.host == "cache.internal" && full?.port == 6380 && full?.database == 2)
        let plain = RedisURL("redis://127.0.0.1")
        #expect(plain?.port == 6379 && plain?.database == 0 && plain?.tls == false && plain?.password == nil)
        #expect(RedisURL("redis://:secret@[::1]:7000")?.host == "::1")
        #expect(RedisURL("redis://:secret@[::1]:7000")?.password == "secret")
        for bad in ["http://x", "redis://", "redis://h:0", "redis://h:port", "redis://h/-1", "redis://h/x"] { #expect(RedisURL(bad) == nil, "\(bad)") }
    }
}

@Suite("RedisClient against a real redis-server", .serialized, .enabled(if: RedisServer.available, "redis-server is not installed (apt-get install redis-server)"))
struct RedisClientTests {
    static let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    static let timeout = TimeAmount.seconds(2)

    @Test("commands and replies: strings with CRLF inside, integers, nulls; 1,000 pipelined INCRs answered in order")
    func commands() async throws {
        let server = try await RedisServer()
        defer { server.stop() }
        let redis = try await RedisConnection.connect(to: server.url, on: Self.group.next())
        defer { redis.close() }
        #expect(try await redis.command(["PING"], timeout: Self.timeout) == .simpleString("PONG"))
        try await redis.command(["SET", "k", RESPArgument([0x0D, 0x0A, 0x00, 0xFF])], timeout: Self.timeout)
        #expect(try await redis.command(["GET", "k"], timeout: Self.timeout) == .bulkString([0x0D, 0x0A, 0x00, 0xFF]))
        #expect(try await redis.command(["GET", "missing"], timeout: Self.timeout).isNull)
        let replies = try await withThrowingTaskGroup(of: Int64.self) { group in
            for _ in 0..<1000 { group.addTask { try await redis.command(["INCR", "n"], timeout: Self.timeout).int ?? -1 } }
            var all: [Int64] = []
            for try await value in group { all.append(value) }
            return all
        }
        #expect(Set(replies) == Set(1...1000))
        let wrongType = try await redis.send(["INCR", "k"], timeout: Self.timeout)
        #expect(wrongType.isError)
    }

    @Test("scripts by SHA-1, loaded again after SCRIPT FLUSH (NOSCRIPT)")
    func scripts() async throws {
        let server = try await RedisServer()
        defer { server.stop() }
        let redis = try await RedisConnection.connect(to: server.url, on: Self.group.next())
        defer { redis.close() }
        let script = RedisScript("return redis.call('INCRBY', KEYS[1], ARGV[1])")
        #expect(script.sha1.count == 40)
        #expect(try await redis.run(script, keys: ["{t}:n"], arguments: [5], timeout: Self.timeout) == .integer(5))
        #expect(try await redis.run(script, keys: ["{t}:n"], arguments: [2], timeout: Self.timeout) == .integer(7))
        try await redis.command(["SCRIPT", "FLUSH"], timeout: Self.timeout)
        #expect(try await redis.run(script, keys: ["{t}:n"], arguments: [1], timeout: Self.timeout) == .integer(8))
    }

    @Test("AUTH and SELECT from the URL; a wrong password is the server's error, at connect")
    func authAndSelect() async throws {
        let server = try await RedisServer(password: "s3cret pass")
        defer { server.stop() }
        var url = server.url
        do {
            let anonymous = try await RedisConnection.connect(to: url, on: Self.group.next())
            defer { anonymous.close() }
            _ = try await anonymous.command(["GET", "x"], timeout: Self.timeout)
            Issue.record("a command without AUTH was answered")
        } catch {
            #expect(error.description.contains("NOAUTH"), "\(error)")
        }
        url.password = "wrong"
        await #expect(throws: RedisError.self) { try await RedisConnection.connect(to: url, on: Self.group.next()) }
        url.password = nil
        url.database = 3
        let db3 = try await RedisConnection.connect(to: url, password: "s3cret pass", on: Self.group.next())
        defer { db3.close() }
        try await db3.command(["SET", "where", "three"], timeout: Self.timeout)
        url.database = 0
        let db0 = try await RedisConnection.connect(to: url, password: "s3cret pass", on: Self.group.next())
        defer { db0.close() }
        #expect(try await db0.command(["GET", "where"], timeout: Self.timeout).isNull)
    }

    @Test("the pooled client: Redis stopped, calls fail within the timeout; Redis back on its port, calls succeed again")
    func reconnect() async throws {
        let server = try await RedisServer()
        // The timeout covers making the connection too; a busy machine (the whole suite at
        // once) may need more than a fraction of a second for the first one. A stopped Redis
        // refuses connections, so the calls below fail fast whatever the timeout.
        let client = RedisClient(url: server.url, group: Self.group, commandTimeout: .seconds(2))
        defer { client.close() }
        try await client.command(["SET", "a", "1"])
        #expect(try await client.command(["GET", "a"]).string == "1")
        let port = server.port
        server.stop()
        let started = Date()
        for _ in 0..<5 {
            await #expect(throws: RedisError.self) { try await client.command(["GET", "a"]) }
        }
        #expect(Date().timeIntervalSince(started) < 2, "a dead Redis fails calls fast")
        let again = try await RedisServer(port: port)
        defer { again.stop() }
        var answered = false
        for _ in 0..<80 where !answered {
            answered = (try? await client.command(["PING"])) == .simpleString("PONG")
            if !answered { try await Task.sleep(nanoseconds: 50_000_000) }
        }
        #expect(answered, "the client came back once Redis did")
    }

    @Test("rediss://: TLS to a redis-server with the development certificate, verified; an untrusted one is refused")
    func tls() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("awsgw-redis-tls-\(UUID().uuidString.prefix(8))").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let files = try SelfSignedCertificate.make(in: dir)
        let server = try await RedisServer(password: "pw", tls: (files.certificate, files.key))
        defer { server.stop() }
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.trustRoots = .file(files.certificate)
        let trusted = try NIOSSLContext(configuration: configuration)
        let url = RedisURL("rediss://:pw@localhost:\(server.port)")!
        let redis = try await RedisConnection.connect(to: url, on: Self.group.next(), tls: trusted)
        defer { redis.close() }
        #expect(try await redis.command(["PING"], timeout: Self.timeout) == .simpleString("PONG"))
        await #expect(throws: RedisError.self) { try await RedisConnection.connect(to: url, on: Self.group.next()) }
    }

    @Test("a slow server costs the timeout, then the connection closes; a dead one fails at once, never a hang")
    func slowAndDead() async throws {
        let server = try await RedisServer()
        defer { server.stop() }
        let admin = try await RedisConnection.connect(to: server.url, on: Self.group.next())
        let redis = try await RedisConnection.connect(to: server.url, on: Self.group.next())
        try await admin.command(["CLIENT", "PAUSE", "1500"], timeout: Self.timeout)
        let started = Date()
        do {
            _ = try await redis.command(["GET", "x"], timeout: .milliseconds(100))
            Issue.record("answered during the pause")
        } catch {
            #expect(error == .timeout)
        }
        #expect(Date().timeIntervalSince(started) < 1.0)
        try await Task.sleep(nanoseconds: 100_000_000)
        #expect(!redis.isOpen)
        admin.close()
        server.stop()
        await #expect(throws: RedisError.self) { try await RedisConnection.connect(to: server.url, on: Self.group.next(), timeout: .milliseconds(200)) }
    }
}

@Suite("RedisClient against a server that breaks the protocol")
struct RedisMalformedServerTests {
    @Test("a malformed reply fails the command and closes the connection; the client does not crash")
    func malformedReply() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let server = try await ServerBootstrap(group: group)
            .childChannelInitializer { channel in channel.pipeline.addHandler(GarbageReplier()) }
            .bind(host: "127.0.0.1", port: 0).get()
        let url = RedisURL("redis://127.0.0.1:\(server.localAddress!.port!)")!
        let redis = try await RedisConnection.connect(to: url, on: group.next())
        do {
            _ = try await redis.command(["PING"], timeout: .seconds(2))
            Issue.record("garbage was accepted")
        } catch {
            if case .protocolError = error {} else { Issue.record("\(error)") }
        }
        try await Task.sleep(nanoseconds: 50_000_000)
        #expect(!redis.isOpen)
        try await server.close()
        try await group.shutdownGracefully()
    }
}

/// Answers anything with bytes that are not RESP.
final class GarbageReplier: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer
    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(string: "?garbage\r\n")), promise: nil)
    }
}

extension RESPValue {
    var isError: Bool {
        if case .error = self { return true }
        return false
    }
}

extension RedisServer {
    var url: RedisURL { RedisURL("redis://127.0.0.1:\(port)")! }
}
