import AWSClient
import AWSProtocols
import Foundation
import GatewayCore
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL

/// The HTTP/1.1 client to AWS: keep-alive connections pooled per event loop, so a call
/// that runs on a connection's event loop sends and receives on that same thread.
///
/// It does what the gateway needs and no more: one request at a time per connection,
/// TLS with the system's trust roots and SNI, connect and request deadlines, a bound on
/// response size. Answers are parsed by NIO's HTTP decoder.
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
        let loop = CurrentEventLoop.value ?? group.next()
        guard let pool = pools[ObjectIdentifier(loop)] else {
            throw TransportError(kind: .other, message: "no connection pool for this event loop")
        }
        guard let target = UpstreamTarget(url: request.url) else {
            throw TransportError(kind: .other, message: "cannot send to \(request.url)")
        }
        let deadline = NIODeadline.now() + .milliseconds(Int64(max(timeoutSeconds, 0.001) * 1000))
        // A call already runs on its connection's loop: start at once, without a loop task.
        let future = loop.inEventLoop ? pool.execute(request, target: target, deadline: deadline, client: self) : loop.flatSubmit {
            pool.execute(request, target: target, deadline: deadline, client: self)
        }
        do {
            return try await future.get()
        } catch let error as TransportError {
            throw error
        } catch {
            throw TransportError(kind: .other, message: "\(error)")
        }
    }
}

/// Scheme, host and port of a request URL, and its path and query.
struct UpstreamTarget: Hashable {
    let tls: Bool
    let host: String
    let port: Int
    let pathAndQuery: String

    init?(url: String) {
        let tls: Bool
        let rest: Substring
        if url.hasPrefix("https://") {
            tls = true
            rest = url.dropFirst(8)
        } else if url.hasPrefix("http://") {
            tls = false
            rest = url.dropFirst(7)
        } else {
            return nil
        }
        let authorityEnd = rest.firstIndex(of: "/") ?? rest.endIndex
        let authority = rest[..<authorityEnd]
        pathAndQuery = authorityEnd == rest.endIndex ? "/" : String(rest[authorityEnd...])
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
    }

    var poolKey: String { (tls ? "https://" : "http://") + host + ":" + String(port) }
}

/// The upstream connections of one event loop, by scheme/host/port: idle keep-alive ones
/// for reuse, a cap on how many are open, and the requests waiting for one.
final class UpstreamPool: @unchecked Sendable {
    let eventLoop: EventLoop
    /// Connections per host and event loop: AWS is not flooded with new connections
    /// under a burst; requests over the cap wait for a free one.
    static let maxConnectionsPerHost = 64

    private struct Host {
        var idle: [Channel] = []
        var open = 0
        var waiting: [(EventLoopPromise<Channel>, NIODeadline)] = []
    }
    private var hosts: [String: Host] = [:]

    init(eventLoop: EventLoop) { self.eventLoop = eventLoop }

    func execute(_ request: PreparedRequest, target: UpstreamTarget, deadline: NIODeadline, client: UpstreamClient) -> EventLoopFuture<ResponseData> {
        eventLoop.preconditionInEventLoop()
        return acquire(target, deadline: deadline, client: client).flatMap { channel in
            self.send(request, target: target, on: channel, deadline: deadline, client: client)
        }
    }

    /// An idle connection, a new one under the cap, or a place in the queue.
    private func acquire(_ target: UpstreamTarget, deadline: NIODeadline, client: UpstreamClient) -> EventLoopFuture<Channel> {
        let key = target.poolKey
        var host = hosts[key] ?? Host()
        while let channel = host.idle.popLast() {
            if channel.isActive {
                hosts[key] = host
                return eventLoop.makeSucceededFuture(channel)
            }
            host.open -= 1
        }
        if host.open < Self.maxConnectionsPerHost {
            host.open += 1
            hosts[key] = host
            return connect(target, client: client).flatMapErrorThrowing { error in
                self.hosts[key]?.open -= 1
                self.wakeWaiter(target, client: client)
                throw error
            }
        }
        let promise = eventLoop.makePromise(of: Channel.self)
        host.waiting.append((promise, deadline))
        hosts[key] = host
        eventLoop.scheduleTask(deadline: deadline) {
            promise.fail(TransportError(kind: .timeout, message: "no upstream connection free in time"))
        }
        return promise.futureResult
    }

    /// A connection is done with a request: reuse it for a waiter, keep it idle, or close it.
    private func release(_ channel: Channel, reusable: Bool, target: UpstreamTarget, client: UpstreamClient) {
        let key = target.poolKey
        guard reusable, channel.isActive else {
            channel.close(promise: nil)
            hosts[key]?.open -= 1
            wakeWaiter(target, client: client)
            return
        }
        while var host = hosts[key], !host.waiting.isEmpty {
            let (promise, deadline) = host.waiting.removeFirst()
            hosts[key] = host
            if deadline > .now() {
                promise.succeed(channel)
                return
            }
        }
        hosts[key]?.idle.append(channel)
    }

    /// A connection slot came free: open a connection for the next waiter, if any.
    private func wakeWaiter(_ target: UpstreamTarget, client: UpstreamClient) {
        let key = target.poolKey
        guard var host = hosts[key], !host.waiting.isEmpty, host.open < Self.maxConnectionsPerHost else { return }
        let (promise, _) = host.waiting.removeFirst()
        host.open += 1
        hosts[key] = host
        connect(target, client: client).whenComplete { result in
            switch result {
            case .success(let channel): promise.succeed(channel)
            case .failure(let error):
                self.hosts[key]?.open -= 1
                promise.fail(error)
                self.wakeWaiter(target, client: client)
            }
        }
    }

    private func send(_ request: PreparedRequest, target: UpstreamTarget, on channel: Channel, deadline: NIODeadline,
                      client: UpstreamClient) -> EventLoopFuture<ResponseData> {
        guard let handler = try? channel.pipeline.syncOperations.handler(type: UpstreamConnectionHandler.self) else {
            release(channel, reusable: false, target: target, client: client)
            return eventLoop.makeFailedFuture(TransportError(kind: .other, message: "connection set-up failed"))
        }
        let promise = eventLoop.makePromise(of: ResponseData.self)
        handler.send(request, target: target, promise: promise, deadline: deadline)
        return promise.futureResult.always { result in
            let reusable: Bool
            if case .success = result { reusable = handler.reusable } else { reusable = false }
            self.release(channel, reusable: reusable, target: target, client: client)
        }
    }

    private func connect(_ target: UpstreamTarget, client: UpstreamClient) -> EventLoopFuture<Channel> {
        let maxResponse = client.maxResponseBytes
        let tlsContext = client.tlsContext
        return ClientBootstrap(group: eventLoop)
            .connectTimeout(client.connectTimeout)
            .channelOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let sync = channel.pipeline.syncOperations
                    if target.tls {
                        try sync.addHandler(try NIOSSLClientHandler(context: tlsContext, serverHostname: target.host))
                    }
                    try sync.addHandler(UpstreamConnectionHandler(maxResponseBytes: maxResponse))
                }
            }
            .connect(host: target.host, port: target.port)
            .flatMapErrorThrowing { error in
                throw TransportError(kind: .connect, message: "cannot connect to \(target.host):\(target.port): \(error)")
            }
    }

    func closeAll() {
        for host in hosts.values {
            for channel in host.idle { channel.close(promise: nil) }
            for (promise, _) in host.waiting { promise.fail(TransportError(kind: .other, message: "shutting down")) }
        }
        hosts = [:]
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
    private var promise: EventLoopPromise<ResponseData>?
    private var timeout: Scheduled<Void>?
    private var context: ChannelHandlerContext?
    /// Whether the connection may carry another request after this answer.
    private(set) var reusable = false

    init(maxResponseBytes: Int) {
        self.maxResponseBytes = maxResponseBytes
        parser = HTTP1Parser(kind: .response, maxBodyBytes: maxResponseBytes)
    }

    func handlerAdded(context: ChannelHandlerContext) { self.context = context }

    func handlerRemoved(context: ChannelHandlerContext) { self.context = nil }

    /// Writes `request` and completes `promise` with its answer, or fails it by `deadline`.
    func send(_ request: PreparedRequest, target: UpstreamTarget, promise: EventLoopPromise<ResponseData>, deadline: NIODeadline) {
        self.promise = promise
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
        timeout = context.eventLoop.scheduleTask(deadline: deadline) { [weak self] in
            self?.fail(TransportError(kind: .timeout, message: "no answer in time"), close: true)
        }
        context.writeAndFlush(wrapOutboundOut(buffer), promise: nil)
    }

    /// The request as it goes on the wire: its headers in order (a `Host` added when it
    /// has none), its body framed by its Content-Length, or chunked when it says so.
    static func encode(_ request: PreparedRequest, target: UpstreamTarget, allocator: ByteBufferAllocator) throws(TransportError) -> ByteBuffer {
        guard HTTP1.isWritableName(request.method), target.pathAndQuery.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
            throw TransportError(kind: .other, message: "cannot write the request line for \(request.method) \(target.pathAndQuery)")
        }
        var buffer = allocator.buffer(capacity: request.body.count + 512)
        buffer.writeString(request.method)
        buffer.writeStaticString(" ")
        buffer.writeString(target.pathAndQuery)
        buffer.writeStaticString(" HTTP/1.1\r\n")
        var hasHost = false
        var chunked = false
        var hasLength = false
        for header in request.headers {
            guard HTTP1.isWritableName(header.name), HTTP1.isWritableValue(header.value) else {
                throw TransportError(kind: .other, message: "header \(header.name.debugDescription) has a character that cannot be sent")
            }
            if !hasHost && HTTP1.sameName(header.name, "host") { hasHost = true }
            if !hasLength && HTTP1.sameName(header.name, "content-length") { hasLength = true }
            if !chunked && HTTP1.sameName(header.name, "transfer-encoding") {
                chunked = header.value.split(separator: ",").last.map { HTTP1.sameName(String($0.trimmingSpaces), "chunked") } ?? false
            }
            buffer.writeHTTPHeader(header.name, header.value)
        }
        if !hasHost {
            buffer.writeHTTPHeader("Host", target.port == (target.tls ? 443 : 80) ? target.host : "\(target.host):\(target.port)")
        }
        if !chunked && !hasLength && !request.body.isEmpty {
            buffer.writeHTTPHeader("Content-Length", String(request.body.count))
        }
        buffer.writeStaticString("\r\n")
        if chunked {
            if !request.body.isEmpty {
                buffer.writeString(String(request.body.count, radix: 16))
                buffer.writeStaticString("\r\n")
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
        var bytes = unwrapInboundIn(data)
        guard promise != nil else {
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
        guard let promise else { return }
        self.promise = nil
        timeout?.cancel()
        timeout = nil
        reusable = message.keepAlive && leftover == 0
        promise.succeed(ResponseData(status: message.head.status, headers: message.head.headers, body: Array(message.body.readableBytesView)))
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
        guard let promise else { return }
        self.promise = nil
        timeout?.cancel()
        timeout = nil
        reusable = false
        promise.fail(error)
        if close { context?.close(promise: nil) }
    }

    func channelInactive(context: ChannelHandlerContext) {
        if promise != nil {
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
