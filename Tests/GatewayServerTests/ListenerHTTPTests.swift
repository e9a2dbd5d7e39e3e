import Foundation
import Testing

/// The listener's side of HTTP/1.1, on an embedded connection.
@Suite("The listener's HTTP/1.1")
struct ListenerHTTPTests {
    @Test("the listener: pipelined requests answered in order, HTTP/1.0 keep-alive, a chunked POST, 100-continue")
    func listener() throws {
        let c = try FramingTests.connection()
        let call = #"{"jsonrpc":"2.0","id":1,"method":"nope.Nope"}"#
        c.receive(Array(("GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n"
            + "POST / HTTP/1.1\r\nHost: localhost\r\nContent-Length: \(call.utf8.count)\r\n\r\n\(call)"
            + "GET /nothing HTTP/1.1\r\nHost: localhost\r\n\r\n").utf8))
        let three = FramingTests.text(c.written())
        #expect(three.components(separatedBy: "HTTP/1.1 ").map { $0.prefix(3) } == ["", "200", "200", "404"])
        #expect(three.contains(#""id":1,"error":{"code":-32601"#))

        c.receive(Array("GET /healthz HTTP/1.0\r\nConnection: keep-alive\r\n\r\n".utf8))
        #expect(FramingTests.text(c.written()) == "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 3\r\nConnection: keep-alive\r\n\r\nok\n")
        #expect(!c.isClosed)

        c.receive(Array("POST / HTTP/1.1\r\nHost: localhost\r\nExpect: 100-continue\r\nTransfer-Encoding: chunked\r\n\r\n".utf8))
        #expect(FramingTests.text(c.written()) == "HTTP/1.1 100 Continue\r\n\r\n")
        let half = call.utf8.count / 2
        c.receive(Array("\(String(half, radix: 16))\r\n\(call.prefix(half))\r\n".utf8))
        #expect(c.written().isEmpty)
        c.receive(Array("\(String(call.utf8.count - half, radix: 16))\r\n\(call.dropFirst(half))\r\n0\r\n\r\n".utf8))
        let answer = FramingTests.text(c.written())
        #expect(answer.hasPrefix("HTTP/1.1 200 OK\r\n") && answer.contains(#""id":1,"error":{"code":-32601"#))

        c.receive(Array("GET /healthz HTTP/1.0\r\n\r\n".utf8))
        #expect(FramingTests.text(c.written()).contains("Connection: close\r\n"))
        #expect(c.isClosed)
    }

    @Test("the listener: a Host accepted once on a connection does not let a different one through later")
    func listenerHostPerRequest() throws {
        let c = try FramingTests.connection()
        c.receive(Array("GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\nGET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n".utf8))
        #expect(FramingTests.text(c.written()).components(separatedBy: "HTTP/1.1 200 OK").count == 3)
        c.receive(Array("GET /healthz HTTP/1.1\r\nHost: evil.example\r\n\r\n".utf8))
        #expect(FramingTests.text(c.written()).hasPrefix("HTTP/1.1 421 Misdirected Request\r\n"))
        #expect(c.isClosed)
    }

    @Test("the listener: a head over the limit is 431, a version it does not speak 505, both then closed")
    func listenerRefusals() throws {
        for (request, status) in [("GET / HTTP/1.1\r\nX: " + String(repeating: "a", count: 90 * 1024) + "\r\n\r\n", "431"),
                                  ("GET / HTTP/2.0\r\nHost: localhost\r\n\r\n", "505")] {
            let c = try FramingTests.connection()
            c.receive(Array(request.utf8))
            let answer = FramingTests.text(c.written())
            #expect(answer.hasPrefix("HTTP/1.1 \(status) "), "\(answer.prefix(40))")
            #expect(answer.contains(#""code":-32600"#))
            #expect(c.isClosed)
        }
    }
}
