import AWSClient
import AWSPrimitives
import AWSProtocols
import Foundation
import NIOCore
import NIOPosix
import NIOSSL

/// The upstream connections of one event loop, by origin (scheme/host/port): idle
/// keep-alive ones for reuse, a cap on how many are open, and the requests waiting for
/// one. Everything here runs on its loop and answers through callbacks (no futures on a
/// call's path).
final class UpstreamPool: @unchecked Sendable {
    typealias Answer = (Result<ResponseData, TransportError>) -> Void
    let eventLoop: EventLoop
    /// The loop's polling and flushing, handed to each of its connections.
    let tuning: LoopTuning
    /// Connections per host and event loop: AWS is not flooded with new connections
    /// under a burst; requests over the cap wait for a free one.
    static let maxConnectionsPerHost = 64
    /// Event streams (a model's answer, a shard's records) hold their connection for as
    /// long as they last: with every pooled connection taken they get one of their own,
    /// up to this many, so that long streams do not stop the host's other calls.
    static let maxStreamsPerHost = 2048

    /// A request waiting for a connection; answered once, by a connection or its deadline.
    final class Waiter {
        var answer: ((Result<UpstreamConnection, TransportError>) -> Void)?
        var timer: Scheduled<Void>?
        init(_ answer: @escaping (Result<UpstreamConnection, TransportError>) -> Void) { self.answer = answer }

        func complete(_ result: Result<UpstreamConnection, TransportError>) {
            guard let answer else { return }
            self.answer = nil
            timer?.cancel()
            answer(result)
        }
    }

    private var origins: [String: UpstreamOrigin] = [:]
    /// The origin of the last request: most calls go where the one before went.
    private var lastOrigin: UpstreamOrigin?

    /// `url` split, its origin found again (or parsed the first time); nil for a URL that
    /// is not `http[s]://host[:port]/...`.
    func target(_ url: String) -> UpstreamTarget? {
        guard let (text, path) = UpstreamTarget.split(url) else { return nil }
        if let last = lastOrigin, Self.same(text, last.text) { return UpstreamTarget(origin: last, pathAndQuery: path) }
        let key = String(text)
        let origin: UpstreamOrigin
        if let known = origins[key] {
            origin = known
        } else {
            guard let parsed = UpstreamOrigin(text) else { return nil }
            origins[key] = parsed
            origin = parsed
        }
        lastOrigin = origin
        return UpstreamTarget(origin: origin, pathAndQuery: path)
    }

    private static func same(_ text: Substring, _ known: String) -> Bool {
        var known = known
        return known.withUTF8 { known in
            text.utf8.withContiguousStorageIfAvailable { text in
                text.count == known.count && (text.count == 0 || memcmp(text.baseAddress!, known.baseAddress!, text.count) == 0)
            } ?? text.utf8.elementsEqual(known)
        }
    }

    init(eventLoop: EventLoop, tuning: LoopTuning) {
        self.eventLoop = eventLoop
        self.tuning = tuning
    }

    /// Sends `request` on an idle connection to its origin, a new one, or the first freed;
    /// a `stream` gets the answer's body as it arrives (see `UpstreamConnectionHandler.send`).
    func execute(_ request: PreparedRequest, deadline: NIODeadline, client: UpstreamClient, stream: (any BodyStream)? = nil,
                 pause: TimeAmount = .zero, answer: @escaping Answer) {
        eventLoop.preconditionInEventLoop()
        guard let target = target(request.url) else {
            answer(.failure(TransportError(kind: .other, message: "cannot send to \(request.url)")))
            return
        }
        // Most calls find an idle connection: sent at once, with no closure made to wait.
        while let connection = target.origin.idle.popLast() {
            if connection.channel.isActive {
                send(request, target: target, on: connection, deadline: deadline, client: client, stream: stream, pause: pause, answer: answer)
                return
            }
            target.origin.open -= 1
        }
        if stream != nil && target.origin.open >= Self.maxConnectionsPerHost {
            sendOnOwnConnection(request, target: target, deadline: deadline, client: client, stream: stream, pause: pause, answer: answer)
            return
        }
        acquire(target, deadline: deadline, client: client) { result in
            switch result {
            case .success(let connection):
                self.send(request, target: target, on: connection, deadline: deadline, client: client, stream: stream, pause: pause, answer: answer)
            case .failure(let error): answer(.failure(error))
            }
        }
    }

    /// A stream with every pooled connection busy: a connection of its own, closed after.
    private func sendOnOwnConnection(_ request: PreparedRequest, target: UpstreamTarget, deadline: NIODeadline, client: UpstreamClient,
                                     stream: (any BodyStream)?, pause: TimeAmount, answer: @escaping Answer) {
        let host = target.origin
        guard host.streams < Self.maxStreamsPerHost else {
            answer(.failure(TransportError(kind: .connect, message: "\(Self.maxStreamsPerHost) event streams to \(host.host) already open")))
            return
        }
        host.streams += 1
        connect(target, client: client) { result in
            switch result {
            case .success(let connection):
                connection.handler.send(request, target: target, deadline: deadline, stream: stream, pause: pause) { result in
                    host.streams -= 1
                    connection.channel.close(promise: nil)
                    answer(result)
                }
            case .failure(let error):
                host.streams -= 1
                answer(.failure(error))
            }
        }
    }

    /// With no idle connection: a new one under the cap, or a place in the queue.
    private func acquire(_ target: UpstreamTarget, deadline: NIODeadline, client: UpstreamClient,
                         then: @escaping (Result<UpstreamConnection, TransportError>) -> Void) {
        let host = target.origin
        if host.open < Self.maxConnectionsPerHost {
            host.open += 1
            connect(target, client: client) { result in
                if case .failure = result {
                    host.open -= 1
                    self.wakeWaiter(target, client: client)
                }
                then(result)
            }
            return
        }
        let waiter = Waiter(then)
        host.waiting.append(waiter)
        waiter.timer = eventLoop.scheduleTask(deadline: deadline) {
            host.waiting.removeAll { $0 === waiter }
            waiter.complete(.failure(TransportError(kind: .timeout, message: "no upstream connection free in time")))
        }
    }

    /// A connection is done with a request: reuse it for a waiter, keep it idle, or close it.
    private func release(_ connection: UpstreamConnection, reusable: Bool, target: UpstreamTarget, client: UpstreamClient) {
        let host = target.origin
        guard reusable, connection.channel.isActive else {
            connection.channel.close(promise: nil)
            host.open -= 1
            wakeWaiter(target, client: client)
            return
        }
        if !host.waiting.isEmpty {
            host.waiting.removeFirst().complete(.success(connection))
            return
        }
        host.idle.append(connection)
    }

    /// A connection slot came free: open a connection for the next waiter, if any.
    private func wakeWaiter(_ target: UpstreamTarget, client: UpstreamClient) {
        let host = target.origin
        guard !host.waiting.isEmpty, host.open < Self.maxConnectionsPerHost else { return }
        let waiter = host.waiting.removeFirst()
        host.open += 1
        connect(target, client: client) { result in
            if case .failure = result {
                host.open -= 1
                self.wakeWaiter(target, client: client)
            }
            waiter.complete(result)
        }
    }

    private func send(_ request: PreparedRequest, target: UpstreamTarget, on connection: UpstreamConnection, deadline: NIODeadline,
                      client: UpstreamClient, stream: (any BodyStream)?, pause: TimeAmount, answer: @escaping Answer) {
        let handler = connection.handler
        handler.send(request, target: target, deadline: deadline, stream: stream, pause: pause) { result in
            let reusable: Bool
            if case .success = result { reusable = handler.reusable } else { reusable = false }
            self.release(connection, reusable: reusable, target: target, client: client)
            answer(result)
        }
    }

    private func connect(_ target: UpstreamTarget, client: UpstreamClient, then: @escaping (Result<UpstreamConnection, TransportError>) -> Void) {
        let maxResponse = client.maxResponseBytes
        let tuning = self.tuning
        let tlsContext = client.tlsContext
        ClientBootstrap(group: eventLoop)
            .connectTimeout(client.connectTimeout)
            .channelOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let sync = channel.pipeline.syncOperations
                    if target.origin.tls {
                        try sync.addHandler(try NIOSSLClientHandler(context: tlsContext, serverHostname: target.origin.host))
                    }
                    try sync.addHandler(UpstreamConnectionHandler(maxResponseBytes: maxResponse, tuning: tuning))
                }
            }
            .connect(host: target.origin.host, port: target.origin.port)
            .whenComplete { result in
                switch result {
                case .success(let channel):
                    guard let handler = try? channel.pipeline.syncOperations.handler(type: UpstreamConnectionHandler.self) else {
                        channel.close(promise: nil)
                        then(.failure(TransportError(kind: .other, message: "connection set-up failed")))
                        return
                    }
                    then(.success(UpstreamConnection(channel: channel, handler: handler)))
                case .failure(let error):
                    then(.failure(TransportError(kind: .connect, message: "cannot connect to \(target.origin.host):\(target.origin.port): \(error)")))
                }
            }
    }

    func closeAll() {
        for origin in origins.values {
            for connection in origin.idle { connection.channel.close(promise: nil) }
            for waiter in origin.waiting { waiter.complete(.failure(TransportError(kind: .other, message: "shutting down"))) }
            origin.idle = []
            origin.waiting = []
        }
        origins = [:]
        lastOrigin = nil
    }
}
