import AWSJSON
import AWSPrimitives
import Foundation
import GatewayCore
import GatewayTransport
import Logging
import NIOCore
import NIOHTTP1

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
                try sync.addHandler(HTTPConnectionHandler(server: server, peer: peer, activity: activity))
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
