import GatewayCore
import NIOCore

/// An HTTP answer sent in pieces (`Transfer-Encoding: chunked`) to a caller that accepts
/// them: the messages a call sends before its answer (`$event`, `$page`) as they come,
/// then the answer; each one JSON-RPC message, as an NDJSON line or a server-sent event.
final class StreamedAnswer: CallerMessages, @unchecked Sendable {
    enum Framing {
        case ndjson, serverSentEvents

        var contentType: String { self == .ndjson ? "application/x-ndjson" : "text/event-stream" }
    }

    let framing: Framing
    let channel: Channel
    /// Whether the head went out (loop only).
    private var headWritten = false

    /// The connection's hang-up list (it may carry more requests after this one).
    let hangUps: HangUps

    init(framing: Framing, channel: Channel, hangUps: HangUps) {
        self.framing = framing
        self.channel = channel
        self.hangUps = hangUps
    }

    /// A message before the answer, from any thread; false once the caller is gone.
    func send(_ message: [UInt8]) -> Bool {
        guard channel.isActive else { return false }
        if channel.eventLoop.inEventLoop {
            write(message, last: false)
        } else {
            channel.eventLoop.execute { self.write(message, last: false) }
        }
        return true
    }

    func whenGone(_ hangUp: @escaping @Sendable () -> Void) -> @Sendable () -> Void {
        hangUps.add(hangUp)
    }

    /// The answer, on the loop: the last message, then the end of the body. `close` asks
    /// the caller to close (and closes once written).
    func finish(_ answer: [UInt8], close: Bool) {
        write(answer, last: true, close: close)
    }

    private func write(_ message: [UInt8], last: Bool, close: Bool = false) {
        guard channel.isActive else { return }
        var buffer = channel.allocator.buffer(capacity: message.count + 160)
        if !headWritten {
            headWritten = true
            buffer.writeStaticString("HTTP/1.1 200 OK\r\n")
            buffer.writeHTTPHeader("Content-Type", framing.contentType)
            buffer.writeStaticString("Transfer-Encoding: chunked\r\nCache-Control: no-cache\r\n")
            if close { buffer.writeStaticString("Connection: close\r\n") }
            buffer.writeStaticString("\r\n")
        }
        let prefix: StaticString = framing == .ndjson ? "" : "data: "
        let suffix: StaticString = framing == .ndjson ? "\n" : "\n\n"
        buffer.writeString(String(message.count + prefix.utf8CodeUnitCount + suffix.utf8CodeUnitCount, radix: 16))
        buffer.writeStaticString("\r\n")
        buffer.writeStaticString(prefix)
        buffer.writeBytes(message)
        buffer.writeStaticString(suffix)
        buffer.writeStaticString("\r\n")
        if last { buffer.writeStaticString("0\r\n\r\n") }
        let written = channel.writeAndFlush(buffer)
        if last && close { written.whenComplete { _ in self.channel.close(promise: nil) } }
    }
}
