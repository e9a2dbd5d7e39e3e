import AWSClient
import AWSPrimitives
import AWSProtocols
import Foundation
import NIOCore
import NIOPosix
import NIOSSL

/// The HTTP/1.1 client to AWS: keep-alive connections pooled per event loop, so a call
/// that runs on a connection's event loop sends and receives on that same thread.
///
/// It does what the gateway needs and no more: one request at a time per connection,
/// TLS with the system's trust roots and SNI, connect and request deadlines, a bound on
/// response size. Requests are written and answers read by `HTTP1Parser`'s codec.
public final class UpstreamClient: HTTPTransport, @unchecked Sendable {
    let group: EventLoopGroup
    let connectTimeout: TimeAmount
    let maxResponseBytes: Int
    let tlsContext: NIOSSLContext
    /// One pool per event loop, made up front: a pool is only touched on its own loop.
    private let pools: [ObjectIdentifier: UpstreamPool]

    public convenience init(group: EventLoopGroup, connectTimeoutSeconds: Double, maxResponseBytes: Int, trustRoots: NIOSSLTrustRoots = .default) throws {
        try self.init(group: group, connectTimeoutSeconds: connectTimeoutSeconds, maxResponseBytes: maxResponseBytes, trustRoots: trustRoots,
                      tunings: .none)
    }

    /// `tunings`: the gateway's loops' (its connections tell their loop's poller of their
    /// work and gather their flushes with the callers').
    package init(group: EventLoopGroup, connectTimeoutSeconds: Double, maxResponseBytes: Int, trustRoots: NIOSSLTrustRoots = .default,
                 tunings: LoopTunings) throws {
        self.group = group
        connectTimeout = .milliseconds(Int64(connectTimeoutSeconds * 1000))
        self.maxResponseBytes = maxResponseBytes
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.trustRoots = trustRoots
        tls.minimumTLSVersion = .tlsv12
        tlsContext = try NIOSSLContext(configuration: tls)
        var pools: [ObjectIdentifier: UpstreamPool] = [:]
        for loop in group.makeIterator() { pools[ObjectIdentifier(loop)] = UpstreamPool(eventLoop: loop, tuning: tunings.on(loop)) }
        self.pools = pools
    }

    public func shutdown() async {
        for pool in pools.values {
            try? await pool.eventLoop.submit { pool.closeAll() }.get()
        }
    }

    public func send(_ request: PreparedRequest, timeoutSeconds: Double) async throws(TransportError) -> ResponseData {
        try await send(request, timeoutSeconds: timeoutSeconds, stream: nil)
    }

    public func send(_ request: PreparedRequest, timeoutSeconds: Double, streaming stream: BodyStream) async throws(TransportError) -> ResponseData {
        try await send(request, timeoutSeconds: timeoutSeconds, stream: stream)
    }

    private func send(_ request: PreparedRequest, timeoutSeconds: Double, stream: (any BodyStream)?) async throws(TransportError) -> ResponseData {
        // A call runs on its connection's event loop (its task on that loop's executor): its
        // request goes out on that loop's pool. Off the group's loops, any pool does.
        var pool = MultiThreadedEventLoopGroup.currentEventLoop.flatMap { pools[ObjectIdentifier($0)] }
        if pool == nil { pool = pools[ObjectIdentifier(group.next())] }
        guard let pool else { throw TransportError(kind: .other, message: "no connection pool for this event loop") }
        let timeout = TimeAmount.milliseconds(Int64(max(timeoutSeconds, 0.001) * 1000))
        let deadline = NIODeadline.now() + timeout
        let result = await withUnsafeContinuation { (continuation: UnsafeContinuation<Result<ResponseData, TransportError>, Never>) in
            if pool.eventLoop.inEventLoop {
                pool.execute(request, deadline: deadline, client: self, stream: stream, pause: timeout) { continuation.resume(returning: $0) }
            } else {
                pool.eventLoop.execute {
                    pool.execute(request, deadline: deadline, client: self, stream: stream, pause: timeout) { continuation.resume(returning: $0) }
                }
            }
        }
        return try result.get()
    }
}

/// A request URL split for sending: where it goes and what the request line names.
struct UpstreamTarget {
    let origin: UpstreamOrigin
    /// The path and query ("/" when the URL has no path).
    let pathAndQuery: Substring

    /// A target with an origin of its own (a pool finds its origins again instead).
    init?(url: String) {
        guard let (origin, path) = UpstreamTarget.split(url), let parsed = UpstreamOrigin(origin) else { return nil }
        self.init(origin: parsed, pathAndQuery: path)
    }

    init(origin: UpstreamOrigin, pathAndQuery: Substring) {
        self.origin = origin
        self.pathAndQuery = pathAndQuery.isEmpty ? "/" : pathAndQuery
    }

    /// `http[s]://authority` and what follows it (from its first `/`); nil for another scheme.
    static func split(_ url: String) -> (origin: Substring, pathAndQuery: Substring)? {
        // Bytes, not String.hasPrefix and index walks: this runs for every call.
        var url = url
        let end: Int? = url.withUTF8 { bytes in
            let scheme: Int
            if bytes.starts(with: "https://".utf8) { scheme = 8 } else if bytes.starts(with: "http://".utf8) { scheme = 7 } else { return nil }
            var end = scheme
            while end < bytes.count, bytes[end] != UInt8(ascii: "/") { end += 1 }
            return end
        }
        guard let end else { return nil }
        let boundary = url.utf8.index(url.utf8.startIndex, offsetBy: end)
        return (url[..<boundary], url[boundary...])
    }
}

/// One scheme, host and port that requests go to, with its pool's connections to it
/// (touched only on that pool's event loop). Parsed once, then found again by its text.
final class UpstreamOrigin {
    let tls: Bool
    let host: String
    let port: Int
    /// The URLs' text up to the path: `https://host[:port]`.
    let text: String
    /// Idle keep-alive connections, how many are open, and the requests waiting for one.
    var idle: [UpstreamConnection] = []
    var open = 0
    /// Connections opened over `open`'s cap for event streams, closed when theirs ends.
    var streams = 0
    var waiting: [UpstreamPool.Waiter] = []

    init?(_ text: Substring) {
        let tls = text.hasPrefix("https://")
        guard tls || text.hasPrefix("http://") else { return nil }
        let authority = text.dropFirst(tls ? 8 : 7)
        var host = authority
        var port = tls ? 443 : 80
        if let colon = authority.lastIndex(of: ":"), !authority.hasSuffix("]"), let p = Int(authority[authority.index(after: colon)...]) {
            host = authority[..<colon]
            port = p
        }
        if host.hasPrefix("[") && host.hasSuffix("]") { host = host.dropFirst().dropLast() }
        guard !host.isEmpty else { return nil }
        self.tls = tls
        self.host = String(host)
        self.port = port
        self.text = String(text)
    }
}

/// An open connection to AWS with its handler, found once when it connects (not looked up
/// in its pipeline for every request).
struct UpstreamConnection {
    let channel: Channel
    let handler: UpstreamConnectionHandler
}
