import AWSJSON
import AWSPrimitives
import Foundation
import GatewayCore
import GatewayTransport
import Logging
import NIOCore
import NIOHTTP1

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

/// Tells the handlers after it (`IdleStateHandler.IdleStateEvent.all`) when nothing has
/// been read or written for `timeout`. NIO's IdleStateHandler does the same but makes a
/// promise per write to note when it completed; a write begun is activity enough here.
final class IdleTimeoutHandler: ChannelDuplexHandler {
    typealias InboundIn = NIOAny
    typealias InboundOut = NIOAny
    typealias OutboundIn = NIOAny
    typealias OutboundOut = NIOAny
    let timeout: TimeAmount
    private var lastActivity = NIODeadline.uptimeNanoseconds(0)
    private var timer: Scheduled<Void>?

    init(timeout: TimeAmount) { self.timeout = timeout }

    func handlerAdded(context: ChannelHandlerContext) {
        lastActivity = context.eventLoop.now
        if context.channel.isActive { arm(context: context, at: context.eventLoop.now + timeout) }
    }

    func channelActive(context: ChannelHandlerContext) {
        if timer == nil { arm(context: context, at: context.eventLoop.now + timeout) }
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        lastActivity = context.eventLoop.now
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        lastActivity = context.eventLoop.now
        context.write(data, promise: promise)
    }

    func channelInactive(context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
        context.fireChannelInactive()
    }

    private func arm(context: ChannelHandlerContext, at deadline: NIODeadline) {
        timer = context.eventLoop.scheduleTask(deadline: deadline) { [weak self] in
            guard let self, context.channel.isActive else { return }
            let due = self.lastActivity + self.timeout
            if due <= context.eventLoop.now {
                context.fireUserInboundEventTriggered(IdleStateHandler.IdleStateEvent.all)
                self.arm(context: context, at: context.eventLoop.now + self.timeout)
            } else {
                self.arm(context: context, at: due)
            }
        }
    }
}
