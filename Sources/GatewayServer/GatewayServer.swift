import Foundation
import GatewayCore
import Logging
import NIOCore
import NIOPosix
import NIOSSL

#if canImport(Glibc)
import Glibc
#endif

/// The open client connections, so that they can be counted, limited and closed.
final class ConnectionTracker: @unchecked Sendable {
    private var channels: [ObjectIdentifier: Channel] = [:]
    private let lock = NSLock()
    let limit: Int
    let onChange: (Int) -> Void

    init(limit: Int, onChange: @escaping (Int) -> Void) {
        self.limit = limit
        self.onChange = onChange
    }

    func admit(_ channel: Channel) -> Bool {
        let count: Int? = lock.withLock {
            guard channels.count < limit else { return nil }
            channels[ObjectIdentifier(channel)] = channel
            return channels.count
        }
        if let count { onChange(count) }
        return count != nil
    }

    func remove(_ channel: Channel) {
        let count = lock.withLock { () -> Int in
            channels.removeValue(forKey: ObjectIdentifier(channel))
            return channels.count
        }
        onChange(count)
    }

    var count: Int { lock.withLock { channels.count } }

    /// Closes every connection at once and waits briefly: a TLS connection may wait
    /// for its peer's close_notify, which must not hold up shutdown.
    func closeAll() async {
        let all = lock.withLock { Array(channels.values) }
        guard !all.isEmpty else { return }
        for channel in all { channel.close(promise: nil) }
        let deadline = Date().addingTimeInterval(1)
        while count > 0 && Date() < deadline { try? await Task.sleep(nanoseconds: 10_000_000) }
    }
}

/// Why a listener could not start.
public struct ListenerError: Error, CustomStringConvertible {
    public let address: String
    public let reason: String
    public var description: String { "cannot listen on \(address): \(reason)" }
}

/// A listener that is up, with the address it really bound (port 0 becomes a port).
public struct BoundListener: Sendable {
    public let address: ListenAddress
    let channel: Channel
}

/// The listeners of one gateway and their connections.
public final class GatewayServer: @unchecked Sendable {
    let gateway: Gateway
    let config: GatewayConfig
    let group: EventLoopGroup
    let logger: Logger
    let server: ServerContext
    private(set) public var listeners: [BoundListener] = []

    public init(gateway: Gateway, config: GatewayConfig, group: EventLoopGroup, logger: Logger) {
        self.gateway = gateway
        self.config = config
        self.group = group
        self.logger = logger
        let metrics = gateway.metrics
        let tracker = ConnectionTracker(limit: config.limits.maxConnections) { metrics.connections.set(Int64($0)) }
        server = ServerContext(gateway: gateway, limits: config.limits, connections: tracker, logger: logger)
    }

    /// Binds every configured listener; on any failure, closes those already bound.
    public func start() async throws {
        do {
            for text in config.listen {
                guard let address = ListenAddress(text) else { throw ListenerError(address: text, reason: "not a listener address") }
                listeners.append(try await bind(address))
                logger.info("listening", metadata: ["address": "\(listeners.last!.address)"])
            }
        } catch {
            await closeListeners()
            throw error
        }
    }

    private func bind(_ address: ListenAddress) async throws -> BoundListener {
        switch address {
        case .unix(let path):
            try UnixSocketFile.prepare(path)
            // Create the socket file with no access for others, then set the configured mode.
            let previous = umask(0o177)
            defer { umask(previous) }
            let channel = try await bootstrap(tls: nil, listener: address.description, kind: .unix)
                .bind(unixDomainSocketPath: path, cleanupExistingSocketFile: false).get()
            guard chmod(path, mode_t(config.socketMode)) == 0 else {
                try? await channel.close()
                throw ListenerError(address: address.description, reason: "chmod failed: \(String(cString: strerror(errno)))")
            }
            return BoundListener(address: address, channel: channel)
        case .tcp(let host, let port):
            if !ListenAddress.isLoopback(host) && !config.allowPlaintextNonLoopback {
                throw ListenerError(address: address.description,
                                    reason: "plaintext on a non-loopback address is refused; use tls: or set allow_plaintext_non_loopback: true")
            }
            let channel = try await bootstrap(tls: nil, listener: address.description, kind: .tcp).bind(host: host, port: port).get()
            return BoundListener(address: .tcp(host: host, port: channel.localAddress?.port ?? port), channel: channel)
        case .tls(let host, let port):
            let context = try TLSSetup.serverContext(config.tls)
            let channel = try await bootstrap(tls: context, listener: address.description, kind: .tls).bind(host: host, port: port).get()
            return BoundListener(address: .tls(host: host, port: channel.localAddress?.port ?? port), channel: channel)
        }
    }

    private func bootstrap(tls: NIOSSLContext?, listener: String, kind: ListenerKind) -> ServerBootstrap {
        let server = self.server
        let limits = config.limits
        var bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(ChannelOptions.backlog, value: 512)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(ChannelOptions.allowRemoteHalfClosure, value: true)
            .childChannelOption(ChannelOptions.maxMessagesPerRead, value: 16)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let sync = channel.pipeline.syncOperations
                    try sync.addHandler(ConnectionLimitHandler(server: server))
                    if let tls { try sync.addHandler(NIOSSLServerHandler(context: tls)) }
                    try sync.addHandler(IdleStateHandler(allTimeout: .milliseconds(Int64(limits.idleTimeoutSeconds * 1000))))
                    try sync.addHandler(FramingDetector(server: server, listener: listener, kind: kind))
                }
            }
        if kind != .unix { bootstrap = bootstrap.childChannelOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1) }
        return bootstrap
    }

    /// Stops accepting, lets calls in flight finish within the grace period, closes every
    /// connection and removes socket files.
    public func shutdown() async {
        await closeListeners()
        let deadline = Date().addingTimeInterval(config.limits.shutdownGraceSeconds)
        while gateway.callsInFlight > 0 && Date() < deadline {
            try? await Task.sleep(nanoseconds: 10_000_000)
        }
        // Let the last answers reach their sockets.
        try? await Task.sleep(nanoseconds: 20_000_000)
        await server.connections.closeAll()
    }

    private func closeListeners() async {
        for listener in listeners {
            try? await listener.channel.close()
            if case .unix(let path) = listener.address { unlink(path) }
        }
        listeners = []
    }

    public var openConnections: Int { server.connections.count }
}

/// Unix socket files: a stale one (no process listening) is replaced, a live one is an error.
enum UnixSocketFile {
    static func prepare(_ path: String) throws {
        var info = stat()
        guard lstat(path, &info) == 0 else { return }
        guard (info.st_mode & S_IFMT) == S_IFSOCK else {
            throw ListenerError(address: "unix:\(path)", reason: "a file that is not a socket is in the way")
        }
        if isLive(path) {
            throw ListenerError(address: "unix:\(path)", reason: "another process is listening on it")
        }
        unlink(path)
    }

    static func isLive(_ path: String) -> Bool {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else { return false }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (i, byte) in bytes.enumerated() { raw[i] = byte }
            raw[bytes.count] = 0
        }
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        return result == 0
    }
}

/// Where the gateway listens when nothing is configured: a Unix socket only its user can use.
public enum DefaultListener {
    public static func path(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        if let runtime = environment["XDG_RUNTIME_DIR"], !runtime.isEmpty { return runtime + "/awsgw.sock" }
        return "/tmp/awsgw-\(getuid())/awsgw.sock"
    }

    /// Makes the socket's folder (mode 0700) when it is the per-user one in /tmp.
    public static func prepareDirectory(for path: String) throws {
        let dir = (path as NSString).deletingLastPathComponent
        var info = stat()
        if lstat(dir, &info) == 0 {
            if dir.hasPrefix("/tmp/awsgw-") && (info.st_uid != getuid() || (info.st_mode & 0o077) != 0) {
                throw ListenerError(address: "unix:\(path)", reason: "\(dir) is not private to this user")
            }
            return
        }
        guard mkdir(dir, 0o700) == 0 else {
            throw ListenerError(address: "unix:\(path)", reason: "cannot create \(dir): \(String(cString: strerror(errno)))")
        }
    }
}
