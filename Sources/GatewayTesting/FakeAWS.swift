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
    }

    package typealias Script = @Sendable (_ request: Request, _ attempt: Int) -> Reply

    private let lock = NIOLock()
    private var recorded: [Request] = []
    private var accepted = 0
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
}
