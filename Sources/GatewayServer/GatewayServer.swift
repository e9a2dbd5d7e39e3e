import Foundation
import GatewayCore
import GatewayTransport
import Synchronization
import Logging
import NIOCore
import NIOPosix
import NIOSSL

#if canImport(Glibc)
import Glibc
#endif

/// Whether a connection is between requests (and may be closed to make room) and
/// since when. Set by the connection's handlers on its event loop, read by the tracker
/// from any thread.
final class ConnectionActivity: Sendable {
    /// Uptime in nanoseconds when the connection became idle; 0 while a request is in
    /// progress (its bytes arriving or its call running).
    private let idleSince = Atomic<UInt64>(DispatchTime.now().uptimeNanoseconds)

    func busy() { idleSince.store(0, ordering: .relaxed) }
    func idle() { idleSince.store(max(DispatchTime.now().uptimeNanoseconds, 1), ordering: .relaxed) }
    var idleSinceNanos: UInt64 { idleSince.load(ordering: .relaxed) }
}

/// The open connections of one listener, so that they can be counted, limited and
/// closed. At the limit, the connection idle the longest is closed to admit a new one;
/// only when every connection is busy is the newcomer refused.
final class ConnectionTracker: @unchecked Sendable {
    private struct Entry {
        let channel: Channel
        let activity: ConnectionActivity
        let peer: String?
    }
    private var entries: [ObjectIdentifier: Entry] = [:]
    private var perPeer: [String: Int] = [:]
    private let lock = NSLock()
    let limit: Int
    let perPeerLimit: Int
    /// Told +1 or -1 as connections come and go (the gauge over all listeners).
    let onChange: (Int) -> Void

    enum Admission { case admitted, admittedAfterReaping, overLimit, overPeerLimit }

    init(limit: Int, perPeerLimit: Int = .max, onChange: @escaping (Int) -> Void) {
        self.limit = limit
        self.perPeerLimit = perPeerLimit
        self.onChange = onChange
    }

    /// `peer` is the remote IP address on TCP/TLS (nil on a Unix socket).
    func admit(_ channel: Channel, activity: ConnectionActivity, peer: String?) -> Admission {
        var reaped: Channel?
        let admission: Admission = lock.withLock {
            if let peer, perPeer[peer, default: 0] >= perPeerLimit { return .overPeerLimit }
            // A reaped connection's own removal finds nothing: it is accounted for here.
            var admission = Admission.admitted
            if entries.count >= limit {
                // Make room by closing the connection idle the longest, if any is idle.
                var oldest: (ObjectIdentifier, UInt64)?
                for (id, entry) in entries {
                    let since = entry.activity.idleSinceNanos
                    if since != 0, since < (oldest?.1 ?? .max) { oldest = (id, since) }
                }
                guard let (id, _) = oldest, let victim = entries.removeValue(forKey: id) else { return .overLimit }
                if let victimPeer = victim.peer {
                    let left = perPeer[victimPeer, default: 1] - 1
                    perPeer[victimPeer] = left > 0 ? left : nil
                }
                reaped = victim.channel
                admission = .admittedAfterReaping
            }
            entries[ObjectIdentifier(channel)] = Entry(channel: channel, activity: activity, peer: peer)
            if let peer { perPeer[peer, default: 0] += 1 }
            return admission
        }
        reaped?.close(promise: nil)
        if admission == .admitted { onChange(1) }
        return admission
    }

    func remove(_ channel: Channel) {
        let removed: Bool = lock.withLock {
            guard let entry = entries.removeValue(forKey: ObjectIdentifier(channel)) else { return false }
            if let peer = entry.peer {
                let left = perPeer[peer, default: 1] - 1
                perPeer[peer] = left > 0 ? left : nil
            }
            return true
        }
        if removed { onChange(-1) }
    }

    var count: Int { lock.withLock { entries.count } }

    /// Closes every connection at once and waits briefly: a TLS connection may wait
    /// for its peer's close_notify, which must not hold up shutdown.
    func closeAll() async {
        let all = lock.withLock { entries.values.map(\.channel) }
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
    /// Another process holds the address.
    var inUse = false
    public var description: String { inUse ? "\(address) is in use\(reason.isEmpty ? "" : " (by \(reason))")" : "cannot listen on \(address): \(reason)" }

    init(address: String, reason: String) {
        self.address = address
        self.reason = reason
    }

    /// The address is taken; `owner` names the process when /proc shows it.
    static func inUse(_ address: String, owner: String?) -> ListenerError {
        var error = ListenerError(address: address, reason: owner ?? "")
        error.inUse = true
        return error
    }
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
    /// The polling and flushing of `group`'s loops, handed to each connection.
    package let tunings: LoopTunings
    let logger: Logger
    private(set) public var listeners: [BoundListener] = []
    /// One connection budget per listener.
    private var trackers: [ConnectionTracker] = []

    package init(gateway: Gateway, config: GatewayConfig, group: EventLoopGroup, tunings: LoopTunings, logger: Logger) {
        self.gateway = gateway
        self.config = config
        self.group = group
        self.tunings = tunings
        self.logger = logger
    }

    /// Binds every configured listener; on any failure, closes those already bound.
    public func start() async throws {
        do {
            for text in config.listen {
                guard let address = ListenAddress(text) else { throw ListenerError(address: text, reason: "not a listener address") }
                listeners.append(try await bind(address))
                logger.info("listening", metadata: ["address": "\(listeners[listeners.count - 1].address)"])
            }
        } catch {
            await closeListeners()
            throw error
        }
    }

    private func context(for address: ListenAddress, kind: ListenerKind, boundHost: String?) -> ServerContext {
        let metrics = gateway.metrics
        let tracker = ConnectionTracker(limit: config.limits.maxConnections,
                                        perPeerLimit: kind == .unix ? .max : config.limits.maxConnectionsPerPeer) { delta in
            if delta > 0 { metrics.connections.increment(by: Double(delta)) } else { metrics.connections.decrement(by: Double(-delta)) }
        }
        trackers.append(tracker)
        var hosts = Set(config.allowedHosts)
        if kind != .unix {
            hosts.insert("localhost")
            if let boundHost { hosts.insert(boundHost.lowercased()) }
        }
        return ServerContext(gateway: gateway, limits: config.limits, connections: tracker, tunings: tunings, logger: logger,
                             listener: address.description, kind: kind, allowedHosts: hosts)
    }

    private func bind(_ address: ListenAddress) async throws -> BoundListener {
        do {
            return try await bindChecked(address)
        } catch let error as ListenerError {
            throw error
        } catch let error as IOError where error.errnoCode == EADDRINUSE {
            let port: Int? = switch address {
            case .tcp(_, let port), .tls(_, let port): port
            case .unix: nil
            }
            throw ListenerError.inUse(address.description, owner: port.flatMap(PortOwner.describe(port:)))
        } catch {
            // NIO's errors do not say which address they are about.
            throw ListenerError(address: address.description, reason: "\(error)")
        }
    }

    private func bindChecked(_ address: ListenAddress) async throws -> BoundListener {
        switch address {
        case .unix(let path):
            try UnixSocketFile.prepare(path)
            // Create the socket file with no access for others, then set the configured mode.
            let previous = umask(0o177)
            defer { umask(previous) }
            let server = context(for: address, kind: .unix, boundHost: nil)
            let channel = try await bootstrap(tls: nil, server: server)
                .bind(unixDomainSocketPath: path, cleanupExistingSocketFile: false).get()
            guard chmod(path, mode_t(config.socketMode)) == 0 else {
                try? await channel.close()
                throw ListenerError(address: address.description, reason: "chmod failed: \(String(cString: strerror(errno)))")
            }
            return BoundListener(address: address, channel: channel)
        case .tcp(let host, let port):
            // Decide on the address the name resolves to, which is what will be bound.
            let resolved = try SocketAddress.makeAddressResolvingHost(host, port: port)
            if !GatewayServer.isLoopback(resolved) && !config.allowPlaintextNonLoopback {
                throw ListenerError(address: address.description,
                                    reason: "\(host) resolves to \(resolved.ipAddress ?? "?"), not a loopback address; plaintext there is refused: use tls: or set allow_plaintext_non_loopback: true")
            }
            let server = context(for: address, kind: .tcp, boundHost: host)
            server.allowedHosts.formUnion([resolved.ipAddress, resolved.ipAddress.map { "[\($0)]" }].compactMap { $0?.lowercased() })
            let channel = try await bootstrap(tls: nil, server: server).bind(to: resolved).get()
            return BoundListener(address: .tcp(host: host, port: channel.localAddress?.port ?? port), channel: channel)
        case .tls(let host, let port):
            let tls = try TLSSetup.serverContext(config.tls)
            let resolved = try SocketAddress.makeAddressResolvingHost(host, port: port)
            let server = context(for: address, kind: .tls, boundHost: host)
            server.allowedHosts.formUnion([resolved.ipAddress, resolved.ipAddress.map { "[\($0)]" }].compactMap { $0?.lowercased() })
            let channel = try await bootstrap(tls: tls, server: server).bind(to: resolved).get()
            return BoundListener(address: .tls(host: host, port: channel.localAddress?.port ?? port), channel: channel)
        }
    }

    static func isLoopback(_ address: SocketAddress) -> Bool {
        switch address {
        case .v4(let v4):
            return ListenAddress.isLoopback(ipv4: withUnsafeBytes(of: v4.address.sin_addr) { Array($0) })
        case .v6(let v6):
            return ListenAddress.isLoopback(ipv6: withUnsafeBytes(of: v6.address.sin6_addr) { Array($0) })
        default:
            return false
        }
    }

    private func bootstrap(tls: NIOSSLContext?, server: ServerContext) -> ServerBootstrap {
        var bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(ChannelOptions.backlog, value: 512)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(ChannelOptions.allowRemoteHalfClosure, value: true)
            .childChannelOption(ChannelOptions.maxMessagesPerRead, value: 16)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try ConnectionPipeline.install(on: channel.pipeline.syncOperations, server: server, tls: tls) }
            }
        if server.kind != .unix { bootstrap = bootstrap.childChannelOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1) }
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
        for tracker in trackers { await tracker.closeAll() }
    }

    private func closeListeners() async {
        for listener in listeners {
            try? await listener.channel.close()
            if case .unix(let path) = listener.address { unlink(path) }
        }
        listeners = []
    }

    public var openConnections: Int { trackers.reduce(0) { $0 + $1.count } }
}

/// Unix socket files: a stale one (no process listening) is replaced, a live one is an error.
enum UnixSocketFile {
    static func prepare(_ path: String) throws {
        try makeParentDirectory(of: path)
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

    /// Creates a missing parent folder (and its parents) with mode 0700, so that a socket
    /// path in a new folder works as given and the folder is private to this user.
    static func makeParentDirectory(of path: String) throws {
        let dir = (path as NSString).deletingLastPathComponent
        guard !dir.isEmpty, !FileManager.default.fileExists(atPath: dir) else { return }
        do {
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            throw ListenerError(address: "unix:\(path)", reason: "cannot create the folder \(dir): \(error.localizedDescription)")
        }
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

    /// Why the default socket's folder cannot be used (the per-user one in /tmp must be
    /// this user's and private; a missing one must be makeable), or nil.
    public static func directoryProblem(for path: String) -> String? {
        let dir = (path as NSString).deletingLastPathComponent
        var info = stat()
        if lstat(dir, &info) == 0 {
            if dir.hasPrefix("/tmp/awsgw-") && (info.st_uid != getuid() || (info.st_mode & 0o077) != 0) {
                return "\(dir) is not private to this user"
            }
            return nil
        }
        let parent = (dir as NSString).deletingLastPathComponent
        return access(parent, W_OK | X_OK) == 0 ? nil : "\(dir) does not exist, and this user cannot make it in \(parent)"
    }

    /// Makes the socket's folder (mode 0700) when it is missing.
    public static func prepareDirectory(for path: String) throws {
        if let problem = directoryProblem(for: path) { throw ListenerError(address: "unix:\(path)", reason: problem) }
        let dir = (path as NSString).deletingLastPathComponent
        guard access(dir, F_OK) != 0 else { return }
        guard mkdir(dir, 0o700) == 0 else {
            throw ListenerError(address: "unix:\(path)", reason: "cannot create \(dir): \(String(cString: strerror(errno)))")
        }
    }
}
