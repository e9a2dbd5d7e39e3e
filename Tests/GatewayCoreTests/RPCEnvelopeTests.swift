import AWSJSON
import GatewayCore
import Foundation
import Testing

@Suite("JSON-RPC envelope")
struct RPCEnvelopeTests {
    let limits = GatewayLimits()

    func single(_ text: String) -> RPCEntry? {
        if case .single(let entry) = RPCEnvelope.parse(Array(text.utf8), limits: limits) { return entry }
        return nil
    }

    @Test("a call, a notification, an id of each allowed type")
    func calls() {
        guard case .call(let call)? = single(#"{"jsonrpc":"2.0","id":"a","method":"s.Op","params":{"X":1}}"#) else { Issue.record("no call"); return }
        #expect(call.id == "a" && call.method == "s.Op" && call.params["X"] == 1)
        guard case .call(let notification)? = single(#"{"jsonrpc":"2.0","method":"s.Op"}"#) else { Issue.record("no call"); return }
        #expect(notification.isNotification && notification.params.isEmpty)
        guard case .call(let nullID)? = single(#"{"jsonrpc":"2.0","id":null,"method":"s.Op","params":null}"#) else { Issue.record("no call"); return }
        #expect(nullID.id == .null && !nullID.isNotification)
        guard case .call(let numberID)? = single(#"{"jsonrpc":"2.0","id":7.5,"method":"s.Op"}"#) else { Issue.record("no call"); return }
        #expect(numberID.id == 7.5)
    }

    @Test("invalid requests answer -32600 with the id when it can be read",
          arguments: [
            (#"{"id":1,"method":"s.Op"}"#, RPCID.number("1")), (#"{"jsonrpc":"2.0","id":2}"#, RPCID.number("2")),
            (#"{"jsonrpc":"2.0","id":[1],"method":"s.Op"}"#, RPCID.null), (#"{"jsonrpc":"2.0","id":3,"method":5}"#, RPCID.number("3")),
            (#"{"jsonrpc":"2.0","id":4,"method":"s.Op","extra":1}"#, RPCID.number("4")), ("5", RPCID.null),
            (#"{"jsonrpc":"2.0","id":5,"method":"s.Op","method":"t.Op"}"#, RPCID.number("5")),
            (#"{"jsonrpc":"2.0","id":1e999999,"method":"s.Op"}"#, RPCID.null),
            (#"{"jsonrpc":"2.0","id":-1e400,"method":"s.Op"}"#, RPCID.null),
          ])
    func invalid(_ pair: (String, RPCID)) {
        guard case .invalid(let id, let error)? = single(pair.0) else { Issue.record("not invalid: \(pair.0)"); return }
        #expect(id == pair.1)
        #expect(error.code == -32600)
    }

    @Test("positional params are -32602; a notification with them gets no answer")
    func positionalParams() {
        guard case .invalid(let id, let error)? = single(#"{"jsonrpc":"2.0","id":1,"method":"s.Op","params":[1]}"#) else { Issue.record("not invalid"); return }
        #expect(id == 1 && error.code == -32602)
        guard case .invalid(let none, _)? = single(#"{"jsonrpc":"2.0","method":"s.Op","params":[1]}"#) else { Issue.record("not invalid"); return }
        #expect(none == nil)
    }

    @Test("whole-body errors: parse error, empty batch, limits")
    func rejected() {
        var small = GatewayLimits()
        small.maxBodyBytes = 50
        small.maxBatchSize = 2
        small.maxJSONDepth = 3
        func code(_ text: String) -> (Int, JSON?)? {
            if case .rejected(let error) = RPCEnvelope.parse(Array(text.utf8), limits: small) { return (error.code, error.data?["limit"]) }
            return nil
        }
        #expect(code("{") ?? (0, nil) == (-32700, nil))
        #expect(code("[]")?.0 == -32600)
        #expect(code(String(repeating: " ", count: 51))! == (-32600, 50))
        #expect(code("[1,2,3]")! == (-32600, 2))
        #expect(code("[[[[1]]]]")! == (-32600, 3))
    }

    @Test("answers carry jsonrpc, id and result or error")
    func answers() {
        #expect(String(decoding: RPCEnvelope.response(id: 1, result: ["a": 1]), as: UTF8.self) == #"{"jsonrpc":"2.0","id":1,"result":{"a":1}}"#)
        #expect(String(decoding: RPCEnvelope.response(id: .null, error: RPCError(code: -32700, message: "m")), as: UTF8.self)
                == #"{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"m"}}"#)
        #expect(String(decoding: RPCEnvelope.response(id: "a\"b", result: .null), as: UTF8.self) == #"{"jsonrpc":"2.0","id":"a\"b","result":null}"#)
    }

    @Test("numeric ids are echoed exactly as written",
          arguments: ["1", "-0", "1e2", "1.50", "123456789012345678901234567890", "9223372036854775808", "-9223372036854775809",
                      "1E+2", "0.1e-5", "7.0"])
    func numericIDs(_ text: String) {
        let body = #"{"jsonrpc":"2.0","id":"# + text + #","method":"s.Op"}"#
        guard case .call(let call)? = single(body) else { Issue.record("no call for \(text)"); return }
        #expect(call.id == .number(text))
        let answer = String(decoding: RPCEnvelope.response(id: call.id!, result: .null), as: UTF8.self)
        #expect(answer == #"{"jsonrpc":"2.0","id":"# + text + #","result":null}"#)
        // In a batch, each member keeps its own.
        guard case .batch(let entries) = RPCEnvelope.parse(Array(("[" + body + #",{"jsonrpc":"2.0","id":2,"method":"s.Op","params":{"id":3.0}}]"#).utf8),
                                                           limits: limits) else { Issue.record("no batch"); return }
        guard case .call(let first) = entries[0], case .call(let second) = entries[1] else { Issue.record("not calls"); return }
        #expect(first.id == .number(text) && second.id == .number("2"))
    }
}
