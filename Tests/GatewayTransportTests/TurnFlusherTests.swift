import Foundation
@testable import GatewayServer
import GatewayTesting
@testable import GatewayTransport
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import Testing

/// `TurnFlusher`: with many calls in flight a loop's flushes wait for the end of the turn;
/// each write still reaches its socket, in order, and `FlushBeforeClose` sends them before
/// a close.
@Suite("Flushes gathered per turn")
struct TurnFlusherTests {
    /// What reaches the socket, in order: "w:TEXT" for a write, "f" for a flush.
    final class Recorder: ChannelOutboundHandler, @unchecked Sendable {
        typealias OutboundIn = ByteBuffer
        let log = NIOLockedValueBox<[String]>([])

        func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
            log.withLockedValue { $0.append("w:" + String(buffer: unwrapOutboundIn(data))) }
            context.write(data, promise: promise)
        }

        func flush(context: ChannelHandlerContext) {
            log.withLockedValue { $0.append("f") }
            context.flush()
        }
    }

    /// For each line it reads, writes its words one by one, notes what the recorder saw
    /// right after (still in the turn), and closes when the line says so.
    final class Writer: ChannelInboundHandler, @unchecked Sendable {
        typealias InboundIn = ByteBuffer
        typealias OutboundOut = ByteBuffer
        let recorder: Recorder
        let tunings: LoopTunings
        let seenInTurn = NIOLockedValueBox<[String]>([])

        init(recorder: Recorder, tunings: LoopTunings) {
            self.recorder = recorder
            self.tunings = tunings
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let words = String(buffer: unwrapInboundIn(data)).split(whereSeparator: \.isWhitespace)
            let tuning = tunings.on(context.eventLoop)
            for word in words where !word.hasSuffix("close") {
                tuning.writeAndFlush(context, wrapOutboundOut(context.channel.allocator.buffer(string: String(word))))
            }
            seenInTurn.withLockedValue { $0 = recorder.log.withLockedValue { $0 } }
            if words.contains("close") { context.close(promise: nil) }
            if words.contains("channel-close") { context.channel.close(promise: nil) }
        }
    }

    /// A one-loop server whose flusher sees `inFlight` calls (crowd 2), one request sent
    /// and the connection half-closed; what the client read until the server closed, what
    /// the recorder saw during the turn and at the end.
    static func exchange(_ request: String, inFlight: Int, install: Bool = true) async throws -> (read: String, inTurn: [String], all: [String]) {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let tunings = install ? try LoopTunings(group: group, idlePoll: .zero, flushCrowd: 2, callsInFlight: { inFlight }) : .none
        let recorder = Recorder()
        let writer = Writer(recorder: recorder, tunings: tunings)
        let server = try await ServerBootstrap(group: group)
            .childChannelOption(ChannelOptions.allowRemoteHalfClosure, value: true)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandlers([FlushBeforeClose(), recorder, writer]) }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        let port = server.localAddress!.port!
        let read = try await onThread {
            let socket = try RawSocket(.tcp(host: "127.0.0.1", port: port), timeoutSeconds: 5)
            try socket.write(request)
            if request.contains("close") { return String(decoding: socket.readToEnd(), as: UTF8.self) }
            var out: [UInt8] = []
            var buffer = [UInt8](repeating: 0, count: 256)
            let expected = request.split(whereSeparator: \.isWhitespace).joined().utf8.count
            while out.count < expected {
                let n = buffer.withUnsafeMutableBytes { Glibc.read(socket.fd, $0.baseAddress, $0.count) }
                if n <= 0 { break }
                out += buffer[0..<n]
            }
            return String(decoding: out, as: UTF8.self)
        }
        // A job after the turn that read the request: its end-of-turn flush has run.
        try await server.eventLoop.submit {}.get()
        let all = recorder.log.withLockedValue { $0 }
        try await server.close()
        try await group.shutdownGracefully()
        return (read, writer.seenInTurn.withLockedValue { $0 }, all)
    }

    @Test("crowded: a turn's writes are flushed once, at the end of the turn")
    func crowded() async throws {
        let result = try await Self.exchange("a b c\n", inFlight: 3)
        #expect(result.inTurn == ["w:a", "w:b", "w:c"])
        #expect(result.all == ["w:a", "w:b", "w:c", "f"])
        #expect(result.read == "abc")
    }

    @Test("not crowded (calls in flight at most the crowd): every write flushed at once")
    func notCrowded() async throws {
        let result = try await Self.exchange("a b c\n", inFlight: 2)
        #expect(result.inTurn == ["w:a", "f", "w:b", "f", "w:c", "f"])
        #expect(result.read == "abc")
    }

    @Test("off the gateway's loops (no flusher): every write flushed at once")
    func noFlusher() async throws {
        let result = try await Self.exchange("a b c\n", inFlight: 3, install: false)
        #expect(result.inTurn == ["w:a", "f", "w:b", "f", "w:c", "f"])
        #expect(result.read == "abc")
    }

    @Test("a close in the turn of gathered writes sends them first")
    func closeInGatheringTurn() async throws {
        let result = try await Self.exchange("a b c close\n", inFlight: 3)
        #expect(result.read == "abc")
        #expect(result.inTurn == ["w:a", "w:b", "w:c"])
    }

    @Test("the same, closed through the channel (as the connection limit closes an idle one)")
    func channelCloseInGatheringTurn() async throws {
        let result = try await Self.exchange("a b c channel-close\n", inFlight: 3)
        #expect(result.read == "abc")
    }

    @Test("the gateway's loops get a flusher gathering above two calls per loop")
    func installed() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        let tunings = try LoopTunings(group: group, idlePoll: .zero, callsInFlight: { 0 })
        for loop in group.makeIterator() {
            #expect(tunings.on(loop).flusher?.crowd == 4)
        }
        try await group.shutdownGracefully()
    }
}
