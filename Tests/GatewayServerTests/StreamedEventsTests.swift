import AWSJSON
import Foundation
@testable import GatewayServer
import GatewayTesting
import NIOConcurrencyHelpers
import NIOEmbedded
import Testing

/// Event-stream answers sent on as they arrive: a stand-in AWS sends a Bedrock
/// `ConverseStream` answer event by event, held at a gate, and the caller must see the
/// first event while the stand-in still holds the second.
@Suite("Event streams as they arrive", .serialized)
struct StreamedEventsTests {
    static let converse: JSON = ["modelId": "m", "messages": [["role": "user", "content": [["text": "hi"]]]]]

    static let frames = EventStreamFrames.converseStream

    static func script(_ frames: [[UInt8]] = frames, gate: FakeAWS.Gate?, hold: (at: Int, gate: FakeAWS.Gate)? = nil) -> FakeAWS.Script {
        FakeAWS.eventStream(frames, gate: gate, hold: hold)
    }

    /// The same answer read whole (plain HTTP): its `stream` member's events, serialized.
    static func wholeEvents(_ gw: TestGateway) async throws -> [String] {
        gw.fake.setScript(script(gate: nil))
        let reply = try await httpExchange(gw.address("unix"), body: rpc(1, "bedrock-runtime.ConverseStream", converse))
        guard case .array(let events)? = reply.json?["result"]?["stream"] else { throw SocketError(description: "no stream in \(reply.body)") }
        return events.map { $0.serializedString() }
    }

    /// POSTs a ConverseStream call accepting `accept`, reads until the first event has
    /// come, notes how many pieces AWS had sent by then, opens the gate, reads to the end.
    static func streamedOverHTTP(_ gw: TestGateway, accept: String, gate: FakeAWS.Gate) async throws -> (head: String, piecesAtFirst: Int, body: [UInt8]) {
        let piecesBefore = gw.fake.streamedPieces
        return try await onThread {
            let socket = try RawSocket(gw.address("unix"), timeoutSeconds: 10)
            let body = rpc(7, "bedrock-runtime.ConverseStream", converse)
            try socket.write("POST / HTTP/1.1\r\nHost: localhost\r\nAccept: \(accept)\r\nContent-Type: application/json\r\n"
                             + "Content-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n\(body)")
            var data: [UInt8] = []
            guard socket.read(onto: &data, until: { String(decoding: $0, as: UTF8.self).contains("messageStart") }) else {
                throw SocketError(description: "the first event did not come while AWS held the second: \(String(decoding: data, as: UTF8.self))")
            }
            let piecesAtFirst = gw.fake.streamedPieces - piecesBefore
            gate.open()
            data += socket.readToEnd()
            let text = String(decoding: data, as: UTF8.self)
            guard let split = text.range(of: "\r\n\r\n") else { throw SocketError(description: "no head") }
            return (String(text[..<split.lowerBound]), piecesAtFirst, Array(text[split.upperBound...].utf8))
        }
    }

    static func event(_ id: Int, _ event: String) -> String {
        #"{"jsonrpc":"2.0","method":"$event","params":{"id":\#(id),"event":\#(event)}}"#
    }

    @Test("HTTP with Accept: application/x-ndjson: each event a line as it arrives (the first while AWS holds the second), equal to the whole answer's; the answer last")
    func ndjsonOverHTTP() async throws {
        let gw = try await TestGateway()
        let whole = try await Self.wholeEvents(gw)
        #expect(whole.count == 5)
        let gate = FakeAWS.Gate()
        gw.fake.setScript(Self.script(gate: gate))
        let (head, piecesAtFirst, body) = try await Self.streamedOverHTTP(gw, accept: "application/x-ndjson", gate: gate)
        #expect(head.hasPrefix("HTTP/1.1 200 OK\r\n"))
        #expect(head.contains("Content-Type: application/x-ndjson") && head.contains("Transfer-Encoding: chunked"))
        #expect(piecesAtFirst == 1)
        let lines = String(decoding: dechunk(body) ?? [], as: UTF8.self).split(separator: "\n").map(String.init)
        #expect(lines == whole.map { Self.event(7, $0) } + [#"{"jsonrpc":"2.0","id":7,"result":{}}"#])
        await gw.stop()
    }

    @Test("HTTP with Accept: text/event-stream: each event a server-sent event's data line as it arrives; the answer last")
    func serverSentEvents() async throws {
        let gw = try await TestGateway()
        let whole = try await Self.wholeEvents(gw)
        let gate = FakeAWS.Gate()
        gw.fake.setScript(Self.script(gate: gate))
        let (head, piecesAtFirst, body) = try await Self.streamedOverHTTP(gw, accept: "text/event-stream;q=0.9, */*;q=0.1", gate: gate)
        #expect(head.contains("Content-Type: text/event-stream") && head.contains("Cache-Control: no-cache"))
        #expect(piecesAtFirst == 1)
        let text = String(decoding: dechunk(body) ?? [], as: UTF8.self)
        #expect(text == (whole.map { Self.event(7, $0) } + [#"{"jsonrpc":"2.0","id":7,"result":{}}"#]).map { "data: \($0)\n\n" }.joined())
        await gw.stop()
    }

    /// Sends `line` on an NDJSON connection and reads lines until `done`.
    static func ndjsonLines(_ socket: RawSocket, until done: @escaping ([String]) -> Bool) -> [String] {
        var data: [UInt8] = []
        let lines = { (data: [UInt8]) in String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: true).map(String.init) }
        _ = socket.read(onto: &data, until: { data in data.last == 0x0A && done(lines(data)) })
        return lines(data)
    }

    @Test("NDJSON: $event lines tagged with the call's id as they arrive, beside another call's answer; then the answer")
    func ndjson() async throws {
        let gw = try await TestGateway()
        let whole = try await Self.wholeEvents(gw)
        let gate = FakeAWS.Gate()
        gw.fake.setScript { request, attempt in
            request.uri.contains("converse") ? Self.script(gate: gate)(request, attempt) : FakeAWS.okAssociate(request, attempt)
        }
        let tcp = gw.address("tcp")
        let lines = try await onThread { () -> [String] in
            let socket = try RawSocket(tcp, timeoutSeconds: 10)
            try socket.write(rpc("s", "bedrock-runtime.ConverseStream", Self.converse) + "\n")
            let first = Self.ndjsonLines(socket) { $0.contains { $0.contains("messageStart") } }
            // Another call on the same connection is answered while the stream is held.
            try socket.write(rpc(2, "networkmanager.AssociateConnectPeer", associateParams) + "\n")
            let more = Self.ndjsonLines(socket) { $0.contains { $0.hasPrefix(#"{"jsonrpc":"2.0","id":2,"#) } }
            gate.open()
            return first + more + Self.ndjsonLines(socket) { $0.contains { $0.hasPrefix(#"{"jsonrpc":"2.0","id":"s","#) } }
        }
        #expect(lines.first == Self.event(0, whole[0]).replacingOccurrences(of: #""id":0"#, with: #""id":"s""#))
        #expect(lines.count == 7)
        #expect(lines[1].contains(#""id":2,"result""#))
        #expect(Array(lines[2...]) == whole.dropFirst().map { Self.event(0, $0).replacingOccurrences(of: #""id":0"#, with: #""id":"s""#) }
                + [#"{"jsonrpc":"2.0","id":"s","result":{}}"#])
        await gw.stop()
    }

    /// One NDJSON ConverseStream call, the gate opened at once: every line that came.
    static func ndjsonCall(_ gw: TestGateway) async throws -> [String] {
        let tcp = gw.address("tcp")
        return try await onThread {
            let socket = try RawSocket(tcp, timeoutSeconds: 10)
            try socket.write(rpc(1, "bedrock-runtime.ConverseStream", Self.converse) + "\n")
            return Self.ndjsonLines(socket) { $0.contains { $0.hasPrefix(#"{"jsonrpc":"2.0","id":1,"#) } }
        }
    }

    @Test("a bad CRC after the first event: that event came, then -32011 'the event stream broke'; an exception event: -32010 of its type; neither is sent again")
    func brokenAndException() async throws {
        let gw = try await TestGateway()
        var corrupted = Self.frames
        corrupted[2][corrupted[2].count - 6] ^= 1
        gw.fake.setScript(Self.script(corrupted, gate: nil))
        let broken = try await Self.ndjsonCall(gw)
        #expect(broken.count == 3)
        #expect(broken.first?.contains("messageStart") == true && broken[1].contains(#""text":"Hel""#))
        let error = try JSON.parse(broken.last ?? "")["error"]
        #expect(error?["code"] == -32011)
        #expect(error?["data"]?["cause"]?.stringValue?.hasPrefix("the event stream broke: event stream message checksum mismatch") == true,
                "\(broken.last ?? "")")
        #expect(gw.fake.requests.count == 1)

        // A corrupted length in a prelude: refused as soon as the prelude is here, not
        // waited on for bytes that never come.
        var longer = Self.frames
        longer[1][2] ^= 1
        gw.fake.setScript(Self.script(longer, gate: nil))
        let prelude = try await Self.ndjsonCall(gw)
        #expect(prelude.count == 2 && prelude.last?.contains("the event stream broke: event stream prelude checksum mismatch") == true,
                "\(prelude)")

        gw.fake.setScript(Self.script([Self.frames[0], EventStreamFrames.exception("throttlingException", json: #"{"message":"slow down"}"#)], gate: nil))
        let refused = try await Self.ndjsonCall(gw)
        #expect(refused.count == 2 && refused[0].contains("messageStart"))
        let thrown = try JSON.parse(refused.last ?? "")["error"]
        #expect(thrown?["code"] == -32010 && thrown?["data"]?["type"] == "throttlingException" && thrown?["data"]?["message"] == "slow down")
        #expect(gw.fake.requests.count == 3)
        await gw.stop()
    }

    @Test("a caller that hangs up ends the request to AWS (the stand-in sees its connection closed mid-stream); the gateway keeps serving")
    func hangUp() async throws {
        for accept in ["ndjson", "application/x-ndjson", "text/event-stream"] {
            let gw = try await TestGateway()
            let gate = FakeAWS.Gate(), never = FakeAWS.Gate()
            // The third event waits for a gate nobody opens: only the hang-up, seen as it
            // happens and not at a next event, can end the request.
            gw.fake.setScript(Self.script(gate: gate, hold: (at: 2, gate: never)))
            let address = accept == "ndjson" ? gw.address("tcp") : gw.address("unix")
            try await onThread {
                let socket = try RawSocket(address, timeoutSeconds: 10)
                let body = rpc(1, "bedrock-runtime.ConverseStream", Self.converse)
                try socket.write(accept == "ndjson" ? body + "\n" : "POST / HTTP/1.1\r\nHost: localhost\r\nAccept: \(accept)\r\n"
                                 + "Content-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)")
                var data: [UInt8] = []
                _ = socket.read(onto: &data, until: { String(decoding: $0, as: UTF8.self).contains("messageStart") })
            }
            // The socket is closed: the next events find nobody.
            gate.open()
            for _ in 0..<500 where gw.fake.streamsCutOff == 0 { try await Task.sleep(nanoseconds: 10_000_000) }
            #expect(gw.fake.streamsCutOff == 1, "\(accept)")
            gw.fake.setScript(FakeAWS.okAssociate)
            let next = try? await httpExchange(gw.address("unix"), body: rpc(2, "networkmanager.AssociateConnectPeer", associateParams))
            #expect(next?.json?["result"] != nil, "\(accept)")
            await gw.stop()
        }
    }

    @Test("$paginate over NDJSON and over HTTP accepting NDJSON: a $page line for each page as it comes, then the merged answer")
    func pages() async throws {
        let gw = try await TestGateway(script: { request, _ in
            let page = request.uri.contains("nextToken=t1") ? (#"[{"CoreNetworkId":"c2"}]"#, "") : (#"[{"CoreNetworkId":"c1"}]"#, #","NextToken":"t1""#)
            return .respond(status: 200, headers: [("Content-Type", "application/json")], body: #"{"CoreNetworks":\#(page.0)\#(page.1)}"#)
        })
        let call = rpc(3, "networkmanager.ListCoreNetworks", ["$paginate": true])
        let expected = [
            #"{"jsonrpc":"2.0","method":"$page","params":{"id":3,"page":{"CoreNetworks":[{"CoreNetworkId":"c1"}],"NextToken":"t1"}}}"#,
            #"{"jsonrpc":"2.0","method":"$page","params":{"id":3,"page":{"CoreNetworks":[{"CoreNetworkId":"c2"}]}}}"#,
            #"{"jsonrpc":"2.0","id":3,"result":{"CoreNetworks":[{"CoreNetworkId":"c1"},{"CoreNetworkId":"c2"}]}}"#,
        ]
        let overNDJSON = try await ndjsonExchange(gw.address("tcp"), lines: [call], expect: 3).map { $0.serializedString() }
        #expect(overNDJSON == expected)
        let overHTTP = try await httpExchange(gw.address("unix"), body: call, headers: [("Accept", "application/x-ndjson")])
        #expect(overHTTP.header("Content-Type") == "application/x-ndjson")
        #expect(String(decoding: dechunk(Array(overHTTP.body.utf8)) ?? [], as: UTF8.self).split(separator: "\n").map(String.init) == expected)
        // Without the header: one answer, the merged result.
        let plain = try await httpExchange(gw.address("unix"), body: call)
        #expect(plain.body == expected[2])
        await gw.stop()
    }

    @Test("a connection's hang-up list: a stream that ended leaves it (a long-lived connection gathers none); the rest run once at close; one added after runs at once")
    func hangUpList() throws {
        let channel = EmbeddedChannel()
        let hangUps = HangUps(channel: channel)
        let fired = NIOLockedValueBox<[String]>([])
        var leaves: [@Sendable () -> Void] = []
        for name in ["a", "b", "c"] { leaves.append(hangUps.add { fired.withLockedValue { $0.append(name) } }) }
        leaves[0]()
        leaves[2]()
        #expect(hangUps.count == 1)
        for _ in 0..<1000 { hangUps.add {}() }
        #expect(hangUps.count == 1)
        _ = try channel.finish()
        #expect(fired.withLockedValue { $0 } == ["b"] && hangUps.count == 0)
        _ = hangUps.add { fired.withLockedValue { $0.append("late") } }
        #expect(fired.withLockedValue { $0 } == ["b", "late"])
    }
}
