/// Every limit of the gateway, named, with the defaults INTERFACE.md and the issues set.
public struct GatewayLimits: Sendable {
    /// Largest request body (HTTP) or line (NDJSON) accepted.
    public var maxBodyBytes = 1 << 20
    /// Most calls in one batch.
    public var maxBatchSize = 100
    /// Deepest JSON nesting accepted in a request.
    public var maxJSONDepth = 64
    /// The most `max_json_depth` may be set to.
    public static let maxJSONDepthCeiling = 512
    /// How long a client may take to send a complete request head.
    public var headerTimeoutSeconds = 10.0
    /// How long an idle keep-alive connection is kept open.
    public var idleTimeoutSeconds = 60.0
    /// Most connections open at once on each listener (each has its own budget, so a
    /// flood on TCP cannot lock the local operator out of the Unix socket).
    public var maxConnections = 1024
    /// Most connections open at once from one peer address on a tcp:/tls: listener.
    public var maxConnectionsPerPeer = 256
    /// Most calls being carried out at once; more are answered with an error at once.
    public var maxInFlightCalls = 4096
    /// Largest response body accepted from AWS.
    public var maxUpstreamResponseBytes = 32 << 20
    /// Largest blob, decoded, in params or a result (an S3 object's body, for one); a
    /// blob in params can also be no larger than the body limit allows.
    public var maxBlobBytes = 16 << 20
    /// Most pages one `$paginate` call fetches; it then stops as with `maxPages`.
    public var maxPages = 1000
    /// How long a graceful shutdown waits for calls in flight.
    public var shutdownGraceSeconds = 10.0

    public init() {}
}

