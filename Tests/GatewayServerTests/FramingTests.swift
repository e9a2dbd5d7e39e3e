import AWSClient
import AWSCredentials
import AWSJSON
import AWSProtocols
import AWSSigning
import Foundation
import GatewayCore
import GatewayServer
import GatewayTesting
import GatewayTransport
import Testing

/// The framing handlers on an EmbeddedChannel: no sockets, virtual time.
@Suite("Framing handlers (EmbeddedChannel)")
struct FramingTests {
    static func connection(_ configure: (inout GatewayLimits) -> Void = { _ in }) throws -> EmbeddedConnection {
        var limits = GatewayLimits()
        configure(&limits)
        var dependencies = GatewayDependencies(engine: AWSEngine(models: sharedModels, environment: [:]), transport: FakeTransport.unreachable("no network in this test"),
                                               credentialSources: ["default": StaticCredentialProvider(Credentials(accessKeyId: "AKID", secretAccessKey: "s"))])
        dependencies.policy = Policy(teams: [Team(name: "all", members: [.any], allow: [OperationPattern("*:*")!])])
        dependencies.defaultRegion = "us-east-1"
        dependencies.limits = limits
        dependencies.sleep = { _ in }
        let gateway = Gateway(dependencies)
        return try EmbeddedConnection(gateway: gateway, limits: limits)
    }

    static func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }

    @Test("HTTP: a POST split over reads is answered; the connection stays open for the next")
    func httpKeepAlive() throws {
        let c = try Self.connection()
        let body = #"{"jsonrpc":"2.0","id":7,"method":"netmanager.AssociateConnectPeer"}"#
        c.receive(Array("POST / HTTP/1.1\r\nHost: localhost\r\nContent-Le".utf8))
        c.receive(Array("ngth: \(body.utf8.count)\r\n\r\n\(body)".utf8))
        let answer = Self.text(c.written())
        #expect(answer.hasPrefix("HTTP/1.1 200 OK"))
        #expect(answer.contains(#"{"jsonrpc":"2.0","id":7,"error":{"code":-32601"#))
        #expect(!c.isClosed)
        c.receive(Array("GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n".utf8))
        #expect(Self.text(c.written()).hasSuffix("ok\n"))
        c.finish()
    }

    @Test("HTTP: the client's half-close ends an idle connection at once")
    func httpHalfClose() throws {
        let c = try Self.connection()
        c.receive(Array("GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n".utf8))
        #expect(Self.text(c.written()).hasPrefix("HTTP/1.1 200"))
        c.closeInput()
        #expect(c.isClosed)
    }

    @Test("HTTP: an idle connection is closed after the idle timeout, counted from its last read or write")
    func httpIdleTimeout() throws {
        let c = try Self.connection { $0.idleTimeoutSeconds = 2 }
        c.receive(Array("GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n".utf8))
        c.advance(seconds: 1.5)
        c.receive(Array("GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n".utf8))
        #expect(Self.text(c.written()).components(separatedBy: "HTTP/1.1 200 OK").count == 3)
        c.advance(seconds: 1.0)
        #expect(!c.isClosed, "busy 1 s ago: not idle yet")
        c.advance(seconds: 1.2)
        #expect(c.isClosed)
    }

    @Test("HTTP: a head trickled past the header timeout is cut off")
    func httpHeadDeadline() throws {
        let c = try Self.connection { $0.headerTimeoutSeconds = 2 }
        c.receive(Array("POST / HTTP/1.1\r\nHo".utf8))
        c.advance(seconds: 1)
        #expect(!c.isClosed)
        c.advance(seconds: 1.5)
        #expect(c.isClosed)
    }

    @Test("HTTP: a malformed request gets a JSON-RPC error body and the connection closes")
    func httpMalformed() throws {
        let c = try Self.connection()
        c.receive(Array("POST / HTTP/1.1\r\nHost: localhost\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab".utf8))
        let answer = Self.text(c.written())
        #expect(answer.hasPrefix("HTTP/1.1 400"))
        #expect(answer.contains(#""code":-32600"#))
        #expect(c.isClosed)
    }

    @Test("NDJSON: lines in one read or split, each answered on its own line")
    func ndjsonLines() throws {
        let c = try Self.connection()
        c.receive(Array(#"{"jsonrpc":"2.0","id":1,"method":"x.Y"}"#.utf8) + [0x0A] + Array(#"{"jsonrpc":"2.0","id":2,"#.utf8))
        c.receive(Array(#""method":"x.Y"}"#.utf8) + [0x0A])
        let lines = Self.text(c.written()).split(separator: "\n").map(String.init)
        #expect(lines.count == 2)
        #expect(lines.compactMap { (try? JSON.parse($0))?["id"]?.intValue }.sorted() == [1, 2])
    }

    @Test("NDJSON: a line not completed within the header timeout is answered -32600 and closed")
    func ndjsonDeadline() throws {
        let c = try Self.connection { $0.headerTimeoutSeconds = 2 }
        c.receive(Array(#"{"jsonrpc":"2.0","#.utf8))
        c.advance(seconds: 1)
        c.receive(Array(#""id":1"#.utf8))
        c.advance(seconds: 1.5)
        let answer = Self.text(c.written())
        #expect(answer.contains(#""code":-32600"#) && answer.contains("header timeout"))
        #expect(c.isClosed)
    }

    @Test("NDJSON: a line over the body limit is refused and the connection closed")
    func ndjsonTooLong() throws {
        let c = try Self.connection { $0.maxBodyBytes = 64 }
        c.receive(Array(String(repeating: "x", count: 100).utf8))
        #expect(Self.text(c.written()).contains(#""limit":64"#))
        #expect(c.isClosed)
    }
}
