import AWSClient
import AWSJSON
import Foundation
import GatewayCore
import Logging
import NIOCore
import NIOHTTP1

/// What every connection handler of one listener needs: the gateway, its limits, the
/// listener's connection budget and the `Host` names it answers to.
final class ServerContext: @unchecked Sendable {
    let gateway: Gateway
    let limits: GatewayLimits
    let connections: ConnectionTracker
    let logger: Logger
    let listener: String
    let kind: ListenerKind
    /// Lower-case `Host` values accepted on tcp:/tls: (empty on unix:, where any is).
    /// Set while the listener is being bound, read-only afterwards.
    var allowedHosts: Set<String>

    init(gateway: Gateway, limits: GatewayLimits, connections: ConnectionTracker, logger: Logger, listener: String, kind: ListenerKind,
         allowedHosts: Set<String>) {
        self.gateway = gateway
        self.limits = limits
        self.connections = connections
        self.logger = logger
        self.listener = listener
        self.kind = kind
        self.allowedHosts = allowedHosts
    }

    /// Whether a request's `Host` names this listener. Browsers always send one, so a
    /// page on another name (DNS rebinding) is refused; a request without one is not a
    /// browser's.
    func acceptsHost(_ value: String?) -> Bool {
        guard kind != .unix, let value else { return true }
        var host = Substring(value.lowercased())
        if host.hasPrefix("[") {
            if let close = host.firstIndex(of: "]") { host = host[...close] }
        } else if let colon = host.lastIndex(of: ":") {
            host = host[..<colon]
        }
        return allowedHosts.contains(String(host))
    }
}

/// Admits a connection within its listener's budget (closing the longest-idle one at the
/// limit) and its peer's; closes it at once otherwise.
final class ConnectionLimitHandler: ChannelInboundHandler {
    typealias InboundIn = NIOAny
    let server: ServerContext
    let activity: ConnectionActivity

    init(server: ServerContext, activity: ConnectionActivity) {
        self.server = server
        self.activity = activity
    }

    func channelActive(context: ChannelHandlerContext) {
        let peer = server.kind == .unix ? nil : context.channel.remoteAddress?.ipAddress
        switch server.connections.admit(context.channel, activity: activity, peer: peer) {
        case .admitted:
            context.fireChannelActive()
        case .admittedAfterReaping:
            server.gateway.metrics.reapedConnections.increment()
            context.fireChannelActive()
        case .overLimit, .overPeerLimit:
            server.gateway.metrics.rejectedConnections.increment()
            context.close(promise: nil)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        server.connections.remove(context.channel)
        context.fireChannelInactive()
    }
}

/// Looks at a connection's first byte and sets up the framing it speaks: HTTP/1.1 when
/// it is an upper-case letter (a method), newline-delimited JSON otherwise.
final class FramingDetector: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    let server: ServerContext
    let activity: ConnectionActivity

    init(server: ServerContext, activity: ConnectionActivity) {
        self.server = server
        self.activity = activity
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        guard let first = buffer.readableBytesView.first else { return }
        // Who is calling is known once the connection speaks: peer credentials on a Unix
        // socket, the verified client certificate on TLS.
        let peer = PeerIdentityReader.read(context.channel, kind: server.kind)
        do {
            let sync = context.pipeline.syncOperations
            if first >= UInt8(ascii: "A") && first <= UInt8(ascii: "Z") {
                // The head timer sees raw bytes, so it goes before the HTTP decoder.
                let headTimer = RequestHeadTimer(timeout: server.limits.headerTimeoutSeconds, activity: activity)
                try sync.addHandler(headTimer)
                // Malformed requests are answered by HTTPConnectionHandler, with a JSON body.
                try sync.configureHTTPServerPipeline(withPipeliningAssistance: true, withErrorHandling: false)
                try sync.addHandler(HTTPConnectionHandler(server: server, peer: peer, headTimer: headTimer, activity: activity))
            } else {
                try sync.addHandler(LineDeadline(timeout: server.limits.headerTimeoutSeconds, activity: activity))
                try sync.addHandler(ByteToMessageHandler(LineFramer(maxLength: server.limits.maxBodyBytes)))
                try sync.addHandler(NDJSONConnectionHandler(server: server, peer: peer, activity: activity))
            }
        } catch {
            context.close(promise: nil)
            return
        }
        context.fireChannelRead(data)
        context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        // A connection that never says anything is closed when it has been idle too long,
        // and at once when its peer has stopped sending.
        if event is IdleStateHandler.IdleStateEvent || (event as? ChannelEvent) == .inputClosed {
            context.close(promise: nil)
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    /// Errors before any framing (a failed TLS handshake, say) end the connection.
    func errorCaught(context: ChannelHandlerContext, error: Error) {
        server.logger.debug("connection error before framing", metadata: ["error": "\(error)"])
        context.close(promise: nil)
    }
}

/// The JSON answer for a body over the limit.
func tooLargeAnswer(_ limit: Int) -> [UInt8] {
    RPCEnvelope.response(id: .null, error: RPCError(
        code: RPCError.invalidRequest, message: "request over \(limit) bytes",
        data: .object(JSONObject([("limit", .int(Int64(limit)))]))))
}

/// A JSON-RPC error answer for a request refused before it was read as JSON-RPC.
func refusalAnswer(_ code: Int, _ message: String) -> [UInt8] {
    RPCEnvelope.response(id: .null, error: RPCError(code: code, message: message))
}

/// HTTP/1.1: `POST` (any path) carries JSON-RPC; `GET /healthz`; `GET /metrics`.
/// Pipelined requests are answered in order (NIO's pipelining handler holds later ones).
final class HTTPConnectionHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    let server: ServerContext
    let peer: PeerIdentity
    let headTimer: RequestHeadTimer
    let activity: ConnectionActivity
    private var head: HTTPRequestHead?
    private var body = ByteBuffer()
    private var rejected = false
    private var callPending = false
    /// The client has stopped sending: close once what it asked for is answered.
    private var inputClosed = false
    private var headTimeout: Scheduled<Void>?

    init(server: ServerContext, peer: PeerIdentity, headTimer: RequestHeadTimer, activity: ConnectionActivity) {
        self.server = server
        self.peer = peer
        self.headTimer = headTimer
        self.activity = activity
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let requestHead):
            headTimer.headArrived()
            activity.busy()
            head = requestHead
            body.clear()
            rejected = false
            if let length = requestHead.headers.first(name: "content-length").flatMap(Int.init), length > server.limits.maxBodyBytes {
                reject(context: context)
            } else if requestHead.headers.first(name: "expect")?.lowercased() == "100-continue" {
                // curl asks before sending larger bodies; say yes rather than make it wait.
                context.writeAndFlush(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .continue))), promise: nil)
            }
        case .body(var chunk):
            guard !rejected else { return }
            if body.readableBytes + chunk.readableBytes > server.limits.maxBodyBytes {
                reject(context: context)
                return
            }
            body.writeBuffer(&chunk)
        case .end:
            headTimeout?.cancel()
            headTimeout = nil
            guard !rejected, let requestHead = head else { return }
            head = nil
            route(context: context, head: requestHead)
        }
    }

    /// The rest of a request must follow within the header timeout. Timed only when a read
    /// ends with the request incomplete: most requests come whole in one read, and a timer
    /// set and cancelled per request costs the event loop's timer heap work on every call.
    func channelReadComplete(context: ChannelHandlerContext) {
        if head != nil, headTimeout == nil, !rejected {
            headTimeout = context.eventLoop.scheduleTask(in: .milliseconds(Int64(server.limits.headerTimeoutSeconds * 1000))) { [weak self] in
                guard let self, self.head != nil, !self.callPending else { return }
                self.respond(context: context, status: .requestTimeout,
                             body: refusalAnswer(RPCError.invalidRequest, "request not completed within the header timeout"),
                             contentType: "application/json", close: true)
            }
        }
        context.fireChannelReadComplete()
    }

    private func reject(context: ChannelHandlerContext) {
        rejected = true
        headTimeout?.cancel()
        respond(context: context, status: .payloadTooLarge, body: tooLargeAnswer(server.limits.maxBodyBytes), contentType: "application/json", close: true)
    }

    private func route(context: ChannelHandlerContext, head: HTTPRequestHead) {
        let keepAlive = head.isKeepAlive && !inputClosed
        // Browsers send Origin; a page must never drive the gateway (DNS rebinding, CSRF).
        if head.headers.contains(name: "origin") {
            respond(context: context, status: .forbidden, body: refusalAnswer(RPCError.invalidRequest, "requests from browsers are refused"),
                    contentType: "application/json", close: !keepAlive)
            return
        }
        // A Host that does not name this listener is a page that rebound its name to us.
        let hosts = head.headers[canonicalForm: "host"]
        if hosts.count > 1 || !server.acceptsHost(hosts.first.map(String.init)) {
            respond(context: context, status: .misdirectedRequest,
                    body: refusalAnswer(RPCError.invalidRequest, "Host does not name this listener; add it to allowed_hosts to accept it"),
                    contentType: "application/json", close: true)
            return
        }
        let path = head.uri.split(separator: "?", maxSplits: 1).first.map(String.init) ?? head.uri
        switch head.method {
        case .GET where path == "/healthz":
            respond(context: context, status: .ok, body: Array("ok\n".utf8), contentType: "text/plain", close: !keepAlive)
        case .GET where path == "/metrics":
            respond(context: context, status: .ok, body: server.gateway.metricsText(), contentType: "text/plain; version=0.0.4",
                    close: !keepAlive)
        case .POST:
            callPending = true
            let bytes = Array(body.readableBytesView)
            let gateway = server.gateway
            var bearer: String?
            if let authorization = head.headers.first(name: "authorization"), authorization.lowercased().hasPrefix("bearer ") {
                bearer = String(authorization.dropFirst(7)).trimmingCharacters(in: .whitespaces)
            }
            let callContext = CallContext(listener: server.listener, peer: peer, bearerToken: bearer)
            context.eventLoop.runOnLoop { await gateway.handle(bytes, context: callContext) }.whenSuccess { answer in
                self.callPending = false
                let close = !keepAlive || self.inputClosed
                if let retryAfterMs = answer.retryAfterMs, let answerBody = answer.body {
                    self.respond(context: context, status: .serviceUnavailable, body: answerBody, contentType: "application/json", close: close,
                                 extraHeaders: [("Retry-After", String(max(1, (retryAfterMs + 999) / 1000)))])
                } else if let answerBody = answer.body {
                    self.respond(context: context, status: .ok, body: answerBody, contentType: "application/json", close: close)
                } else {
                    self.respond(context: context, status: .noContent, body: [], contentType: nil, close: close)
                }
            }
        case .GET, .HEAD:
            respond(context: context, status: .notFound, body: Array("not found: POST JSON-RPC to any path, or GET /healthz, /metrics\n".utf8),
                    contentType: "text/plain", close: !keepAlive)
        default:
            respond(context: context, status: .methodNotAllowed, body: Array("use POST for JSON-RPC\n".utf8), contentType: "text/plain",
                    close: !keepAlive, extraHeaders: [("Allow", "GET, POST")])
        }
    }

    private func respond(context: ChannelHandlerContext, status: HTTPResponseStatus, body: [UInt8], contentType: String?, close: Bool,
                         extraHeaders: [(String, String)] = []) {
        guard context.channel.isActive else { return }
        var headers = HTTPHeaders()
        if let contentType { headers.add(name: "Content-Type", value: contentType) }
        if status != .noContent { headers.add(name: "Content-Length", value: String(body.count)) }
        for (name, value) in extraHeaders { headers.add(name: name, value: value) }
        if close { headers.add(name: "Connection", value: "close") }
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: status, headers: headers))), promise: nil)
        if !body.isEmpty {
            context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(bytes: body)))), promise: nil)
        }
        let done = context.writeAndFlushPromise()
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: done)
        if close {
            done.futureResult.whenComplete { _ in context.close(promise: nil) }
        } else {
            // The next request's head is timed from its first byte.
            headTimer.awaitNextHead()
            activity.idle()
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if (event as? ChannelEvent) == .inputClosed {
            // The client will send nothing more: answer what is in flight, then close.
            // NIO delivers this after any pipelined requests it still holds.
            inputClosed = true
            if !callPending && head == nil { context.close(promise: nil) }
            return
        }
        if let idle = event as? IdleStateHandler.IdleStateEvent, idle == .all, !callPending, head == nil {
            context.close(promise: nil)
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        guard let parserError = error as? HTTPParserError else {
            server.logger.debug("http connection error", metadata: ["error": "\(error)"])
            context.close(promise: nil)
            return
        }
        // A malformed request: say so in JSON-RPC's terms, then close (the stream can no
        // longer be trusted to be in step). If an answer is still being made, it goes
        // first and the connection closes after it.
        if callPending {
            inputClosed = true
            return
        }
        headTimeout?.cancel()
        head = nil
        rejected = true
        let status: HTTPResponseStatus
        switch parserError {
        case .headerOverflow: status = .requestHeaderFieldsTooLarge
        case .invalidVersion: status = .httpVersionNotSupported
        default: status = .badRequest
        }
        respond(context: context, status: status, body: refusalAnswer(RPCError.invalidRequest, "malformed HTTP request: \(parserError)"),
                contentType: "application/json", close: true)
    }
}

/// Closes a connection whose request head does not arrive in full within the header
/// timeout of its first byte (a client trickling a head must not hold a connection).
final class RequestHeadTimer: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    let timeout: Double
    let activity: ConnectionActivity
    private var awaitingHead = true
    /// Bytes came in this read while a head was awaited.
    private var bytesAwaitingHead = false
    private var timer: Scheduled<Void>?

    init(timeout: Double, activity: ConnectionActivity) {
        self.timeout = timeout
        self.activity = activity
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if awaitingHead && timer == nil {
            activity.busy()
            bytesAwaitingHead = true
        }
        context.fireChannelRead(data)
    }

    /// Timed only when a read ends without the head it began (the handlers after this one
    /// have seen the read by now): a whole request in one read sets no timer.
    func channelReadComplete(context: ChannelHandlerContext) {
        if bytesAwaitingHead && awaitingHead && timer == nil {
            timer = context.eventLoop.scheduleTask(in: .milliseconds(Int64(timeout * 1000))) { [weak self] in
                guard let self, self.awaitingHead else { return }
                context.close(promise: nil)
            }
        }
        bytesAwaitingHead = false
        context.fireChannelReadComplete()
    }

    func headArrived() {
        awaitingHead = false
        timer?.cancel()
        timer = nil
    }

    func awaitNextHead() { awaitingHead = true }

    func channelInactive(context: ChannelHandlerContext) {
        timer?.cancel()
        context.fireChannelInactive()
    }
}

/// NDJSON's counterpart of the head timer: a line must be complete within the header
/// timeout of its first byte, or it is answered with -32600 and the connection closed
/// (a line trickled a byte at a time must not hold a connection).
final class LineDeadline: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer
    let timeout: Double
    let activity: ConnectionActivity
    private var timer: Scheduled<Void>?

    init(timeout: Double, activity: ConnectionActivity) {
        self.timeout = timeout
        self.activity = activity
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let bytes = unwrapInboundIn(data).readableBytesView
        if let lastNewline = bytes.lastIndex(of: UInt8(ascii: "\n")) {
            // Whatever was pending is complete; time the line that starts after it.
            timer?.cancel()
            timer = nil
            if lastNewline + 1 < bytes.endIndex { startTimer(context: context) }
        } else if timer == nil && !bytes.isEmpty {
            startTimer(context: context)
        }
        context.fireChannelRead(data)
    }

    private func startTimer(context: ChannelHandlerContext) {
        activity.busy()
        timer = context.eventLoop.scheduleTask(in: .milliseconds(Int64(timeout * 1000))) { [weak self] in
            guard let self, self.timer != nil else { return }
            var buffer = context.channel.allocator.buffer(capacity: 128)
            buffer.writeBytes(refusalAnswer(RPCError.invalidRequest, "line not completed within the header timeout"))
            buffer.writeInteger(UInt8(ascii: "\n"))
            context.writeAndFlush(self.wrapOutboundOut(buffer)).whenComplete { _ in context.close(promise: nil) }
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
        context.fireChannelInactive()
    }
}

extension ChannelHandlerContext {
    func writeAndFlushPromise() -> EventLoopPromise<Void> { eventLoop.makePromise(of: Void.self) }
}

/// Splits a byte stream into lines (without `\n` or a trailing `\r`), refusing any
/// line longer than `maxLength`.
struct LineFramer: ByteToMessageDecoder {
    typealias InboundOut = ByteBuffer
    let maxLength: Int

    struct LineTooLong: Error {}

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        let view = buffer.readableBytesView
        guard let newline = view.firstIndex(of: UInt8(ascii: "\n")) else {
            if buffer.readableBytes > maxLength { throw LineTooLong() }
            return .needMoreData
        }
        let length = newline - view.startIndex
        if length > maxLength { throw LineTooLong() }
        var line = buffer.readSlice(length: length)!
        buffer.moveReaderIndex(forwardBy: 1)
        if line.readableBytesView.last == UInt8(ascii: "\r") { line = line.getSlice(at: line.readerIndex, length: line.readableBytes - 1)! }
        context.fireChannelRead(wrapInboundOut(line))
        return .continue
    }

    mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        // A last line without a newline still counts.
        while try decode(context: context, buffer: &buffer) == .continue {}
        if buffer.readableBytes > 0 {
            let line = buffer.readSlice(length: buffer.readableBytes)!
            context.fireChannelRead(wrapInboundOut(line))
        }
        return .needMoreData
    }
}

/// Newline-delimited JSON: each line one request or batch, each answer one line, in the
/// order the calls complete (callers match answers by id).
final class NDJSONConnectionHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    let server: ServerContext
    let peer: PeerIdentity
    let activity: ConnectionActivity
    private var pending = 0
    private var inputClosed = false

    init(server: ServerContext, peer: PeerIdentity, activity: ConnectionActivity) {
        self.server = server
        self.peer = peer
        self.activity = activity
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let line = unwrapInboundIn(data)
        guard line.readableBytesView.contains(where: { $0 != 0x20 && $0 != 0x09 && $0 != 0x0D }) else { return }
        pending += 1
        activity.busy()
        let bytes = Array(line.readableBytesView)
        let gateway = server.gateway
        let callContext = CallContext(listener: server.listener, peer: peer)
        context.eventLoop.runOnLoop { await gateway.handle(bytes, context: callContext) }.whenSuccess { answer in
            self.pending -= 1
            if self.pending == 0 { self.activity.idle() }
            if let body = answer.body, context.channel.isActive {
                var buffer = context.channel.allocator.buffer(capacity: body.count + 1)
                buffer.writeBytes(body)
                buffer.writeInteger(UInt8(ascii: "\n"))
                context.writeAndFlush(self.wrapOutboundOut(buffer), promise: nil)
            }
            if self.inputClosed && self.pending == 0 { context.close(promise: nil) }
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case ChannelEvent.inputClosed = event {
            // The client is done sending; answer what is pending, then close.
            inputClosed = true
            if pending == 0 { context.close(promise: nil) }
            return
        }
        if let idle = event as? IdleStateHandler.IdleStateEvent, idle == .all, pending == 0 {
            context.close(promise: nil)
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        if error is LineFramer.LineTooLong {
            var buffer = context.channel.allocator.buffer(capacity: 128)
            buffer.writeBytes(tooLargeAnswer(server.limits.maxBodyBytes))
            buffer.writeInteger(UInt8(ascii: "\n"))
            context.writeAndFlush(wrapOutboundOut(buffer)).whenComplete { _ in context.close(promise: nil) }
            return
        }
        server.logger.debug("ndjson connection error", metadata: ["error": "\(error)"])
        context.close(promise: nil)
    }
}
