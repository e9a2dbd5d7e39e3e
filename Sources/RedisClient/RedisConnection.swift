import Crypto
import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import NIOSSL

/// Why a command got no reply.
public enum RedisError: Error, Sendable, CustomStringConvertible, Equatable {
    case connect(String)
    case timeout
    case closed
    case protocolError(String)
    /// The server answered with an error reply (`-ERR ...`).
    case server(String)

    public var description: String {
        switch self {
        case .connect(let why): return "cannot connect to Redis: \(why)"
        case .timeout: return "Redis did not answer in time"
        case .closed: return "the connection to Redis closed"
        case .protocolError(let why): return "Redis sent a malformed reply: \(why)"
        case .server(let message): return "Redis: \(message)"
        }
    }
}

/// Where Redis is: `redis://[user[:password]@]host[:port][/db]`, or `rediss://` for TLS.
public struct RedisURL: Sendable, Equatable {
    public var host: String
    public var port: Int
    public var tls: Bool
    public var user: String?
    public var password: String?
    public var database: Int

    public init?(_ text: String) {
        let tls: Bool
        let rest: Substring
        if text.hasPrefix("redis://") { tls = false; rest = text.dropFirst(8) } else if text.hasPrefix("rediss://") { tls = true; rest = text.dropFirst(9) } else { return nil }
        var authority = rest
        var path: Substring = ""
        if let slash = rest.firstIndex(of: "/") {
            authority = rest[..<slash]
            path = rest[rest.index(after: slash)...]
        }
        var user: String?, password: String?
        if let at = authority.lastIndex(of: "@") {
            let credentials = authority[..<at]
            authority = authority[authority.index(after: at)...]
            if let colon = credentials.firstIndex(of: ":") {
                user = credentials[..<colon].isEmpty ? nil : String(credentials[..<colon]).removingPercentEncoding
                password = String(credentials[credentials.index(after: colon)...]).removingPercentEncoding
            } else if !credentials.isEmpty {
                user = String(credentials).removingPercentEncoding
            }
        }
        var host = String(authority)
        var port = 6379
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { return nil }
            host = String(authority[authority.index(after: authority.startIndex)..<close])
            let after = authority[authority.index(after: close)...]
            if after.hasPrefix(":") { guard let p = Int(after.dropFirst()) else { return nil }; port = p } else if !after.isEmpty { return nil }
        } else if let colon = authority.lastIndex(of: ":") {
            host = String(authority[..<colon])
            guard let p = Int(authority[authority.index(after: colon)...]) else { return nil }
            port = p
        }
        guard !host.isEmpty, (1...65535).contains(port) else { return nil }
        let database = path.isEmpty ? 0 : Int(path)
        guard let database, database >= 0 else { return nil }
        self.host = host
        self.port = port
        self.tls = tls
        self.user = user
        self.password = password
        self.database = database
    }
}

/// One connection to Redis. Commands are pipelined: each is written at once and matched
/// with its reply in order. A command not answered within its timeout fails and the
/// connection is closed (the replies after it could no longer be matched).
public final class RedisConnection: Sendable {
    let channel: Channel
    private let handler: RESPChannelHandler

    init(channel: Channel, handler: RESPChannelHandler) {
        self.channel = channel
        self.handler = handler
    }

    public var isOpen: Bool { channel.isActive }
    public var eventLoop: EventLoop { channel.eventLoop }

    /// Connects, then `AUTH` (when the URL or `password` gives one) and `SELECT`.
    public static func connect(to url: RedisURL, password: String? = nil, on eventLoop: EventLoop, tls: NIOSSLContext? = nil,
                               timeout: TimeAmount = .seconds(1)) async throws(RedisError) -> RedisConnection {
        let handler = RESPChannelHandler()
        let bootstrap = ClientBootstrap(group: eventLoop)
            .connectTimeout(timeout)
            .channelOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if url.tls {
                        let context = try tls ?? NIOSSLContext(configuration: .makeClientConfiguration())
                        try channel.pipeline.syncOperations.addHandler(try NIOSSLClientHandler(context: context, serverHostname: url.host.first?.isNumber == true ? nil : url.host))
                    }
                    try channel.pipeline.syncOperations.addHandler(handler)
                }
            }
        let channel: Channel
        do {
            channel = try await bootstrap.connect(host: url.host, port: url.port).get()
        } catch {
            throw .connect("\(url.host):\(url.port): \(error)")
        }
        let connection = RedisConnection(channel: channel, handler: handler)
        do throws(RedisError) {
            if let secret = password ?? url.password {
                let auth: [RESPArgument] = url.user.map { ["AUTH", RESPArgument($0), RESPArgument(secret)] } ?? ["AUTH", RESPArgument(secret)]
                _ = try await connection.command(auth, timeout: timeout)
            }
            if url.database != 0 { _ = try await connection.command(["SELECT", RESPArgument(url.database)], timeout: timeout) }
        } catch {
            connection.close()
            throw error
        }
        return connection
    }

    /// Sends a command; the reply as it came (an error reply too).
    public func send(_ arguments: [RESPArgument], timeout: TimeAmount) async throws(RedisError) -> RESPValue {
        let promise = channel.eventLoop.makePromise(of: RESPValue.self)
        let bytes = RESPEncoder.command(arguments)
        let channel = self.channel
        let timer = channel.eventLoop.scheduleTask(in: timeout) {
            promise.fail(RedisError.timeout)
            channel.close(promise: nil)
        }
        // Cancelled on the loop as the reply comes, not when the waiting task next runs: a
        // busy machine may resume it late, and the timer must not close a healthy connection.
        promise.futureResult.whenComplete { _ in timer.cancel() }
        let outbound = RESPChannelHandler.Outbound(bytes: bytes, promise: promise)
        if channel.eventLoop.inEventLoop {
            // Commands sent in the same event-loop tick leave in one write.
            channel.write(outbound, promise: nil)
            handler.flushSoon(channel)
        } else {
            channel.writeAndFlush(outbound, promise: nil)
        }
        do {
            return try await promise.futureResult.get()
        } catch let error as RedisError {
            throw error
        } catch {
            throw .closed
        }
    }

    /// Sends a command; an error reply is thrown as `.server`.
    @discardableResult
    public func command(_ arguments: [RESPArgument], timeout: TimeAmount) async throws(RedisError) -> RESPValue {
        let value = try await send(arguments, timeout: timeout)
        if case .error(let message) = value { throw .server(message) }
        return value
    }

    /// Runs a script by its SHA-1 (`EVALSHA`), loading it once when the server does not
    /// have it (`NOSCRIPT`, e.g. after a restart).
    public func run(_ script: RedisScript, keys: [RESPArgument], arguments: [RESPArgument], timeout: TimeAmount) async throws(RedisError) -> RESPValue {
        let call: [RESPArgument] = ["EVALSHA", RESPArgument(script.sha1), RESPArgument(keys.count)] + keys + arguments
        let first = try await send(call, timeout: timeout)
        guard case .error(let message) = first else { return first }
        guard message.hasPrefix("NOSCRIPT") else { throw .server(message) }
        try await command(["SCRIPT", "LOAD", RESPArgument(script.source)], timeout: timeout)
        return try await command(call, timeout: timeout)
    }

    public func close() {
        channel.close(promise: nil)
    }
}

/// A Lua script, named by its SHA-1 as `EVALSHA` wants.
public struct RedisScript: Sendable {
    public let source: String
    public let sha1: String

    public init(_ source: String) {
        self.source = source
        sha1 = Insecure.SHA1.hash(data: Array(source.utf8)).map { String(format: "%02x", $0) }.joined()
    }
}

/// Writes commands and completes their promises with the replies, in order. A malformed
/// reply fails every waiting command and closes the connection.
final class RESPChannelHandler: ChannelDuplexHandler, @unchecked Sendable {
    struct Outbound {
        let bytes: [UInt8]
        let promise: EventLoopPromise<RESPValue>
    }

    typealias InboundIn = ByteBuffer
    typealias OutboundIn = Outbound
    typealias OutboundOut = ByteBuffer

    private var received: [UInt8] = []
    private var waiting = CircularBuffer<EventLoopPromise<RESPValue>>()
    private var flushPending = false

    /// Flushes once the event loop has run what is queued now (on the loop only).
    func flushSoon(_ channel: Channel) {
        guard !flushPending else { return }
        flushPending = true
        channel.eventLoop.execute {
            self.flushPending = false
            channel.flush()
        }
    }
    private let parser = RESPParser()

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let outbound = unwrapOutboundIn(data)
        guard context.channel.isActive else {
            outbound.promise.fail(RedisError.closed)
            promise?.fail(RedisError.closed)
            return
        }
        waiting.append(outbound.promise)
        context.write(wrapOutboundOut(context.channel.allocator.buffer(bytes: outbound.bytes)), promise: promise)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = unwrapInboundIn(data)
        if let bytes = buffer.readBytes(length: buffer.readableBytes) { received.append(contentsOf: bytes) }
        var consumed = 0
        do {
            while let (value, end) = try parser.parse(received, from: consumed) {
                consumed = end
                guard let promise = waiting.popFirst() else { throw RESPProtocolError(description: "a reply nothing asked for") }
                promise.succeed(value)
            }
        } catch {
            failAll(RedisError.protocolError("\(error)"))
            context.close(promise: nil)
            return
        }
        if consumed > 0 { received.removeFirst(consumed) }
    }

    func channelInactive(context: ChannelHandlerContext) {
        failAll(RedisError.closed)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        failAll(RedisError.closed)
        context.close(promise: nil)
    }

    private func failAll(_ error: RedisError) {
        while let promise = waiting.popFirst() { promise.fail(error) }
    }
}
