import AWSJSON
import AWSPrimitives
import Foundation
import GatewayCore
import GatewayTransport
import Logging
import NIOCore
import NIOHTTP1

/// HTTP/1.1: `POST` (any path) carries JSON-RPC; `GET /healthz`; `GET /metrics`.
/// Requests are read with `HTTP1Parser` straight from the connection's bytes; each
/// answer is one buffer, one write. Pipelined requests are answered in order: while a
/// call runs, the bytes after it wait (and no more are read) until its answer is sent.
/// A request must arrive whole within the header timeout: a head not complete in time
/// closes the connection, a body not complete in time (counted from its head) is
/// answered 408.
final class HTTPConnectionHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    let server: ServerContext
    let peer: PeerIdentity
    let activity: ConnectionActivity
    private var parser: HTTP1Parser
    /// Bytes read and not yet parsed: the rest of a request, or requests pipelined after
    /// the one whose call is running.
    private var unparsed: ByteBuffer?
    private var callPending = false
    /// An answer that ends the connection has been sent: nothing more is read.
    private var closing = false
    /// The client has stopped sending: close once what it asked for is answered.
    private var inputClosed = false
    /// NIO asked to read while a call was running; passed on when its answer is sent.
    private var readHeld = false
    private var continueSent = false
    private var deadline: Scheduled<Void>?
    /// Whether the deadline set is the body's (set once the head had arrived).
    private var deadlineIsBody = false
    /// The `Host` this connection's last request was accepted with, so that a keep-alive
    /// client's repeated Host is checked once (nil: none yet; .some(nil): no Host at all).
    private var acceptedHost: String??
    /// Runs this connection's calls on its own event loop.
    private var calls: EventLoopTaskExecutor!
    /// Its event loop's polling and flushing.
    private var tuning = LoopTuning.none

    /// Streamed answers' hang-up list, made with the connection's first one.
    private var hangUps: HangUps?

    func handlerAdded(context: ChannelHandlerContext) {
        calls = EventLoopTaskExecutor(context.eventLoop)
        tuning = server.tunings.on(context.eventLoop)
    }

    init(server: ServerContext, peer: PeerIdentity, activity: ConnectionActivity) {
        self.server = server
        self.peer = peer
        self.activity = activity
        parser = HTTP1Parser(kind: .request, maxBodyBytes: server.limits.maxBodyBytes)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !closing else { return }
        var bytes = unwrapInboundIn(data)
        guard bytes.readableBytes > 0 else { return }
        activity.busy()
        tuning.event()
        if unparsed == nil {
            unparsed = bytes
        } else {
            unparsed!.writeBuffer(&bytes)
        }
        serveUnparsed(context: context)
    }

    /// Answers the requests that have arrived whole, in order, until one's call is
    /// running or the rest is incomplete.
    private func serveUnparsed(context: ChannelHandlerContext) {
        while !callPending && !closing, var bytes = unparsed {
            unparsed = nil
            let request: HTTP1Message?
            do {
                request = try parser.next(&bytes)
            } catch {
                refuse(context: context, error)
                return
            }
            if bytes.readableBytes > 0 { unparsed = bytes }
            guard let request else {
                if let head = parser.head {
                    if deadline != nil && !deadlineIsBody {
                        // The head is in: the body gets its own deadline from the end of this read.
                        deadline?.cancel()
                        deadline = nil
                    }
                    if !continueSent && head.expectsContinue {
                        // curl asks before sending larger bodies; say yes rather than make it wait.
                        continueSent = true
                        context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(staticString: "HTTP/1.1 100 Continue\r\n\r\n")),
                                              promise: nil)
                    }
                }
                break
            }
            deadline?.cancel()
            deadline = nil
            continueSent = false
            route(context: context, request)
        }
        guard !callPending && !closing else { return }
        if inputClosed {
            // Nothing more will come: what is answered is all there is.
            closing = true
            context.close(promise: nil)
        } else if unparsed == nil && !parser.inMessage {
            activity.idle()
        }
    }

    /// A read ended with a request incomplete: it must be completed within the header timeout.
    func channelReadComplete(context: ChannelHandlerContext) {
        if deadline == nil && !callPending && !closing && (unparsed != nil || parser.inMessage) {
            deadlineIsBody = parser.inMessage
            deadline = context.eventLoop.scheduleTask(in: .milliseconds(Int64(server.limits.headerTimeoutSeconds * 1000))) { [weak self] in
                guard let self, self.deadline != nil, !self.callPending, !self.closing else { return }
                self.deadline = nil
                if self.parser.inMessage {
                    self.closeWith(context: context, status: .requestTimeout,
                                   body: refusalAnswer(RPCError.invalidRequest, "request not completed within the header timeout"))
                } else {
                    // A head trickled in: nothing to answer yet, the connection is cut.
                    self.closing = true
                    context.close(promise: nil)
                }
            }
        }
        context.fireChannelReadComplete()
    }

    /// Backpressure: while a call runs, bytes after it are read once and then no more
    /// until it is answered (holding every read would cost two epoll changes per call).
    func read(context: ChannelHandlerContext) {
        if callPending && unparsed != nil {
            readHeld = true
        } else {
            context.read()
        }
    }

    private func refuse(context: ChannelHandlerContext, _ error: HTTP1Error) {
        switch error {
        case .bodyTooLarge:
            closeWith(context: context, status: .payloadTooLarge, body: tooLargeAnswer(server.limits.maxBodyBytes))
        case .headTooLarge:
            closeWith(context: context, status: .requestHeaderFieldsTooLarge,
                      body: refusalAnswer(RPCError.invalidRequest, "malformed HTTP request: head over \(parser.maxHeadBytes) bytes"))
        case .unsupportedVersion:
            closeWith(context: context, status: .httpVersionNotSupported,
                      body: refusalAnswer(RPCError.invalidRequest, "malformed HTTP request: only HTTP/1.0 and HTTP/1.1 are served"))
        case .malformed(let reason):
            closeWith(context: context, status: .badRequest, body: refusalAnswer(RPCError.invalidRequest, "malformed HTTP request: \(reason)"))
        }
    }

    /// Answers and closes: the stream can no longer be trusted to be in step.
    private func closeWith(context: ChannelHandlerContext, status: HTTPResponseStatus, body: [UInt8]) {
        deadline?.cancel()
        deadline = nil
        unparsed = nil
        respond(context: context, status: status, body: body, contentType: "application/json", close: true)
    }

    private func route(context: ChannelHandlerContext, _ request: HTTP1Message) {
        let head = request.head
        let keepAlive = request.keepAlive && !inputClosed
        // Browsers send Origin; a page must never drive the gateway (DNS rebinding, CSRF).
        if head.hasOrigin {
            respond(context: context, status: .forbidden, body: refusalAnswer(RPCError.invalidRequest, "requests from browsers are refused"),
                    contentType: "application/json", close: !keepAlive, version: head.minorVersion)
            return
        }
        // A Host that does not name this listener is a page that rebound its name to us.
        let host = head.value(at: head.hostIndex)
        if head.hostFields > 1 || (host != acceptedHost && !server.acceptsHost(host)) {
            respond(context: context, status: .misdirectedRequest,
                    body: refusalAnswer(RPCError.invalidRequest, "Host does not name this listener; add it to allowed_hosts to accept it"),
                    contentType: "application/json", close: true)
            return
        }
        acceptedHost = host
        // Only GET routes by path (a POST to any path is a call): no split per call.
        let path = head.method == "GET" ? head.target.prefix(while: { $0 != "?" }) : ""
        switch head.method {
        case "GET" where path == "/healthz":
            respond(context: context, status: .ok, body: Array("ok\n".utf8), contentType: "text/plain", close: !keepAlive, version: head.minorVersion)
        case "GET" where path == "/metrics":
            respond(context: context, status: .ok, body: server.gateway.metricsText(), contentType: "text/plain; version=0.0.4",
                    close: !keepAlive, version: head.minorVersion)
        case "POST":
            callPending = true
            let bytes = Array(request.body.readableBytesView)
            let door = server.door
            var bearer: String?
            if let authorization = head.value(at: head.authorizationIndex), authorization.utf8.count > 7,
               authorization.utf8.prefix(7).elementsEqual("bearer ".utf8, by: { ASCIICase.lowercased($0) == $1 }) {
                bearer = String(authorization.dropFirst(7)).trimmingSpaces
            }
            var callContext = CallContext(listener: server.listener, peer: peer, bearerToken: bearer)
            let version = head.minorVersion
            // A caller that accepts NDJSON or server-sent events (over HTTP/1.1, which can
            // send a body in pieces) gets a call's events and pages before its answer.
            var streamed: StreamedAnswer?
            if version >= 1 && (head.acceptsEventStream || head.acceptsNDJSON) {
                if hangUps == nil { hangUps = HangUps(channel: context.channel) }
                let answer = StreamedAnswer(framing: head.acceptsEventStream ? .serverSentEvents : .ndjson, channel: context.channel, hangUps: hangUps!)
                callContext.notifications = answer
                streamed = answer
            }
            calls.call(door, bytes, callContext) { answer in
                self.callPending = false
                // A client that has stopped sending is told this is the last answer, unless
                // requests it pipelined are still to be answered.
                let close = !keepAlive || (self.inputClosed && self.unparsed == nil)
                if let streamed, answer.retryAfterMs == nil, let answerBody = answer.body {
                    if close { self.closing = true }
                    streamed.finish(answerBody, close: close)
                    self.tuning.work(awaiting: .caller)
                } else if let retryAfterMs = answer.retryAfterMs, let answerBody = answer.body {
                    self.respond(context: context, status: .serviceUnavailable, body: answerBody, contentType: "application/json", close: close,
                                 version: version, extraHeaders: [("Retry-After", String(max(1, (retryAfterMs + 999) / 1000)))])
                } else if let answerBody = answer.body {
                    self.respond(context: context, status: .ok, body: answerBody, contentType: "application/json", close: close, version: version)
                } else {
                    self.respond(context: context, status: .noContent, body: [], contentType: nil, close: close, version: version)
                }
                guard !close else { return }
                if self.readHeld {
                    self.readHeld = false
                    context.read()
                }
                self.serveUnparsed(context: context)
            }
        case "GET", "HEAD":
            respond(context: context, status: .notFound, body: Array("not found: POST JSON-RPC to any path, or GET /healthz, /metrics\n".utf8),
                    contentType: "text/plain", close: !keepAlive, version: head.minorVersion, withoutBody: head.method == "HEAD")
        default:
            respond(context: context, status: .methodNotAllowed, body: Array("use POST for JSON-RPC\n".utf8), contentType: "text/plain",
                    close: !keepAlive, version: head.minorVersion, extraHeaders: [("Allow", "GET, POST")])
        }
    }

    /// One answer, written as one buffer. `version` is the request's minor version: an
    /// HTTP/1.0 client that asked to keep the connection is told it is kept.
    private func respond(context: ChannelHandlerContext, status: HTTPResponseStatus, body: [UInt8], contentType: String?, close: Bool,
                         version: Int = 1, extraHeaders: [(String, String)] = [], withoutBody: Bool = false) {
        if close { closing = true }
        guard context.channel.isActive else { return }
        var buffer = context.channel.allocator.buffer(capacity: body.count + 128)
        buffer.writeStaticString("HTTP/1.1 ")
        buffer.writeString(String(status.code))
        buffer.writeStaticString(" ")
        buffer.writeString(status.reasonPhrase)
        buffer.writeStaticString("\r\n")
        if let contentType { buffer.writeHTTPHeader("Content-Type", contentType) }
        if status != .noContent { buffer.writeHTTPHeader("Content-Length", String(body.count)) }
        for (name, value) in extraHeaders { buffer.writeHTTPHeader(name, value) }
        if close {
            buffer.writeStaticString("Connection: close\r\n")
        } else if version == 0 {
            buffer.writeStaticString("Connection: keep-alive\r\n")
        }
        buffer.writeStaticString("\r\n")
        if !withoutBody { buffer.writeBytes(body) }
        if close {
            context.writeAndFlush(wrapOutboundOut(buffer)).whenComplete { _ in context.close(promise: nil) }
        }
        else {
            tuning.writeAndFlush(context, wrapOutboundOut(buffer))
        }
        tuning.work(awaiting: .caller)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if (event as? ChannelEvent) == .inputClosed {
            // The client will send nothing more: answer the requests that came whole, then close.
            inputClosed = true
            if !callPending && !closing { serveUnparsed(context: context) }
            return
        }
        if let idle = event as? IdleStateHandler.IdleStateEvent, idle == .all, !callPending, unparsed == nil, !parser.inMessage {
            context.close(promise: nil)
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelInactive(context: ChannelHandlerContext) {
        deadline?.cancel()
        deadline = nil
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        server.logger.debug("http connection error", metadata: ["error": "\(error)"])
        context.close(promise: nil)
    }
}
