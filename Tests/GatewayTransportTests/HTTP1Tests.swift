import AWSClient
import AWSProtocols
import Foundation
import GatewayCore
@testable import GatewayServer
import GatewayTesting
@testable import GatewayTransport
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import Testing

/// The HTTP/1.1 codec both ends of a call use: requests read by the listeners, requests
/// written to AWS and its answers read.
@Suite("HTTP/1.1 codec")
struct HTTP1Tests {
    static func buffer(_ text: String) -> ByteBuffer { ByteBuffer(string: text) }

    /// Every message in `text`, fed whole, then fed one byte at a time (both must agree).
    static func requests(_ text: String, maxBody: Int = 1 << 20) throws -> [HTTP1Message] {
        var parser = HTTP1Parser(kind: .request, maxBodyBytes: maxBody)
        var whole = buffer(text)
        var messages: [HTTP1Message] = []
        while let message = try parser.next(&whole) { messages.append(message) }
        var trickled = HTTP1Parser(kind: .request, maxBodyBytes: maxBody)
        var pending = ByteBuffer()
        var byByte: [HTTP1Message] = []
        for byte in text.utf8 {
            pending.writeInteger(byte)
            while let message = try trickled.next(&pending) { byByte.append(message) }
        }
        #expect(byByte.map(Self.describe) == messages.map(Self.describe), "fed a byte at a time, \(text.debugDescription) read differently")
        return messages
    }

    static func describe(_ message: HTTP1Message) -> String {
        let head = message.head
        return "\(head.method) \(head.target) 1.\(head.minorVersion) \(head.status) "
            + head.headers.map { "\($0.name)=\($0.value)" }.joined(separator: "|")
            + " keepAlive=\(message.keepAlive) body=\(String(buffer: message.body))"
    }

    static func error(_ text: String, kind: HTTP1Parser.Kind = .request, maxBody: Int = 1 << 20) -> HTTP1Error? {
        var parser = HTTP1Parser(kind: kind, maxHeadBytes: 1024, maxBodyBytes: maxBody)
        var bytes = buffer(text)
        do {
            while try parser.next(&bytes) != nil {}
            return nil
        } catch {
            return error
        }
    }

    @Test("requests: heads, bodies by length or chunks, pipelined, byte by byte")
    func requests() throws {
        let messages = try Self.requests(
            "\r\nPOST /a?b=1 HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nX-Empty:\r\nAuthorization:  v \t\r\nOrigin:\r\n\r\nhello"
                + "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3;ext=1\r\nabc\r\nA\r\n0123456789\r\n0\r\nTrailer: t\r\n\r\n"
                + "GET /healthz HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n"
                + "GET / HTTP/1.0\r\n\r\n"
                + "GET / HTTP/1.1\r\nConnection: TE, close\r\n\r\n")
        #expect(messages.map(Self.describe) == [
            // A request keeps only the fields the listener acts on (values trimmed, empty ones too).
            "POST /a?b=1 1.1 0 Host=x|Content-Length=5|Authorization=v|Origin= keepAlive=true body=hello",
            "POST / 1.1 0 Transfer-Encoding=chunked keepAlive=true body=abc0123456789",
            "GET /healthz 1.0 0 Connection=Keep-Alive keepAlive=true body=",
            "GET / 1.0 0  keepAlive=false body=",
            "GET / 1.1 0 Connection=TE, close keepAlive=false body=",
        ])
    }

    @Test("a field's comma-separated tokens: trimmed, compared without case, empty items skipped")
    func tokens() {
        func has(_ value: String, _ token: StaticString) -> Bool {
            Array(value.utf8).withUnsafeBytes { HTTP1.tokens($0, contain: token) }
        }
        #expect(has("close", "close") && has("Keep-Alive", "keep-alive") && has("TE, close", "close"))
        #expect(has(" \tclose\t ,x", "close") && has(",,close,", "close") && has("a ,  CLOSE", "close"))
        #expect(!has("", "close") && !has(",", "close") && !has("closed", "close") && !has("clo se", "close") && !has("x,close-ish", "close"))
    }

    @Test("malformed requests are refused with the error their status is chosen by",
          arguments: [
            ("GET /\r\n\r\n", HTTP1Error.malformed("invalid request line")),
            ("GET  / HTTP/1.1\r\n\r\n", .malformed("invalid request line")),
            ("GET / HTTP/1.1 \r\n\r\n", .malformed("invalid HTTP version")),
            ("GET / HTTP/9.9\r\n\r\n", .unsupportedVersion),
            ("GET / HTTP/2.0\r\n\r\n", .unsupportedVersion),
            ("GET / HTTP/1.1\r\nX-Folded: a\r\n  b\r\n\r\n", .malformed("obsolete line folding")),
            ("GET / HTTP/1.1\r\nX-Bad : a\r\n\r\n", .malformed("invalid header name")),
            ("GET / HTTP/1.1\r\nNoColon\r\n\r\n", .malformed("header line without a colon")),
            ("GET / HTTP/1.1\r\nX: a\nb\r\n\r\n", .malformed("invalid character in a header value")),
            ("GET / HTTP/1.1\r\nX: a\rb\r\n\r\n", .malformed("invalid character in a header value")),
            ("POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\na", .malformed("more than one Content-Length")),
            ("POST / HTTP/1.1\r\nContent-Length: +5\r\n\r\n", .malformed("invalid Content-Length")),
            ("POST / HTTP/1.1\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
             .malformed("both Content-Length and Transfer-Encoding")),
            ("POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n", .malformed("unsupported Transfer-Encoding")),
            ("POST / HTTP/1.1\r\nTransfer-Encoding: chunked, chunked\r\n\r\n", .malformed("unsupported Transfer-Encoding")),
            ("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", .malformed("invalid chunk size")),
            ("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nab\r\n", .malformed("chunk not followed by CRLF")),
            ("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1000000000000000\r\n", .malformed("chunk size too large")),
            ("POST / HTTP/1.1\r\nContent-Length: 11\r\n\r\n", .bodyTooLarge(declared: 11)),
            ("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n6\r\n123456\r\n5\r\n12345\r\n", .bodyTooLarge(declared: nil)),
            ("GET / HTTP/1.1\r\nX: " + String(repeating: "a", count: 1100), .headTooLarge),
            ("GET / HTTP/1.1\r\nX: " + String(repeating: "a", count: 1100) + "\r\n\r\n", .headTooLarge),
          ])
    func malformedRequests(_ text: String, _ expected: HTTP1Error) {
        #expect(Self.error(text, maxBody: 10) == expected)
    }

    @Test("answers: interim 1xx skipped, no body for HEAD/204/304, chunked, delimited by the close")
    func responses() throws {
        var parser = HTTP1Parser(kind: .response, maxBodyBytes: 1 << 20)
        var bytes = Self.buffer("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
            + "HTTP/1.1 204 No Content\r\nX-A: 1\r\n\r\n"
            + "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n")
        let ok = try #require(try parser.next(&bytes))
        #expect(ok.head.status == 200 && String(buffer: ok.body) == "ok" && ok.keepAlive)
        let empty = try #require(try parser.next(&bytes))
        #expect(empty.head.status == 204 && empty.body.readableBytes == 0 && empty.head.headers.first?.value == "1")
        let chunked = try #require(try parser.next(&bytes))
        #expect(String(buffer: chunked.body) == "{}" && chunked.keepAlive)
        #expect(bytes.readableBytes == 0)

        parser.answersHead = true
        var head = Self.buffer("HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n")
        let headAnswer = try #require(try parser.next(&head))
        #expect(headAnswer.body.readableBytes == 0 && headAnswer.head.value(at: headAnswer.head.contentLengthIndex) == "1234")
        parser.answersHead = false

        var untilClose = Self.buffer("HTTP/1.0 200 OK\r\n\r\npart one, ")
        #expect(try parser.next(&untilClose) == nil)
        var more = Self.buffer("part two")
        #expect(try parser.next(&more) == nil)
        let closed = try #require(try parser.end())
        #expect(String(buffer: closed.body) == "part one, part two" && !closed.keepAlive)

        var cut = Self.buffer("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc")
        #expect(try parser.next(&cut) == nil)
        #expect(throws: HTTP1Error.malformed("connection closed in the middle of a message")) { try parser.end() }

        #expect(Self.error("HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\n", kind: .response, maxBody: 10) == .bodyTooLarge(declared: 11))
        #expect(Self.error("HTTP/1.1 2000 OK\r\n\r\n", kind: .response) == .malformed("invalid status line"))
        #expect(Self.error("HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n", kind: .response) == nil)
    }

    static let target = UpstreamTarget(url: "http://127.0.0.1:8080/p?q=1")!

    @Test("a request to AWS is written as one buffer: headers in order, Host added, body by length or chunked")
    func encodeRequest() throws {
        let plain = PreparedRequest(method: "POST", url: "", headers: [("X-Amz-Date", "20261201T000000Z"), ("Content-Length", "2")], body: Array("{}".utf8))
        let written = try UpstreamConnectionHandler.encode(plain, target: Self.target, allocator: ByteBufferAllocator())
        #expect(String(buffer: written) == "POST /p?q=1 HTTP/1.1\r\nX-Amz-Date: 20261201T000000Z\r\nContent-Length: 2\r\nHost: 127.0.0.1:8080\r\n\r\n{}")

        let chunked = PreparedRequest(method: "PUT", url: "", headers: [("Host", "b.s3.amazonaws.com"), ("Transfer-Encoding", "chunked")],
                                      body: Array("0123456789abcdefX".utf8))
        #expect(String(buffer: try UpstreamConnectionHandler.encode(chunked, target: Self.target, allocator: ByteBufferAllocator()))
            == "PUT /p?q=1 HTTP/1.1\r\nHost: b.s3.amazonaws.com\r\nTransfer-Encoding: chunked\r\n\r\n11\r\n0123456789abcdefX\r\n0\r\n\r\n")

        let injected = PreparedRequest(method: "GET", url: "", headers: [("X-Amz-Meta-A", "a\r\nX-Evil: 1")])
        #expect(throws: TransportError.self) { try UpstreamConnectionHandler.encode(injected, target: Self.target, allocator: ByteBufferAllocator()) }
        let badName = PreparedRequest(method: "GET", url: "", headers: [("X Space", "a")])
        #expect(throws: TransportError.self) { try UpstreamConnectionHandler.encode(badName, target: Self.target, allocator: ByteBufferAllocator()) }
    }

    @Test("the upstream client reads answers from a real socket: split, chunked, after 100, HEAD then reuse, delimited by the close")
    func upstreamClientAnswers() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let server = try await RawHTTPServer(group: group)
        let client = try UpstreamClient(group: group, connectTimeoutSeconds: 2, maxResponseBytes: 1 << 20)
        func call(method: String = "POST", _ answer: [String], close: Bool = false) async throws -> ResponseData {
            server.answer(answer, close: close)
            return try await client.send(PreparedRequest(method: method, url: "http://127.0.0.1:\(server.port)/x", headers: [], body: Array("{}".utf8)),
                                         timeoutSeconds: 5)
        }
        let split = try await call(["HTTP/1.1 200 OK\r\nx-amzn-Request", "Id: r1\r\nContent-Length: 5\r\n\r\n{\"a", "\"}"])
        #expect(split.status == 200 && split.header("x-amzn-requestid") == "r1" && String(decoding: split.body, as: UTF8.self) == "{\"a\"}")
        let chunked = try await call(["HTTP/1.1 400 Bad Request\r\nTransfer-Encoding: chunked\r\n\r\n5;x=y\r\n{\"__t\r\n", "7\r\nype\":1}\r\n0\r\n\r\n"])
        #expect(chunked.status == 400 && String(decoding: chunked.body, as: UTF8.self) == "{\"__type\":1}")
        let interim = try await call(["HTTP/1.1 100 Continue\r\n\r\n", "HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n"])
        #expect(interim.status == 201 && interim.body.isEmpty)
        let head = try await call(method: "HEAD", ["HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n"])
        #expect(head.status == 200 && head.body.isEmpty)
        let reused = try await call(["HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"])
        #expect(String(decoding: reused.body, as: UTF8.self) == "ok")
        #expect(server.connections == 1, "every answer so far kept the connection")
        let delimited = try await call(["HTTP/1.1 200 OK\r\n\r\nuntil ", "the close"], close: true)
        #expect(String(decoding: delimited.body, as: UTF8.self) == "until the close")
        let fresh = try await call(["HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n1"])
        #expect(String(decoding: fresh.body, as: UTF8.self) == "1" && server.connections == 2)
        await #expect(throws: TransportError.self) { try await call(["HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc"], close: true) }
        await #expect(throws: TransportError.self) { try await call(["HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n"]) }
        // The request as it went out, byte for byte.
        #expect(server.requests.first == "POST /x HTTP/1.1\r\nHost: 127.0.0.1:\(server.port)\r\nContent-Length: 2\r\n\r\n{}")
        #expect(server.requests.count == 9)
        await client.shutdown()
        try await server.channel.close()
        try await group.shutdownGracefully()
    }

    @Test("the upstream pool finds each origin again: requests to two hosts in turn each reach theirs, on kept connections")
    func upstreamOrigins() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let first = try await RawHTTPServer(group: group), second = try await RawHTTPServer(group: group)
        let client = try UpstreamClient(group: group, connectTimeoutSeconds: 2, maxResponseBytes: 1 << 20)
        func call(_ url: String) async throws(TransportError) -> String {
            let answer = try await client.send(PreparedRequest(method: "GET", url: url, headers: []), timeoutSeconds: 5)
            return String(decoding: answer.body, as: UTF8.self)
        }
        first.answer(["HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nfirst"], close: false)
        second.answer(["HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nsecond"], close: false)
        for round in 0..<3 {
            #expect(try await call("http://127.0.0.1:\(first.port)/a/\(round)?q=\(round)") == "first")
            #expect(try await call("http://127.0.0.1:\(second.port)/b/\(round)") == "second")
        }
        // No path: the request line names "/".
        #expect(try await call("http://127.0.0.1:\(first.port)") == "first")
        #expect(first.requests == (0..<3).map { "GET /a/\($0)?q=\($0) HTTP/1.1\r\nHost: 127.0.0.1:\(first.port)\r\n\r\n" }
                + ["GET / HTTP/1.1\r\nHost: 127.0.0.1:\(first.port)\r\n\r\n"])
        #expect(second.requests == (0..<3).map { "GET /b/\($0) HTTP/1.1\r\nHost: 127.0.0.1:\(second.port)\r\n\r\n" })
        #expect(first.connections == 1 && second.connections == 1, "each origin's connection kept and found again")
        // What is not an http(s) URL with a host is refused before any connection is made.
        for url in ["ftp://127.0.0.1/x", "http:///x", "127.0.0.1:\(first.port)/x", "https://:443/x"] {
            do {
                _ = try await call(url)
                Issue.record("\(url) was sent")
            } catch {
                #expect(error.kind == .other && error.message.hasPrefix("cannot send to"), "\(url): \(error)")
            }
        }
        await client.shutdown()
        try await first.channel.close()
        try await second.channel.close()
        try await group.shutdownGracefully()
    }

    @Test("the upstream answer deadline: each request on a kept connection is timed by its own timeout")
    func upstreamDeadlines() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let server = try await RawHTTPServer(group: group)
        let client = try UpstreamClient(group: group, connectTimeoutSeconds: 2, maxResponseBytes: 1 << 20)
        let ok = ["HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"]
        func call(timeout: Double) async throws(TransportError) -> ResponseData {
            try await client.send(PreparedRequest(method: "POST", url: "http://127.0.0.1:\(server.port)/x", headers: [], body: Array("{}".utf8)),
                                  timeoutSeconds: timeout)
        }
        // A long timeout first, then a short one on the same connection: the short one fires in time.
        server.answer(ok, close: false)
        _ = try await call(timeout: 30)
        server.answer([], close: false)
        let started = Date()
        do {
            _ = try await call(timeout: 0.3)
            Issue.record("an answer that never came was not timed out")
        } catch {
            #expect(error.kind == .timeout)
        }
        #expect(Date().timeIntervalSince(started) < 5, "timed by its own 0.3 s, not the earlier call's 30 s")
        // A short timeout, then a longer one answered after the first would have expired.
        server.answer(ok, close: false)
        _ = try await call(timeout: 0.2)
        server.answer(ok, close: false, delayMs: 400)
        let late = try await call(timeout: 3)
        #expect(String(decoding: late.body, as: UTF8.self) == "ok")
        await client.shutdown()
        try await server.channel.close()
        try await group.shutdownGracefully()
    }
}

/// A TCP server that records each request's raw bytes and answers with the raw pieces it
/// is given (each piece written and flushed on its own), closing after them when told.
final class RawHTTPServer: @unchecked Sendable {
    private let lock = NIOLock()
    private var pieces: [String] = []
    private var closeAfter = false
    private var recorded: [String] = []
    private var accepted = 0
    private(set) var channel: Channel!
    var port: Int { channel.localAddress!.port! }
    var requests: [String] { lock.withLock { recorded } }
    var connections: Int { lock.withLock { accepted } }

    init(group: EventLoopGroup) async throws {
        channel = try await ServerBootstrap(group: group)
            .childChannelInitializer { channel in
                self.lock.withLock { self.accepted += 1 }
                return channel.pipeline.addHandler(Handler(server: self))
            }
            .bind(host: "127.0.0.1", port: 0).get()
    }

    private var delayMs: Int64 = 0

    /// The next answers: `pieces`, the first after `delayMs`, then 20 ms apart.
    func answer(_ pieces: [String], close: Bool, delayMs: Int64 = 0) {
        lock.withLock {
            self.pieces = pieces
            closeAfter = close
            self.delayMs = delayMs
        }
    }

    final class Handler: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        typealias OutboundOut = ByteBuffer
        let server: RawHTTPServer
        var pending = ""
        init(server: RawHTTPServer) { self.server = server }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            pending += String(buffer: unwrapInboundIn(data))
            // Requests here carry `{}` (2 bytes) or nothing after the head.
            guard let end = pending.range(of: "\r\n\r\n") else { return }
            let bodyLength = pending.contains("Content-Length: 2") ? 2 : 0
            guard pending[end.upperBound...].utf8.count >= bodyLength else { return }
            let request = pending
            pending = ""
            let (pieces, close, delay) = server.lock.withLock {
                server.recorded.append(request)
                return (server.pieces, server.closeAfter, server.delayMs)
            }
            for (index, piece) in pieces.enumerated() {
                context.eventLoop.scheduleTask(in: .milliseconds(delay + Int64(index * 20))) {
                    context.writeAndFlush(self.wrapOutboundOut(ByteBuffer(string: piece)), promise: nil)
                    if close && index == pieces.count - 1 { context.close(promise: nil) }
                }
            }
        }
    }
}
