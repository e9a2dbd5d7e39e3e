import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

public struct RedisServerError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}

/// A real `redis-server` on a free loopback port, stopped at the end. Missing outside CI,
/// the tests that need it say so and are skipped; under CI=true they must run.
public final class RedisServer: @unchecked Sendable {
    public static var binary: String? {
        ["/usr/bin/redis-server", "/usr/local/bin/redis-server"].first { FileManager.default.isExecutableFile(atPath: $0) }
    }
    public static var available: Bool { binary != nil || ProcessInfo.processInfo.environment["CI"] == "true" }

    let process = Process()
    public let port: Int

    /// `tls`: the server's certificate and key; it then listens with TLS only.
    public init(password: String? = nil, port: Int? = nil, tls: (certificate: String, key: String)? = nil) async throws {
        guard let binary = Self.binary else { throw RedisServerError("redis-server is not installed (apt-get install redis-server)") }
        self.port = try port ?? Self.freePort()
        self.tls = tls != nil
        process.executableURL = URL(fileURLWithPath: binary)
        var arguments = ["--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--daemonize", "no"]
        if let tls {
            arguments += ["--port", "0", "--tls-port", String(self.port), "--tls-cert-file", tls.certificate, "--tls-key-file", tls.key, "--tls-auth-clients", "no"]
        } else {
            arguments += ["--port", String(self.port)]
        }
        if let password { arguments += ["--requirepass", password] }
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        // Ready when it accepts a connection and is still running (a server that could not
        // bind exits; a connection accepted then would be someone else's).
        for _ in 0..<200 {
            if Self.accepts(self.port) {
                try await Task.sleep(nanoseconds: 30_000_000)
                if process.isRunning { return }
                throw RedisServerError("redis-server exited at start (port \(self.port) taken?)")
            }
            try await Task.sleep(nanoseconds: 20_000_000)
        }
        process.terminate()
        throw RedisServerError("redis-server did not start on port \(self.port)")
    }

    /// `redis://127.0.0.1:<port>` (`rediss://` when started with TLS).
    public var urlText: String { (tls ? "rediss" : "redis") + "://127.0.0.1:\(port)" }
    let tls: Bool

    /// Stops the server at once and waits (briefly) for it to go. SIGKILL: the child
    /// inherits the test runner's blocked signals, SIGTERM among them. `waitUntilExit` can
    /// hang when called from a task, so the exit is polled.
    public func stop() {
        guard process.isRunning else { return }
        kill(process.processIdentifier, SIGKILL)
        for _ in 0..<200 where process.isRunning { usleep(10_000) }
    }

    /// Ports handed out in this process: tests run in parallel, and the kernel may give a
    /// just-closed port 0 binding to the next caller too.
    static let handedOut = Mutex<Set<Int>>([])

    public static func freePort() throws -> Int {
        for _ in 0..<50 {
            let port = try unusedPort()
            if handedOut.withLock({ $0.insert(port).inserted }) { return port }
        }
        throw RedisServerError("no free port")
    }

    static func unusedPort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard bound else { throw RedisServerError("no free port") }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    public static func accepts(_ port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
    }
}

