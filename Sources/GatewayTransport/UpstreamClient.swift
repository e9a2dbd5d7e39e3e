import AWSClient
import AWSPrimitives
import AWSProtocols
import Foundation
import NIOCore
import NIOPosix
import NIOSSL

/// The HTTP/1.1 client to AWS: keep-alive connections pooled per event loop, so a call
/// that runs on a connection's event loop sends and receives on that same thread.
///
/// It does what the gateway needs and no more: one request at a time per connection,
/// TLS with the system's trust roots and SNI, connect and request deadlines, a bound on
/// response size. Requests are written and answers read by `HTTP1Parser`'s codec.
public final class UpstreamClient: HTTPTransport, @unchecked Sendable {
    let group: EventLoopGroup
    let connectTimeout: TimeAmount
    let maxResponseBytes: Int
    let tlsContext: NIOSSLContext
    /// One pool per event loop, made up front: a pool is only touched on its own loop.
    private let pools: [ObjectIdentifier: UpstreamPool]

    public init(group: EventLoopGroup, connectTimeoutSeconds: Double, maxResponseBytes: Int, trustRoots: NIOSSLTrustRoots = .default) throws {
        self.group = group
        connectTimeout = .milliseconds(Int64(connectTimeoutSeconds * 1000))
        self.maxResponseBytes = maxResponseBytes
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.trustRoots = trustRoots
        tls.minimumTLSVersion = .tlsv12
        tlsContext = try NIOSSLContext(configuration: tls)
        var pools: [ObjectIdentifier: UpstreamPool] = [:]
        for loop in group.makeIterator() { pools[ObjectIdentifier(loop)] = UpstreamPool(eventLoop: loop) }
        self.pools = pools
    }

    public func shutdown() async {
        for pool in pools.values {
            try? await pool.eventLoop.submit { pool.closeAll() }.get()
        }
    }

    public func send(_ request: PreparedRequest, timeoutSeconds: Double) async throws(TransportError) -> ResponseData {
        // A call runs on its connection's event loop: its request goes out on that loop's pool.
        var pool = CurrentEventLoop.value.flatMap { pools[ObjectIdentifier($0)] }
        if pool == nil { pool = pools[ObjectIdentifier(group.next())] }
        guard let pool else { throw TransportError(kind: .other, message: "no connection pool for this event loop") }
        let deadline = NIODeadline.now() + .milliseconds(Int64(max(timeoutSeconds, 0.001) * 1000))
        let result = await withUnsafeContinuation { (continuation: UnsafeContinuation<Result<ResponseData, TransportError>, Never>) in
            if pool.eventLoop.inEventLoop {
                pool.execute(request, deadline: deadline, client: self) { continuation.resume(returning: $0) }
            } else {
                pool.eventLoop.execute {
                    pool.execute(request, deadline: deadline, client: self) { continuation.resume(returning: $0) }
                }
            }
        }
        return try result.get()
    }
}

/// A request URL split for sending: where it goes and what the request line names.
struct UpstreamTarget {
    let origin: UpstreamOrigin
    /// The path and query ("/" when the URL has no path).
    let pathAndQuery: Substring

    /// A target with an origin of its own (a pool finds its origins again instead).
    init?(url: String) {
        guard let (origin, path) = UpstreamTarget.split(url), let parsed = UpstreamOrigin(origin) else { return nil }
        self.init(origin: parsed, pathAndQuery: path)
    }

    init(origin: UpstreamOrigin, pathAndQuery: Substring) {
        self.origin = origin
        self.pathAndQuery = pathAndQuery.isEmpty ? "/" : pathAndQuery
    }

    /// `http[s]://authority` and what follows it (from its first `/`); nil for another scheme.
    static func split(_ url: String) -> (origin: Substring, pathAndQuery: Substring)? {
        // Bytes, not String.hasPrefix and index walks: this runs for every call.
        var url = url
        let end: Int? = url.withUTF8 { bytes in
            let scheme: Int
            if bytes.starts(with: "https://".utf8) { scheme = 8 } else if bytes.starts(with: "http://".utf8) { scheme = 7 } else { return nil }
            var end = scheme
            while end < bytes.count, bytes[end] != UInt8(ascii: "/") { end += 1 }
            return end
        }
        guard let end else { return nil }
        let boundary = url.utf8.index(url.utf8.startIndex, offsetBy: end)
        return (url[..<boundary], url[boundary...])
    }
}

/// One scheme, host and port that requests go to, with its pool's connections to it
/// (touched only on that pool's event loop). Parsed once, then found again by its text.
final class UpstreamOrigin {
    let tls: Bool
    let host: String
    let port: Int
    /// The URLs' text up to the path: `https://host[:port]`.
    let text: String
    /// Idle keep-alive connections, how many are open, and the requests waiting for one.
    var idle: [UpstreamConnection] = []
    var open = 0
    var waiting: [UpstreamPool.Waiter] = []

    init?(_ text: Substring) {
        let tls = text.hasPrefix("https://")
        guard tls || text.hasPrefix("http://") else { return nil }
        let authority = text.dropFirst(tls ? 8 : 7)
        var host = authority
        var port = tls ? 443 : 80
        if let colon = authority.lastIndex(of: ":"), !authority.hasSuffix("]"), let p = Int(authority[authority.index(after: colon)...]) {
            host = authority[..<colon]
            port = p
        }
        if host.hasPrefix("[") && host.hasSuffix("]") { host = host.dropFirst().dropLast() }
        guard !host.isEmpty else { return nil }
        self.tls = tls
        self.host = String(host)
        self.port = port
        self.text = String(text)
    }
}

/// An open connection to AWS with its handler, found once when it connects (not looked up
/// in its pipeline for every request).
struct UpstreamConnection {
    let channel: Channel
    let handler: UpstreamConnectionHandler
}

/// The upstream connections of one event loop, by origin (scheme/host/port): idle
/// keep-alive ones for reuse, a cap on how many are open, and the requests waiting for
/// one. Everything here runs on its loop and answers through callbacks (no futures on a
/// call's path).
final class UpstreamPool: @unchecked Sendable {
    typealias Answer = (Result<ResponseData, TransportError>) -> Void
    let eventLoop: EventLoop
    /// Connections per host and event loop: AWS is not flooded with new connections
    /// under a burst; requests over the cap wait for a free one.
    static let maxConnectionsPerHost = 64

    /// A request waiting for a connection; answered once, by a connection or its deadline.
    final class Waiter {
        var answer: ((Result<UpstreamConnection, TransportError>) -> Void)?
        var timer: Scheduled<Void>?
        init(_ answer: @escaping (Result<UpstreamConnection, TransportError>) -> Void) { self.answer = answer }

        func complete(_ result: Result<UpstreamConnection, TransportError>) {
            guard let answer else { return }
            self.answer = nil
            timer?.cancel()
            answer(result)
        }
    }

    private var origins: [String: UpstreamOrigin] = [:]
    /// The origin of the last request: most calls go where the one before went.
    private var lastOrigin: UpstreamOrigin?

    /// `url` split, its origin found again (or parsed the first time); nil for a URL that
    /// is not `http[s]://host[:port]/...`.
    func target(_ url: String) -> UpstreamTarget? {
        guard let (text, path) = UpstreamTarget.split(url) else { return nil }
        if let last = lastOrigin, Self.same(text, last.text) { return UpstreamTarget(origin: last, pathAndQuery: path) }
        let key = String(text)
        let origin: UpstreamOrigin
        if let known = origins[key] {
            origin = known
        } else {
            guard let parsed = UpstreamOrigin(text) else { return nil }
            origins[key] = parsed
            origin = parsed
        }
        lastOrigin = origin
        return UpstreamTarget(origin: origin, pathAndQuery: path)
    }

    private static func same(_ text: Substring, _ known: String) -> Bool {
        var known = known
        return known.withUTF8 { known in
            text.utf8.withContiguousStorageIfAvailable { text in
                text.count == known.count && (text.count == 0 || memcmp(text.baseAddress!, known.baseAddress!, text.count) == 0)
            } ?? text.utf8.elementsEqual(known)
        }
    }

    init(eventLoop: EventLoop) { self.eventLoop = eventLoop }

    func execute(_ request: PreparedRequest, deadline: NIODeadline, client: UpstreamClient, answer: @escaping Answer) {
        eventLoop.preconditionInEventLoop()
        guard let target = target(request.url) else {
            answer(.failure(TransportError(kind: .other, message: "cannot send to \(request.url)")))
            return
        }
        // Most calls find an idle connection: sent at once, with no closure made to wait.
        while let connection = target.origin.idle.popLast() {
            if connection.channel.isActive {
                send(request, target: target, on: connection, deadline: deadline, client: client, answer: answer)
                return
            }
            target.origin.open -= 1
        }
        acquire(target, deadline: deadline, client: client) { result in
            switch result {
            case .success(let connection): self.send(request, target: target, on: connection, deadline: deadline, client: client, answer: answer)
            case .failure(let error): answer(.failure(error))
            }
        }
    }

    /// With no idle connection: a new one under the cap, or a place in the queue.
    private func acquire(_ target: UpstreamTarget, deadline: NIODeadline, client: UpstreamClient,
                         then: @escaping (Result<UpstreamConnection, TransportError>) -> Void) {
        let host = target.origin
        if host.open < Self.maxConnectionsPerHost {
            host.open += 1
            connect(target, client: client) { result in
                if case .failure = result {
                    host.open -= 1
                    self.wakeWaiter(target, client: client)
                }
                then(result)
            }
            return
        }
        let waiter = Waiter(then)
        host.waiting.append(waiter)
        waiter.timer = eventLoop.scheduleTask(deadline: deadline) {
            host.waiting.removeAll { $0 === waiter }
            waiter.complete(.failure(TransportError(kind: .timeout, message: "no upstream connection free in time")))
        }
    }

    /// A connection is done with a request: reuse it for a waiter, keep it idle, or close it.
    private func release(_ connection: UpstreamConnection, reusable: Bool, target: UpstreamTarget, client: UpstreamClient) {
        let host = target.origin
        guard reusable, connection.channel.isActive else {
            connection.channel.close(promise: nil)
            host.open -= 1
            wakeWaiter(target, client: client)
            return
        }
        if !host.waiting.isEmpty {
            host.waiting.removeFirst().complete(.success(connection))
            return
        }
        host.idle.append(connection)
    }

    /// A connection slot came free: open a connection for the next waiter, if any.
    private func wakeWaiter(_ target: UpstreamTarget, client: UpstreamClient) {
        let host = target.origin
        guard !host.waiting.isEmpty, host.open < Self.maxConnectionsPerHost else { return }
        let waiter = host.waiting.removeFirst()
        host.open += 1
        connect(target, client: client) { result in
            if case .failure = result {
                host.open -= 1
                self.wakeWaiter(target, client: client)
            }
            waiter.complete(result)
        }
    }

    private func send(_ request: PreparedRequest, target: UpstreamTarget, on connection: UpstreamConnection, deadline: NIODeadline,
                      client: UpstreamClient, answer: @escaping Answer) {
        let handler = connection.handler
        handler.send(request, target: target, deadline: deadline) { result in
            let reusable: Bool
            if case .success = result { reusable = handler.reusable } else { reusable = false }
            self.release(connection, reusable: reusable, target: target, client: client)
            answer(result)
        }
    }

    private func connect(_ target: UpstreamTarget, client: UpstreamClient, then: @escaping (Result<UpstreamConnection, TransportError>) -> Void) {
        let maxResponse = client.maxResponseBytes
        let tlsContext = client.tlsContext
        ClientBootstrap(group: eventLoop)
            .connectTimeout(client.connectTimeout)
            .channelOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let sync = channel.pipeline.syncOperations
                    if target.origin.tls {
                        try sync.addHandler(try NIOSSLClientHandler(context: tlsContext, serverHostname: target.origin.host))
                    }
                    try sync.addHandler(UpstreamConnectionHandler(maxResponseBytes: maxResponse))
                }
            }
            .connect(host: target.origin.host, port: target.origin.port)
            .whenComplete { result in
                switch result {
                case .success(let channel):
                    guard let handler = try? channel.pipeline.syncOperations.handler(type: UpstreamConnectionHandler.self) else {
                        channel.close(promise: nil)
                        then(.failure(TransportError(kind: .other, message: "connection set-up failed")))
                        return
                    }
                    then(.success(UpstreamConnection(channel: channel, handler: handler)))
                case .failure(let error):
                    then(.failure(TransportError(kind: .connect, message: "cannot connect to \(target.origin.host):\(target.origin.port): \(error)")))
                }
            }
    }

    func closeAll() {
        for origin in origins.values {
            for connection in origin.idle { connection.channel.close(promise: nil) }
            for waiter in origin.waiting { waiter.complete(.failure(TransportError(kind: .other, message: "shutting down"))) }
            origin.idle = []
            origin.waiting = []
        }
        origins = [:]
        lastOrigin = nil
    }
}

/// One upstream connection: writes a request as one buffer and reads its answer with
/// `HTTP1Parser`, one request at a time.
final class UpstreamConnectionHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    let maxResponseBytes: Int
    private var parser: HTTP1Parser
    private var unparsed: ByteBuffer?
    /// Told the answer to the request in flight, once.
    private var answer: UpstreamPool.Answer?
    /// The request in flight's deadline, and the connection's one timer: set when a
    /// request goes out with none pending, it re-arms itself for the request then in
    /// flight. A timer set and cancelled per request cost NIO a search of its timer heap.
    private var deadline = NIODeadline.distantFuture
    private var timer: Scheduled<Void>?
    private var timerDue = NIODeadline.distantFuture
    private var context: ChannelHandlerContext?
    /// Whether the connection may carry another request after this answer.
    private(set) var reusable = false

    init(maxResponseBytes: Int) {
        self.maxResponseBytes = maxResponseBytes
        parser = HTTP1Parser(kind: .response, maxBodyBytes: maxResponseBytes)
    }

    func handlerAdded(context: ChannelHandlerContext) { self.context = context }

    func handlerRemoved(context: ChannelHandlerContext) { self.context = nil }

    /// Writes `request` and tells `answer` its answer, or a failure by `deadline`.
    func send(_ request: PreparedRequest, target: UpstreamTarget, deadline: NIODeadline, answer: @escaping UpstreamPool.Answer) {
        self.answer = answer
        reusable = false
        unparsed = nil
        parser.answersHead = request.method == "HEAD"
        guard let context else {
            fail(TransportError(kind: .other, message: "connection set-up failed"), close: true)
            return
        }
        let buffer: ByteBuffer
        do {
            buffer = try Self.encode(request, target: target, allocator: context.channel.allocator)
        } catch {
            fail(error, close: true)
            return
        }
        self.deadline = deadline
        if timer == nil || deadline < timerDue {
            timer?.cancel()
            arm(context: context, at: deadline)
        }
        context.writeAndFlushThisTurn(wrapOutboundOut(buffer))
        IdlePoller.work(awaiting: .upstream)
    }

    private func arm(context: ChannelHandlerContext, at due: NIODeadline) {
        timerDue = due
        timer = context.eventLoop.scheduleTask(deadline: due) { [weak self] in
            guard let self else { return }
            self.timer = nil
            guard self.answer != nil else { return }
            if self.deadline <= .now() {
                self.fail(TransportError(kind: .timeout, message: "no answer in time"), close: true)
            } else {
                self.arm(context: context, at: self.deadline)
            }
        }
    }

    /// The request as it goes on the wire: its headers in order (a `Host` added when it
    /// has none), its body framed by its Content-Length, or chunked when it says so.
    static func encode(_ request: PreparedRequest, target: UpstreamTarget, allocator: ByteBufferAllocator) throws(TransportError) -> ByteBuffer {
        // The head is put together in a local array and copied into the buffer once: each
        // write into a ByteBuffer is a checked access, and a head is some fifty pieces.
        var head: [UInt8] = []
        head.reserveCapacity(1024)
        head.append(contentsOf: request.method.utf8)
        head.append(0x20)
        var path = target.pathAndQuery
        let pathWritten = path.withUTF8 { path in
            guard path.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else { return false }
            head.append(contentsOf: path)
            return true
        }
        guard HTTP1.isWritableName(request.method), pathWritten else {
            throw TransportError(kind: .other, message: "cannot write the request line for \(request.method) \(target.pathAndQuery)")
        }
        head.append(contentsOf: " HTTP/1.1\r\n".utf8)
        var hasHost = false
        var chunked = false
        var hasLength = false
        for header in request.headers {
            // Each field checked and written from its bytes in one pass.
            var name = header.name, value = header.value
            let written = name.withUTF8 { name in
                value.withUTF8 { value in
                    guard !name.isEmpty, name.allSatisfy(HTTP1.isTokenByte), value.allSatisfy(HTTP1.isValueByte) else { return false }
                    let raw = UnsafeRawBufferPointer(name)
                    switch name.count {
                    case 4 where HTTP1.nameIs(raw, "host"): hasHost = true
                    case 14 where HTTP1.nameIs(raw, "content-length"): hasLength = true
                    case 17 where HTTP1.nameIs(raw, "transfer-encoding"):
                        chunked = header.value.split(separator: ",").last.map { String($0).trimmingSpaces.equalsIgnoringASCIICase("chunked") } ?? false
                    default: break
                    }
                    head.append(contentsOf: name)
                    head.append(0x3A)
                    head.append(0x20)
                    head.append(contentsOf: value)
                    head.append(0x0D)
                    head.append(0x0A)
                    return true
                }
            }
            guard written else {
                throw TransportError(kind: .other, message: "header \(header.name.debugDescription) has a character that cannot be sent")
            }
        }
        if !hasHost {
            let origin = target.origin
            let host = origin.port == (origin.tls ? 443 : 80) ? origin.host : "\(origin.host):\(origin.port)"
            head.append(contentsOf: "Host: \(host)\r\n".utf8)
        }
        if !chunked && !hasLength && !request.body.isEmpty {
            head.append(contentsOf: "Content-Length: \(request.body.count)\r\n".utf8)
        }
        head.append(0x0D)
        head.append(0x0A)
        var buffer = allocator.buffer(capacity: head.count + request.body.count + 16)
        buffer.writeBytes(head)
        if chunked {
            if !request.body.isEmpty {
                buffer.writeString(String(request.body.count, radix: 16) + "\r\n")
                buffer.writeBytes(request.body)
                buffer.writeStaticString("\r\n")
            }
            buffer.writeStaticString("0\r\n\r\n")
        } else {
            buffer.writeBytes(request.body)
        }
        return buffer
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        IdlePoller.event()
        var bytes = unwrapInboundIn(data)
        guard answer != nil else {
            // Bytes nobody asked for: the connection is out of step.
            reusable = false
            context.close(promise: nil)
            return
        }
        if unparsed == nil {
            unparsed = bytes
        } else {
            unparsed!.writeBuffer(&bytes)
        }
        var buffer = unparsed!
        unparsed = nil
        do {
            guard let message = try parser.next(&buffer) else {
                if buffer.readableBytes > 0 { unparsed = buffer }
                return
            }
            complete(message, leftover: buffer.readableBytes)
        } catch {
            fail(Self.transportError(error, limit: maxResponseBytes), close: true)
        }
    }

    private func complete(_ message: HTTP1Message, leftover: Int) {
        guard let answer else { return }
        self.answer = nil
        reusable = message.keepAlive && leftover == 0
        answer(.success(ResponseData(status: message.head.status, headers: message.head.headers, body: Array(message.body.readableBytesView))))
    }

    static func transportError(_ error: HTTP1Error, limit: Int) -> TransportError {
        switch error {
        case .bodyTooLarge(let declared?):
            return TransportError(kind: .responseTooLarge, message: "response of \(declared) bytes is over the limit of \(limit)")
        case .bodyTooLarge(nil):
            return TransportError(kind: .responseTooLarge, message: "response over \(limit) bytes")
        case .headTooLarge:
            return TransportError(kind: .other, message: "invalid HTTP answer: head too large")
        case .unsupportedVersion:
            return TransportError(kind: .other, message: "invalid HTTP answer: unsupported version")
        case .malformed(let reason):
            return TransportError(kind: .other, message: "invalid HTTP answer: \(reason)")
        }
    }

    private func fail(_ error: TransportError, close: Bool) {
        guard let answer else { return }
        self.answer = nil
        reusable = false
        answer(.failure(error))
        if close { context?.close(promise: nil) }
    }

    func channelInactive(context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
        if answer != nil {
            // An answer delimited by the close is complete now; any other is cut short.
            if var buffer = unparsed {
                unparsed = nil
                if let message = try? parser.next(&buffer) {
                    complete(message, leftover: 0)
                }
            }
            if let message = try? parser.end() { complete(message, leftover: 0) }
            fail(TransportError(kind: .connectionClosed, message: "connection closed before the answer"), close: false)
        }
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        fail(TransportError(kind: .other, message: "\(error)"), close: true)
        context.close(promise: nil)
    }
}

/// The event loop the current call runs on (its task runs on a loop's executor), so that
/// its request to AWS uses a connection on the same loop.
enum CurrentEventLoop {
    static var value: EventLoop? { MultiThreadedEventLoopGroup.currentEventLoop }
}
