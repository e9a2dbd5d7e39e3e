import AWSJSON
import Foundation
import GatewayCore
import GatewayServer
import GatewayTesting
import GatewayTransport
import NIOCore
import Testing
import TestSupport

#if canImport(Glibc)
import Glibc
#endif

/// What a careless client or an attacker does over real sockets: nothing of it may take
/// the gateway down or lock other callers out.
@Suite("Hardening: hostile and careless clients", .serialized)
struct HardeningTests {
    /// Reads one HTTP response (head and a Content-Length body) from a kept-alive connection.
    static func readResponse(_ socket: RawSocket) -> HTTPReply? {
        var data: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 16384)
        while true {
            if let end = data.firstRange(of: Array("\r\n\r\n".utf8)) {
                let head = String(decoding: data[..<end.lowerBound], as: UTF8.self)
                let length = head.split(separator: "\r\n").compactMap { line -> Int? in
                    let parts = line.split(separator: ":", maxSplits: 1)
                    guard parts.count == 2, parts[0].lowercased() == "content-length" else { return nil }
                    return Int(parts[1].trimmingCharacters(in: .whitespaces))
                }.first ?? 0
                if data.count >= end.upperBound + length { return HTTPReply.parse(Array(data[..<(end.upperBound + length)])) }
            }
            let n = buffer.withUnsafeMutableBytes { read(socket.fd, $0.baseAddress, $0.count) }
            if n <= 0 { return nil }
            data += buffer[0..<n]
        }
    }

    static func waitUntil(_ seconds: Double, _ condition: () -> Bool) async -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if condition() { return true }
            try? await Task.sleep(nanoseconds: 20_000_000)
        }
        return condition()
    }

    @Test("5,000 short-lived keep-alive connections that the client closes are all served and released")
    func closedConnectionsAreReleased() async throws {
        let gw = try await TestGateway(configure: { $0.limits.maxConnections = 256 })
        let address = gw.address("tcp")
        let served = try await onThread { () -> Int in
            var served = 0
            for _ in 0..<5000 {
                let socket = try RawSocket(address, timeoutSeconds: 5)
                // Keep-alive, as curl asks; then the client closes, as curl does.
                try socket.write("GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n")
                if HardeningTests.readResponse(socket)?.status == 200 { served += 1 }
            }
            return served
        }
        #expect(served == 5000)
        #expect(await Self.waitUntil(5) { gw.server.openConnections == 0 }, "still open: \(gw.server.openConnections)")
        await gw.stop()
    }

    @Test("a TCP flood of idle connections neither locks out the Unix socket nor new TCP callers")
    func idleFlood() async throws {
        let gw = try await TestGateway(configure: {
            $0.limits.maxConnections = 100
            $0.limits.maxConnectionsPerPeer = 2000
        })
        let tcp = gw.address("tcp")
        // 2,000 connections that say nothing: at most 100 are held, the oldest idle ones
        // are closed to make room for newer ones.
        let idle = try await onThread { try (0..<2000).map { _ in try RawSocket(tcp, timeoutSeconds: 5) } }
        #expect(await Self.waitUntil(5) { gw.server.openConnections <= 100 })
        let unix = try await httpExchange(gw.address("unix"), body: rpc(1, "networkmanager.AssociateConnectPeer", associateParams))
        #expect(unix.status == 200 && unix.json?["result"] != nil)
        let fresh = try await httpExchange(tcp, method: "GET", path: "/healthz")
        #expect(fresh.status == 200)
        let metrics = try await httpExchange(gw.address("unix"), method: "GET", path: "/metrics")
        #expect(metrics.body.contains("awsgw_connections_reaped_total"))
        withExtendedLifetime(idle) {}
        await gw.stop()
    }

    @Test("one peer address cannot hold more than its share of a TCP listener")
    func perPeerCap() async throws {
        let gw = try await TestGateway(configure: { $0.limits.maxConnectionsPerPeer = 20 })
        let tcp = gw.address("tcp")
        let sockets = try await onThread { () -> [RawSocket] in
            let held = try (0..<20).map { _ in try RawSocket(tcp, timeoutSeconds: 5) }
            // Each one is busy: a head that has started but not finished.
            for socket in held { try socket.write("POST / HTTP/1.1\r\n") }
            return held
        }
        try await Task.sleep(nanoseconds: 200_000_000)
        let refused = try await onThread { () -> [UInt8] in
            let socket = try RawSocket(tcp, timeoutSeconds: 5)
            try socket.write("GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n")
            return socket.readToEnd()
        }
        #expect(refused.isEmpty, "the 21st connection from one address is closed at once")
        let unix = try await httpExchange(gw.address("unix"), method: "GET", path: "/healthz")
        #expect(unix.status == 200)
        withExtendedLifetime(sockets) {}
        await gw.stop()
    }

    @Test("an NDJSON line trickled in is cut at the deadline with -32600")
    func trickledLine() async throws {
        let gw = try await TestGateway(configure: { $0.limits.headerTimeoutSeconds = 0.5 })
        let started = Date()
        let lines = try await onThread { () -> [String] in
            // The server cuts the line, long before this socket's own timeout (a loaded
            // machine may run the deadline late, but never that late).
            let socket = try RawSocket(gw.address("tcp"), timeoutSeconds: 15)
            try socket.write("{\"jsonrpc\"")
            Thread.sleep(forTimeInterval: 0.3)
            try socket.write(":")  // still trickling: the deadline runs from the line's first byte
            return socket.readLines(1)
        }
        let elapsed = Date().timeIntervalSince(started)
        #expect(lines.count == 1)
        #expect((try? JSON.parse(lines.first ?? ""))?["error"]?["code"] == -32600)
        #expect(elapsed < 10)
        await gw.stop()
    }

    @Test("a half-closed NDJSON connection gets its answers, then is closed")
    func ndjsonHalfClose() async throws {
        let gw = try await TestGateway()
        let lines = try await onThread { () -> [String] in
            let socket = try RawSocket(gw.address("tcp"), timeoutSeconds: 5)
            try socket.write(rpc(1, "networkmanager.AssociateConnectPeer", associateParams) + "\n")
            socket.shutdownWrite()
            return String(decoding: socket.readToEnd(), as: UTF8.self).split(separator: "\n").map(String.init)
        }
        #expect(lines.count == 1)
        #expect(await Self.waitUntil(5) { gw.server.openConnections == 0 })
        await gw.stop()
    }

    @Test("plaintext TCP is allowed on what resolves to loopback, refused elsewhere")
    func loopbackByAddress() async throws {
        // "0x7f000001" is 127.0.0.1 once resolved, though its text does not say "127.".
        let ok = try await TestGateway(listen: ["tcp:0x7f000001:0", "tcp:localhost:0"])
        #expect(ok.server.listeners.count == 2)
        await ok.stop()
        await #expect(throws: ListenerError.self) { _ = try await TestGateway(listen: ["tcp:0.0.0.0:0"]) }
        do {
            _ = try await TestGateway(listen: ["tcp:0.0.0.0:0"])
        } catch let error as ListenerError {
            #expect(error.description.contains("tcp:0.0.0.0:0") && error.description.contains("not a loopback address"))
        }
    }

    @Test("an answer over the size limit is refused from its Content-Length and sent once")
    func oversizedAnswerNotRetried() async throws {
        let big = String(repeating: "x", count: 2 << 20)
        let gw = try await TestGateway(script: { _, _ in .respond(status: 200, headers: [("Content-Type", "application/json")], body: big) })
        let reply = try await httpExchange(gw.address("unix"), body: rpc(1, "networkmanager.AssociateConnectPeer", associateParams))
        #expect(reply.json?["error"]?["code"] == -32011)
        #expect(reply.json?["error"]?["data"]?["attempts"] == 1)
        #expect(gw.fake.requests.count == 1)
        await gw.stop()
    }

    @Test("ids come back exactly as written; a non-finite id is -32600")
    func idsEchoed() async throws {
        let gw = try await TestGateway()
        let long = try await httpExchange(gw.address("unix"), body: #"{"jsonrpc":"2.0","id":123456789012345678901234567890,"method":"nope.Nope"}"#)
        #expect(long.body.hasPrefix(#"{"jsonrpc":"2.0","id":123456789012345678901234567890,"error""#))
        let exponent = try await httpExchange(gw.address("unix"), body: #"{"jsonrpc":"2.0","id":1E+2,"method":"nope.Nope"}"#)
        #expect(exponent.body.hasPrefix(#"{"jsonrpc":"2.0","id":1E+2,"#))
        let infinite = try await httpExchange(gw.address("unix"), body: #"{"jsonrpc":"2.0","id":1e999999,"method":"nope.Nope"}"#)
        #expect(infinite.json?["id"] == .null && infinite.json?["error"]?["code"] == -32600)
        await gw.stop()
    }

    @Test("duplicate members: -32602 with the path in params, -32600 in the envelope; nothing reaches AWS")
    func duplicateMembers() async throws {
        let gw = try await TestGateway()
        let params = #"{"GlobalNetworkId":"g","ConnectPeerId":"c","DeviceId":"d","DeviceId":"../../x"}"#
        let reply = try await httpExchange(gw.address("unix"),
                                           body: #"{"jsonrpc":"2.0","id":1,"method":"networkmanager.AssociateConnectPeer","params":"# + params + "}")
        #expect(reply.json?["error"]?["code"] == -32602)
        #expect(reply.json?["error"]?["data"]?["errors"]?.arrayValue?.first?["path"] == "$.DeviceId")
        let envelope = try await httpExchange(gw.address("unix"),
                                              body: #"{"jsonrpc":"2.0","id":2,"method":"networkmanager.AssociateConnectPeer","id":3,"params":{}}"#)
        #expect(envelope.json?["error"]?["code"] == -32600)
        #expect(gw.fake.requests.isEmpty)
        await gw.stop()
    }

    @Test("malformed HTTP is answered with its status and a JSON-RPC error body, then closed",
          arguments: [
            "POST / HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nbad\r\n0\r\n\r\n",
            "POST / HTTP/1.1\r\nHost: localhost\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
            "POST / HTTP/1.1\r\nHost: localhost\r\nContent-Length: 5\r\nContent-Length: 7\r\n\r\n12345",
            "GET /\r\n\r\n",
            "GET /healthz HTTP/1.1\r\nHost: localhost\r\nX-Folded: a\r\n  b\r\n\r\n",
            "GET /healthz HTTP/9.9\r\nHost: localhost\r\n\r\n",
          ])
    func malformedHTTP(_ request: String) async throws {
        let gw = try await TestGateway()
        let bytes = try await onThread { () -> [UInt8] in
            let socket = try RawSocket(gw.address("tcp"), timeoutSeconds: 5)
            try socket.write(request)
            return socket.readToEnd()
        }
        let reply = HTTPReply.parse(bytes)
        #expect(reply != nil, "no answer to \(request.debugDescription)")
        if let reply {
            #expect((400...505).contains(reply.status))
            #expect(reply.header("Content-Type") == "application/json")
            #expect(reply.json?["error"]?["code"] == -32600)
        }
        await gw.stop()
    }

    @Test("overload is -32003 with retryAfterMs, HTTP 503 with Retry-After, and counted")
    func overload() async throws {
        let gw = try await TestGateway(configure: { $0.limits.maxInFlightCalls = 1 }, script: { _, _ in
            .respond(status: 200, headers: [("Content-Type", "application/json")], body: "{}", delay: 0.5)
        })
        async let slow = httpExchange(gw.address("unix"), body: rpc(1, "networkmanager.AssociateConnectPeer", associateParams))
        // The first call holds the only slot while AWS takes its time.
        #expect(await Self.waitUntil(5) { gw.gateway.callsInFlight == 1 })
        let refused = try await httpExchange(gw.address("unix"), body: rpc(2, "networkmanager.AssociateConnectPeer", associateParams))
        #expect(refused.status == 503)
        #expect(refused.header("Retry-After") == "1")
        #expect(refused.json?["error"]?["code"] == -32003)
        #expect(refused.json?["error"]?["data"]?["retryAfterMs"] == 100)
        #expect(try await slow.status == 200)
        let metrics = try await httpExchange(gw.address("unix"), method: "GET", path: "/metrics")
        #expect(metrics.body.contains("awsgw_calls_overloaded_total 1"))
        await gw.stop()
    }

    @Test("a Host that does not name a TCP listener is refused (DNS rebinding); allowed_hosts and the Unix socket are not")
    func hostCheck() async throws {
        let gw = try await TestGateway(configure: { $0.allowedHosts = ["awsgw.internal"] })
        let tcp = gw.address("tcp")
        guard case .tcp(_, let port) = tcp else { return }
        func get(_ host: String, _ address: ListenAddress) async throws -> HTTPReply {
            try await onThread {
                let socket = try RawSocket(address)
                try socket.write("GET /metrics HTTP/1.1\r\nHost: \(host)\r\nConnection: close\r\n\r\n")
                guard let reply = HTTPReply.parse(socket.readToEnd()) else { throw SocketError(description: "no reply") }
                return reply
            }
        }
        #expect(try await get("evil.example", tcp).status == 421)
        #expect(try await get("evil.example:\(port)", tcp).status == 421)
        #expect(try await get("localhost:\(port)", tcp).status == 200)
        #expect(try await get("127.0.0.1:\(port)", tcp).status == 200)
        #expect(try await get("AWSGW.internal", tcp).status == 200)
        #expect(try await get("evil.example", gw.address("unix")).status == 200)
        await gw.stop()
    }

    @Test("a Unix socket in a folder that does not exist yet: the folder is made, private")
    func socketFolderCreated() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("awsgw-new-\(UUID().uuidString.prefix(8))").path
        let gw = try await TestGateway(listen: ["unix:\(dir)/sub/gw.sock"])
        var info = stat()
        #expect(stat(dir + "/sub", &info) == 0 && (info.st_mode & 0o777) == 0o700)
        let reply = try await httpExchange(.unix(path: dir + "/sub/gw.sock"), method: "GET", path: "/healthz")
        #expect(reply.status == 200)
        await gw.stop()
        try? FileManager.default.removeItem(atPath: dir)
    }
}
