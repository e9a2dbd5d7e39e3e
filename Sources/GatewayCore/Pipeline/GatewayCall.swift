import AWSClient
import AWSJSON

/// The ways into the gateway. Each turns its bytes into calls and writes each call's
/// outcome in its own form; policy, limits, cache and audit are the pipeline's alone.
public enum Door: String, Sendable {
    /// JSON-RPC 2.0 over HTTP/1.1 or newline-delimited JSON.
    case jsonrpc
    /// AWS's own HTTP APIs.
    case aws
    /// The Model Context Protocol, for agents.
    case mcp
}

/// Who is calling: through which listener and door, with what proof of identity.
public struct CallContext: Sendable {
    public var listener: String
    public var door: Door
    /// Unix peer credentials or the client certificate's CN, when the listener has them.
    public var peer: PeerIdentity
    /// A bearer token from the HTTP `Authorization` header (NDJSON callers use `$token`).
    public var bearerToken: String?
    /// Where a framing that can send messages before a call's answer (NDJSON, an HTTP
    /// caller that accepts NDJSON or server-sent events) takes them.
    public var notifications: (any CallerMessages)?

    public init(listener: String, door: Door = .jsonrpc, peer: PeerIdentity = PeerIdentity(), bearerToken: String? = nil) {
        self.listener = listener
        self.door = door
        self.peer = peer
        self.bearerToken = bearerToken
    }
}

/// One call, as the pipeline takes it from any door.
public struct GatewayCall: Sendable {
    /// `<service>.<Operation>`, in any spelling the gateway resolves.
    public var method: String
    /// The operation's input members, with the gateway's `$` options among them.
    public var params: JSONObject
    /// Carried out, but nobody waits for its answer (a JSON-RPC notification).
    public var isNotification: Bool
    /// A caller whose framing takes messages before the answer: an event-stream answer's
    /// events and a `$paginate` call's pages go to it as they arrive (without it, the
    /// events come in the result).
    public var caller: CallerLink?

    public init(method: String, params: JSONObject, isNotification: Bool = false) {
        self.method = method
        self.params = params
        self.isNotification = isNotification
    }
}

/// A caller's connection that takes messages before the call's answer (`$event`, `$page`).
public protocol CallerMessages: AnyObject, Sendable {
    /// Sends one serialized JSON-RPC notification, from any thread; false once the caller
    /// is gone.
    func send(_ message: [UInt8]) -> Bool
    /// Runs `hangUp` once the caller's connection is gone (at once if it is); gives back
    /// how to take it back when the call no longer cares.
    func whenGone(_ hangUp: @escaping @Sendable () -> Void) -> @Sendable () -> Void
}

/// A caller that takes messages before its call's answer, and the call's id they carry.
public struct CallerLink: Sendable {
    public let messages: any CallerMessages
    public let id: RPCID

    public init(messages: any CallerMessages, id: RPCID) {
        self.messages = messages
        self.id = id
    }

    /// `{"jsonrpc":"2.0","method":"$page","params":{"id":…,"page":…}}`.
    func send(page: JSONObject) {
        _ = messages.send(RPCEnvelope.notification("$page", id: id, member: "page", value: page))
    }

    /// Where an event-stream answer's events go: a `$event` each.
    var events: EventSink {
        let (messages, id) = (self.messages, self.id)
        return EventSink(deliver: { messages.send(RPCEnvelope.notification("$event", id: id, member: "event", value: $0)) },
                         whenGone: { messages.whenGone($0) })
    }
}
