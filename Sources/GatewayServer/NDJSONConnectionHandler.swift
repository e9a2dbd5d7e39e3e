import AWSJSON
import AWSPrimitives
import Foundation
import GatewayCore
import GatewayTransport
import Logging
import NIOCore
import NIOHTTP1

/// NDJSON's counterpart of HTTP's request deadline: a line must be complete within the header
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
    /// Runs this connection's calls on its own event loop.
    private var calls: EventLoopTaskExecutor!
    /// Its event loop's polling and flushing.
    private var tuning = LoopTuning.none
    /// Where this connection's calls send events and pages: a line each (made once).
    private var messages: NDJSONMessages!

    func handlerAdded(context: ChannelHandlerContext) {
        calls = EventLoopTaskExecutor(context.eventLoop)
        tuning = server.tunings.on(context.eventLoop)
        messages = NDJSONMessages(channel: context.channel)
    }

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
        tuning.event()
        let bytes = Array(line.readableBytesView)
        let door = server.door
        var callContext = CallContext(listener: server.listener, peer: peer)
        // Events and pages go out as lines as they come, before the call's answer.
        callContext.notifications = messages
        calls.call(door, bytes, callContext) { answer in
            self.pending -= 1
            if self.pending == 0 { self.activity.idle() }
            if let body = answer.body, context.channel.isActive {
                var buffer = context.channel.allocator.buffer(capacity: body.count + 1)
                buffer.writeBytes(body)
                buffer.writeInteger(UInt8(ascii: "\n"))
                self.tuning.writeAndFlush(context, self.wrapOutboundOut(buffer))
                self.tuning.work(awaiting: .caller)
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

/// Messages before a call's answer on an NDJSON connection: a line each.
final class NDJSONMessages: CallerMessages {
    let channel: Channel
    let hangUps: HangUps

    init(channel: Channel) {
        self.channel = channel
        hangUps = HangUps(channel: channel)
    }

    func send(_ message: [UInt8]) -> Bool {
        guard channel.isActive else { return false }
        var buffer = channel.allocator.buffer(capacity: message.count + 1)
        buffer.writeBytes(message)
        buffer.writeInteger(UInt8(ascii: "\n"))
        channel.writeAndFlush(buffer, promise: nil)
        return true
    }

    func whenGone(_ hangUp: @escaping @Sendable () -> Void) -> @Sendable () -> Void {
        hangUps.add(hangUp)
    }
}
