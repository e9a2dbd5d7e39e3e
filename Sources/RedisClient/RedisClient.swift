import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import NIOSSL

/// Connections to one Redis server, one per event loop: a call made on an event loop uses
/// that loop's connection (no thread hop), which pipelines every call made on it. Each is
/// made on first use and made again after it fails; while Redis is down, new connections
/// are tried at most every `backoff` (50 ms doubling to 2 s) and calls in between fail at
/// once. A call's timeout covers waiting for a connection and the reply together, so a
/// slow or dead Redis never costs a call more than its timeout.
public final class RedisClient: Sendable {
    public let url: RedisURL
    let password: String?
    let tls: NIOSSLContext?
    public let commandTimeout: TimeAmount
    let connectTimeout: TimeAmount
    private let slots: [(loop: EventLoop, slot: Slot)]

    public init(url: RedisURL, password: String? = nil, group: EventLoopGroup, tls: NIOSSLContext? = nil,
                commandTimeout: TimeAmount = .milliseconds(50), connectTimeout: TimeAmount = .milliseconds(500)) {
        self.url = url
        self.password = password
        self.tls = tls
        self.commandTimeout = commandTimeout
        self.connectTimeout = connectTimeout
        var slots: [(EventLoop, Slot)] = []
        for loop in group.makeIterator() { slots.append((loop, Slot())) }
        self.slots = slots
    }

    /// Sends a command on the current event loop's connection (or the first loop's).
    public func send(_ arguments: [RESPArgument]) async throws(RedisError) -> RESPValue {
        let deadline = NIODeadline.now() + commandTimeout
        let (loop, slot) = pick()
        let connection = try await slot.connection(self, on: loop, deadline: deadline)
        return try await connection.send(arguments, timeout: deadline - .now())
    }

    /// Sends a command; an error reply is thrown as `.server`.
    @discardableResult
    public func command(_ arguments: [RESPArgument]) async throws(RedisError) -> RESPValue {
        let value = try await send(arguments)
        if case .error(let message) = value { throw .server(message) }
        return value
    }

    public func run(_ script: RedisScript, keys: [RESPArgument], arguments: [RESPArgument]) async throws(RedisError) -> RESPValue {
        let deadline = NIODeadline.now() + commandTimeout
        let (loop, slot) = pick()
        let connection = try await slot.connection(self, on: loop, deadline: deadline)
        return try await connection.run(script, keys: keys, arguments: arguments, timeout: deadline - .now())
    }

    /// Closes every connection.
    public func close() {
        for entry in slots { entry.slot.close() }
    }

    private func pick() -> (EventLoop, Slot) {
        for entry in slots where entry.loop.inEventLoop { return entry }
        return slots[0]
    }

    /// One event loop's connection and its reconnect state.
    final class Slot: Sendable {
        struct State {
            var connection: RedisConnection?
            /// A connection being made; callers wait for it until their deadline.
            var connecting: EventLoopFuture<RedisConnection>?
            var retryAfter: NIODeadline?
            var backoff: TimeAmount = .zero
            var lastError: RedisError?
        }

        private let state = NIOLockedValueBox(State())

        func connection(_ client: RedisClient, on loop: EventLoop, deadline: NIODeadline) async throws(RedisError) -> RedisConnection {
            enum Next {
                case use(RedisConnection)
                case wait(EventLoopFuture<RedisConnection>)
                case fail(RedisError)
            }
            let next: Next = state.withLockedValue { state in
                if let connection = state.connection, connection.isOpen { return .use(connection) }
                if let connecting = state.connecting { return .wait(connecting) }
                if let retryAfter = state.retryAfter, NIODeadline.now() < retryAfter { return .fail(state.lastError ?? .closed) }
                let promise = loop.makePromise(of: RedisConnection.self)
                Task {
                    do throws(RedisError) {
                        promise.succeed(try await RedisConnection.connect(to: client.url, password: client.password, on: loop, tls: client.tls,
                                                                          timeout: client.connectTimeout))
                    } catch {
                        promise.fail(error)
                    }
                }
                promise.futureResult.whenComplete { result in self.connected(result) }
                state.connecting = promise.futureResult
                return .wait(promise.futureResult)
            }
            let connecting: EventLoopFuture<RedisConnection>
            switch next {
            case .use(let connection): return connection
            case .fail(let error): throw error
            case .wait(let waiting): connecting = waiting
            }
            // The connection goes on being made for later calls if this one gives up.
            let waiter = connecting.eventLoop.makePromise(of: RedisConnection.self)
            connecting.cascade(to: waiter)
            let timer = connecting.eventLoop.scheduleTask(deadline: deadline) { waiter.fail(RedisError.timeout) }
            waiter.futureResult.whenComplete { _ in timer.cancel() }
            do {
                return try await waiter.futureResult.get()
            } catch {
                throw (error as? RedisError) ?? .closed
            }
        }

        private func connected(_ result: Result<RedisConnection, Error>) {
            state.withLockedValue { state in
                state.connecting = nil
                switch result {
                case .success(let connection):
                    state.connection = connection
                    state.retryAfter = nil
                    state.backoff = .zero
                    state.lastError = nil
                case .failure(let error):
                    state.connection = nil
                    state.backoff = state.backoff == .zero ? .milliseconds(50) : min(state.backoff * 2, .seconds(2))
                    state.retryAfter = NIODeadline.now() + state.backoff
                    state.lastError = (error as? RedisError) ?? .closed
                }
            }
        }

        func close() {
            state.withLockedValue { state in
                state.connection?.close()
                state.connection = nil
            }
        }
    }
}
