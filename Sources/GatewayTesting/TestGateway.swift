import AWSClient
import AWSCredentials
import AWSJSON
import AWSModels
import AWSSigning
import Foundation
import GatewayApp
import GatewayCore
import GatewayServer
import GatewayTransport
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import NIOSSL
import TestSupport

#if canImport(Glibc)
import Glibc
#endif

package let sharedModels: ModelStore = try! ModelStore(root: Fixtures.modelsDir)

/// Records the backoff delays the gateway asked for, without waiting them out.
package final class SleepRecorder: @unchecked Sendable {
    private let lock = NIOLock()
    private var delays: [Double] = []
    package var recorded: [Double] { lock.withLock { delays } }
    package func record(_ seconds: Double) { lock.withLock { delays.append(seconds) } }
}

/// A gateway started in-process on real sockets, in front of a FakeAWS: wired by the
/// composition root `awsgw serve` uses (`GatewayRunner`), with the parts a test makes by
/// hand (policy, limits, cache, audit log, credentials) put in over the configuration's.
package final class TestGateway: @unchecked Sendable {
    package let fake: FakeAWS
    package let runner: GatewayRunner
    package var gateway: Gateway { runner.gateway }
    package var server: GatewayServer { runner.server }
    package var transport: UpstreamClient { runner.transport }
    package var group: MultiThreadedEventLoopGroup { runner.group }
    /// The stand-in's own event loop, apart from the gateway's.
    private let fakeGroup = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    package let sleeps = SleepRecorder()
    package let dir: String

    package var socketPath: String { dir + "/gw.sock" }

    package func address(_ kind: String) -> ListenAddress {
        server.listeners.first { listener in
            switch (listener.address, kind) {
            case (.unix, "unix"), (.tcp, "tcp"), (.tls, "tls"): return true
            default: return false
            }
        }!.address
    }

    package init(
        listen: [String]? = nil, configure: (inout GatewayConfig) -> Void = { _ in },
        credentials: (any CredentialProvider)? = nil, environment: [String: String] = [:],
        upstreamTLS: NIOSSLContext? = nil, upstreamTrust: NIOSSLTrustRoots = .default,
        policy: Policy = Policy(teams: [Team(name: "everyone", members: [.any], allow: [OperationPattern("*:*")!])]),
        extraSources: [String: any CredentialProvider] = [:], rateLimiter: RateLimiter = RateLimiter(limits: [:]),
        cache: ResponseCache? = nil, audit: AuditLog? = nil,
        script: @escaping FakeAWS.Script = FakeAWS.okAssociate
    ) async throws {
        fake = try await FakeAWS(group: fakeGroup, tls: upstreamTLS, script: script)
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("awsgw-test-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        var config = GatewayConfig()
        config.listen = listen ?? ["unix:" + dir + "/gw.sock", "tcp:127.0.0.1:0"]
        config.limits.shutdownGraceSeconds = 5
        config.limits.maxUpstreamResponseBytes = 1 << 20
        config.upstream.connectTimeoutSeconds = 1
        config.logs = nil
        configure(&config)
        var env = ["AWS_ENDPOINT_URL": fake.url]
        for (key, value) in environment { env[key] = value }
        let keys = credentials ?? StaticCredentialProvider(Credentials(accessKeyId: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"))
        var sources: [String: any CredentialProvider] = ["default": keys]
        for (name, source) in extraSources { sources[name] = source }
        var logger = Logger(label: "awsgw-test")
        logger.logLevel = .warning
        var overrides = RunnerOverrides()
        overrides.upstreamTrust = upstreamTrust
        // Flushes gathered from the first call in flight on (serve: above two per loop), so
        // that every test here runs with them.
        overrides.flushCrowd = 0
        let sleeps = self.sleeps
        overrides.gateway = { [sources] dependencies in
            dependencies.credentialSources = sources
            dependencies.policy = policy
            dependencies.rateLimiter = rateLimiter
            dependencies.cache = cache
            dependencies.defaultRegion = "us-east-1"
            dependencies.audit = audit
            dependencies.sleep = { seconds in sleeps.record(seconds) }
        }
        runner = try GatewayRunner(config: config, models: sharedModels, environment: env, logger: logger, threads: 2, overrides: overrides)
        do {
            try await runner.server.start()
        } catch {
            await runner.stop()
            await fake.stop()
            try? await fakeGroup.shutdownGracefully()
            throw error
        }
    }

    package func stop() async {
        await runner.stop()
        await fake.stop()
        try? await fakeGroup.shutdownGracefully()
        try? FileManager.default.removeItem(atPath: dir)
    }
}

/// A JSON-RPC request line or body.
package func rpc(_ id: JSON?, _ method: String, _ params: JSON = .object(JSONObject())) -> String {
    var object = JSONObject([("jsonrpc", "2.0"), ("method", .string(method)), ("params", params)])
    if let id { object.append("id", id) }
    return JSON.object(object).serializedString()
}

package let associateParams: JSON = ["GlobalNetworkId": "global-network-0123", "ConnectPeerId": "connect-peer-0123", "DeviceId": "device-0123"]

/// Runs blocking socket work on its own thread, so the cooperative pool (which the
/// gateway itself runs on) is never blocked by a test.
package func onThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        let thread = Thread {
            do { continuation.resume(returning: try body()) } catch { continuation.resume(throwing: error) }
        }
        thread.start()
    }
}

package struct SocketError: Error, CustomStringConvertible {
    package let description: String
    package init(description: String) { self.description = description }
}

/// A plain blocking client socket to a listener. Its descriptor is closed once, by deinit,
/// which also runs when init throws (closing it in init too would close a number NIO may
/// already have reused).
package final class RawSocket: @unchecked Sendable {
    package let fd: Int32

    package init(_ address: ListenAddress, timeoutSeconds: Int = 20) throws {
        switch address {
        case .unix(let path):
            fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
            var addr = sockaddr_un()
            addr.sun_family = sa_family_t(AF_UNIX)
            let bytes = Array(path.utf8)
            withUnsafeMutableBytes(of: &addr.sun_path) { raw in
                for (i, b) in bytes.enumerated() { raw[i] = b }
                raw[bytes.count] = 0
            }
            let rc = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) } }
            if rc != 0 { throw SocketError(description: "connect \(path): \(String(cString: strerror(errno)))") }
        case .tcp(let host, let port), .tls(let host, let port):
            fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var addr = sockaddr_in()
            addr.sin_family = sa_family_t(AF_INET)
            addr.sin_port = in_port_t(UInt16(port).bigEndian)
            inet_pton(AF_INET, host, &addr.sin_addr)
            let rc = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
            if rc != 0 { throw SocketError(description: "connect \(host):\(port): \(String(cString: strerror(errno)))") }
        }
        var timeout = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    deinit { close(fd) }

    package func write(_ text: String) throws { try write(Array(text.utf8)) }

    package func write(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            if n <= 0 { throw SocketError(description: "write: \(String(cString: strerror(errno)))") }
            offset += n
        }
    }

    package func shutdownWrite() { shutdown(fd, Int32(SHUT_WR)) }

    /// Reads until the peer closes (or the timeout).
    package func readToEnd() -> [UInt8] {
        var out: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n <= 0 { break }
            out += buffer[0..<n]
        }
        return out
    }

    /// Reads onto `data` until `done(data)` holds; false when the peer closed (or the
    /// timeout came) first.
    package func read(onto data: inout [UInt8], until done: ([UInt8]) -> Bool) -> Bool {
        var buffer = [UInt8](repeating: 0, count: 65536)
        while !done(data) {
            let n = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n <= 0 { return false }
            data += buffer[0..<n]
        }
        return true
    }

    /// Reads until `count` newline-terminated lines have arrived (or the peer closes).
    package func readLines(_ count: Int) -> [String] {
        var data: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while data.filter({ $0 == 0x0A }).count < count {
            let n = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n <= 0 { break }
            data += buffer[0..<n]
        }
        return String(decoding: data, as: UTF8.self).split(separator: "\n").map(String.init)
    }
}

/// One HTTP exchange on a fresh connection that the gateway closes afterwards.
package struct HTTPReply {
    package let status: Int
    package let headers: [(String, String)]
    package let body: String

    package func header(_ name: String) -> String? { headers.first { $0.0.lowercased() == name.lowercased() }?.1 }
    package var json: JSON? { try? JSON.parse(body) }

    package static func parse(_ bytes: [UInt8]) -> HTTPReply? {
        let text = String(decoding: bytes, as: UTF8.self)
        guard let split = text.range(of: "\r\n\r\n") else { return nil }
        let lines = text[..<split.lowerBound].split(separator: "\r\n").map(String.init)
        guard let statusLine = lines.first, let status = Int(statusLine.split(separator: " ")[1]) else { return nil }
        let headers = lines.dropFirst().compactMap { line -> (String, String)? in
            guard let colon = line.firstIndex(of: ":") else { return nil }
            return (String(line[..<colon]), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces))
        }
        return HTTPReply(status: status, headers: headers, body: String(text[split.upperBound...]))
    }
}

/// A chunked body's data (`Transfer-Encoding: chunked`), the chunks joined; nil when
/// the framing is broken or the last chunk has not come.
package func dechunk(_ body: [UInt8]) -> [UInt8]? {
    var data: [UInt8] = []
    var at = 0
    while true {
        guard let lineEnd = body[at...].firstIndex(of: 0x0D), lineEnd + 1 < body.count,
              let size = Int(String(decoding: body[at..<lineEnd], as: UTF8.self), radix: 16) else { return nil }
        at = lineEnd + 2
        if size == 0 { return data }
        guard at + size + 2 <= body.count else { return nil }
        data += body[at..<(at + size)]
        at += size + 2
    }
}

package func httpExchange(_ address: ListenAddress, method: String = "POST", path: String = "/", body: String = "", headers: [(String, String)] = []) async throws -> HTTPReply {
    try await onThread {
        let socket = try RawSocket(address)
        var request = "\(method) \(path) HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n"
        for (name, value) in headers { request += "\(name): \(value)\r\n" }
        if method == "POST" { request += "Content-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n" }
        request += "\r\n" + body
        try socket.write(request)
        guard let reply = HTTPReply.parse(socket.readToEnd()) else { throw SocketError(description: "no HTTP reply") }
        return reply
    }
}

package func ndjsonExchange(_ address: ListenAddress, lines: [String], expect: Int) async throws -> [JSON] {
    try await onThread {
        let socket = try RawSocket(address)
        try socket.write(lines.map { $0 + "\n" }.joined())
        return socket.readLines(expect).compactMap { try? JSON.parse($0) }
    }
}
