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

    public init(method: String, params: JSONObject, isNotification: Bool = false) {
        self.method = method
        self.params = params
        self.isNotification = isNotification
    }
}
