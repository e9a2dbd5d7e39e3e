import GatewayCore
import GatewayServer
import Logging
import NIOCore
import NIOEmbedded

/// One client connection's handlers (connection budget, framing detection, HTTP/1.1 or
/// NDJSON, deadlines) on an `EmbeddedChannel`: no sockets, no threads, virtual time.
/// For tests of the framing handlers and for the fuzzer; the handlers are exactly the
/// ones a real listener installs.
public final class EmbeddedConnection {
    public let channel: EmbeddedChannel
    let loop: EmbeddedEventLoop

    /// `listener` is a tcp: address (the Host check applies, with `localhost` accepted).
    public init(gateway: Gateway, limits: GatewayLimits, listener: String = "tcp:127.0.0.1:8080") throws {
        loop = EmbeddedEventLoop()
        channel = EmbeddedChannel(loop: loop)
        let server = ServerContext.standalone(gateway: gateway, limits: limits, listener: listener)
        try ConnectionPipeline.install(on: channel.pipeline.syncOperations, server: server, tls: nil)
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
    }

    /// Delivers bytes as if they arrived from the client, and runs what they started.
    public func receive(_ bytes: [UInt8]) {
        guard channel.isActive else { return }
        do {
            try channel.writeInbound(channel.allocator.buffer(bytes: bytes))
        } catch {
            // A handler refused the bytes; the connection is closing, as on a socket.
        }
        settle()
    }

    /// The client stops sending (a half-close).
    public func closeInput() {
        guard channel.isActive else { return }
        channel.pipeline.fireUserInboundEventTriggered(ChannelEvent.inputClosed)
        settle()
    }

    /// Lets time pass on the connection's clock (deadlines, idle timeouts).
    public func advance(seconds: Double) {
        loop.advanceTime(by: .milliseconds(Int64(seconds * 1000)))
        settle()
    }

    /// Runs queued work, including the calls' tasks (whose steps are queued on this
    /// loop as they go), a few rounds.
    public func settle(rounds: Int = 8) {
        for _ in 0..<rounds { loop.run() }
    }

    /// Everything the connection has written so far.
    public func written() -> [UInt8] {
        var out: [UInt8] = []
        while let data = try? channel.readOutbound(as: IOData.self) {
            switch data {
            case .byteBuffer(let buffer): out.append(contentsOf: buffer.readableBytesView)
            case .fileRegion: break
            }
        }
        return out
    }

    /// Whether the gateway has closed the connection.
    public var isClosed: Bool { !channel.isActive }

    public func finish() {
        _ = try? channel.finish(acceptAlreadyClosed: true)
    }
}
