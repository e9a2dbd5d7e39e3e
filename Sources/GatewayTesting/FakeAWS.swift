import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL

/// A real HTTP server on 127.0.0.1 standing in for AWS: it records every request that
/// arrives and answers as the test's script says.
package final class FakeAWS: @unchecked Sendable {
    package struct Request: Sendable {
        package let method: String
        package let uri: String
        package let headers: [(String, String)]
        package let body: [UInt8]
        package var bodyText: String { String(decoding: body, as: UTF8.self) }
        package func header(_ name: String) -> String? { headers.first { $0.0.lowercased() == name.lowercased() }?.1 }
    }

    package enum Reply: Sendable {
        case respond(status: Int, headers: [(String, String)], body: String, delay: Double = 0)
        /// Close the connection without answering.
        case drop
        /// A body sent in pieces (`Transfer-Encoding: chunked`), as AWS sends an event
        /// stream: each piece written once its gate (if any) is opened.
        case stream(status: Int, headers: [(String, String)], pieces: [Piece])
    }

    /// One piece of a streamed body, held back until `after` is opened.
    package struct Piece: Sendable {
        package let bytes: [UInt8]
        package let after: Gate?
        package init(_ bytes: [UInt8], after: Gate? = nil) {
            self.bytes = bytes
            self.after = after
        }
    }

    /// A point a streamed answer waits at until the test opens it.
    package final class Gate: @unchecked Sendable {
        private let lock = NIOLock()
        private var opened = false
        private var waiting: [@Sendable () -> Void] = []
        package init() {}

        package func open() {
            let waiters = lock.withLock {
                opened = true
                defer { waiting = [] }
                return waiting
            }
            for waiter in waiters { waiter() }
        }

        /// Runs `then` once the gate is open (now, if it is).
        package func whenOpen(_ then: @escaping @Sendable () -> Void) {
            let now = lock.withLock {
                if !opened { waiting.append(then) }
                return opened
            }
            if now { then() }
        }
    }

    package typealias Script = @Sendable (_ request: Request, _ attempt: Int) -> Reply

    private let lock = NIOLock()
    private var recorded: [Request] = []
    private var accepted = 0
    private var piecesSent = 0
    private var cutOff = 0
    private var script: Script
    package let group: EventLoopGroup
    private(set) var channel: Channel!

    package var port: Int { channel.localAddress!.port! }

    package let tls: NIOSSLContext?
    package var url: String { (tls == nil ? "http" : "https") + "://localhost:\(port)" }

    package init(group: EventLoopGroup, tls: NIOSSLContext? = nil, script: @escaping Script) async throws {
        self.group = group
        self.script = script
        self.tls = tls
        channel = try await ServerBootstrap(group: group)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .serverChannelOption(ChannelOptions.backlog, value: 1024)
            .childChannelInitializer { channel in
                self.countConnection()
                return channel.eventLoop.makeCompletedFuture {
                    if let tls { try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: tls)) }
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(FakeAWSHandler(server: self))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
    }

    package func countConnection() { lock.withLock { accepted += 1 } }
    /// Connections AWS saw opened.
    package var connections: Int { lock.withLock { accepted } }

    package var requests: [Request] { lock.withLock { recorded } }
    /// Pieces of streamed answers written so far.
    package var streamedPieces: Int { lock.withLock { piecesSent } }
    /// Streamed answers whose connection the gateway closed before the last piece.
    package var streamsCutOff: Int { lock.withLock { cutOff } }
    package func countPiece() { lock.withLock { piecesSent += 1 } }
    package func countCutOff() { lock.withLock { cutOff += 1 } }

    package func setScript(_ script: @escaping Script) { lock.withLock { self.script = script } }

    /// Records the request and decides the reply (attempt counts from 1).
    package func arrived(_ request: Request) -> Reply {
        lock.withLock {
            recorded.append(request)
            return script(request, recorded.count)
        }
    }

    package func stop() async { try? await channel.close() }

    package static let okAssociate: Script = { _, _ in
        .respond(status: 200, headers: [("Content-Type", "application/json"), ("x-amzn-RequestId", "req-ok")],
                 body: #"{"ConnectPeerAssociation":{"ConnectPeerId":"connect-peer-0123","State":"PENDING"}}"#)
    }
}

package final class FakeAWSHandler: ChannelInboundHandler {
    package typealias InboundIn = HTTPServerRequestPart
    package typealias OutboundOut = HTTPServerResponsePart
    package let server: FakeAWS
    package var head: HTTPRequestHead?
    package var body: [UInt8] = []

    package init(server: FakeAWS) { self.server = server }

    package func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let h):
            head = h
            body = []
        case .body(let chunk):
            body += Array(chunk.readableBytesView)
        case .end:
            guard let head else { return }
            let request = FakeAWS.Request(method: head.method.rawValue, uri: head.uri, headers: head.headers.map { ($0.name, $0.value) }, body: body)
            switch server.arrived(request) {
            case .drop:
                context.close(promise: nil)
            case .stream(let status, let headers, let pieces):
                var responseHeaders = HTTPHeaders(headers)
                responseHeaders.replaceOrAdd(name: "Transfer-Encoding", value: "chunked")
                context.writeAndFlush(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: HTTPResponseStatus(statusCode: status), headers: responseHeaders))), promise: nil)
                streaming = true
                send(pieces[...], context: context)
            case .respond(let status, let headers, let text, let delay):
                let write = {
                    var responseHeaders = HTTPHeaders(headers)
                    responseHeaders.replaceOrAdd(name: "Content-Length", value: String(text.utf8.count))
                    context.write(self.wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: HTTPResponseStatus(statusCode: status), headers: responseHeaders))), promise: nil)
                    context.write(self.wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: text)))), promise: nil)
                    context.writeAndFlush(self.wrapOutboundOut(.end(nil)), promise: nil)
                }
                if delay > 0 {
                    context.eventLoop.scheduleTask(in: .milliseconds(Int64(delay * 1000))) { write() }
                } else {
                    write()
                }
            }
        }
    }

    /// Whether a streamed answer is under way (the gateway closing now cuts it off).
    private var streaming = false

    /// Writes the pieces in turn, each once its gate (if any) is open.
    private func send(_ pieces: ArraySlice<FakeAWS.Piece>, context: ChannelHandlerContext, passed: Bool = false) {
        guard context.channel.isActive else { return }
        guard let piece = pieces.first else {
            streaming = false
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
            return
        }
        if let gate = piece.after, !passed {
            let handler = NIOLoopBound((self, context), eventLoop: context.eventLoop)
            gate.whenOpen { handler.eventLoop.execute { handler.value.0.send(pieces, context: handler.value.1, passed: true) } }
            return
        }
        server.countPiece()  // before the write: the gateway may pass it on before this thread goes on
        context.writeAndFlush(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(bytes: piece.bytes)))), promise: nil)
        send(pieces.dropFirst(), context: context)
    }

    package func channelInactive(context: ChannelHandlerContext) {
        if streaming { server.countCutOff() }
        streaming = false
        context.fireChannelInactive()
    }
}
