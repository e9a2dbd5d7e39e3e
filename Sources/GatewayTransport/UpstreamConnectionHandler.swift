import AWSClient
import AWSPrimitives
import AWSProtocols
import Foundation
import NIOCore
import NIOPosix
import NIOSSL

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
    /// Where the answer's body goes as it arrives, for a streamed request.
    private var stream: (any BodyStream)?
    /// How long a streamed body may pause between pieces.
    private var pause = TimeAmount.zero

    /// Its event loop's polling and flushing.
    private let tuning: LoopTuning

    init(maxResponseBytes: Int, tuning: LoopTuning) {
        self.maxResponseBytes = maxResponseBytes
        self.tuning = tuning
        parser = HTTP1Parser(kind: .response, maxBodyBytes: maxResponseBytes)
    }

    func handlerAdded(context: ChannelHandlerContext) { self.context = context }

    func handlerRemoved(context: ChannelHandlerContext) { self.context = nil }

    /// Writes `request` and tells `answer` its answer, or a failure by `deadline`. With a
    /// `stream`, its body goes there as it arrives, and `deadline` then moves on by
    /// `pause` with each piece.
    func send(_ request: PreparedRequest, target: UpstreamTarget, deadline: NIODeadline, stream: (any BodyStream)? = nil,
              pause: TimeAmount = .zero, answer: @escaping UpstreamPool.Answer) {
        self.answer = answer
        reusable = false
        unparsed = nil
        parser.answersHead = request.method == "HEAD"
        self.stream = stream
        self.pause = pause
        parser.decideStreaming = stream.map { stream in { head in stream.head(status: head.status, headers: head.headers) } }
        if let stream, let loop = context?.eventLoop {
            let handler = NIOLoopBound(self, eventLoop: loop)
            stream.attach { [weak stream] in
                loop.execute {
                    // Only while this answer is still the one being read.
                    guard let stream, handler.value.stream === stream else { return }
                    handler.value.fail(TransportError(kind: .connectionClosed, message: "the caller stopped reading the answer"), close: true)
                }
            }
        }
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
        tuning.writeAndFlush(context, wrapOutboundOut(buffer))
        tuning.work(awaiting: .upstream)
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
        tuning.event()
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
            let message = try parser.next(&buffer)
            if parser.streamsBody || message != nil, !deliverPieces() { return }
            guard let message else {
                if buffer.readableBytes > 0 { unparsed = buffer }
                return
            }
            complete(message, leftover: buffer.readableBytes)
        } catch {
            fail(Self.transportError(error, limit: maxResponseBytes), close: true)
        }
    }

    /// Hands a streamed body's new pieces to its reader, and moves the deadline on; false
    /// when the reader is gone (the answer then ends, and the connection is closed).
    private func deliverPieces() -> Bool {
        guard let stream else { return true }
        let pieces = parser.takePieces()
        if pieces.isEmpty { return true }
        deadline = .now() + pause
        for piece in pieces where !stream.received(Array(piece.readableBytesView)) {
            fail(TransportError(kind: .connectionClosed, message: "the caller stopped reading the answer"), close: true)
            return false
        }
        return true
    }

    private func complete(_ message: HTTP1Message, leftover: Int) {
        guard let answer else { return }
        self.answer = nil
        stream = nil
        parser.decideStreaming = nil
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
        stream = nil
        parser.decideStreaming = nil
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
