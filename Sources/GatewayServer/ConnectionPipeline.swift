import GatewayCore
import GatewayTransport
import Logging
import NIOCore
import NIOSSL

/// Every client connection's handlers, in order, built in this one place for the
/// listeners and for the embedded connections of tests and the fuzzer alike:
///
///     connection budget → TLS (tls: listeners) → flush before close → idle timeout →
///     framing (HTTP/1.1 or NDJSON, told apart by the first byte) → the JSON-RPC door
package enum ConnectionPipeline {
    package static func install(on pipeline: ChannelPipeline.SynchronousOperations, server: ServerContext, tls: NIOSSLContext?) throws {
        let activity = ConnectionActivity()
        try pipeline.addHandler(ConnectionLimitHandler(server: server, activity: activity))
        if let tls { try pipeline.addHandler(NIOSSLServerHandler(context: tls)) }
        try pipeline.addHandler(FlushBeforeClose())
        try pipeline.addHandler(IdleTimeoutHandler(timeout: .milliseconds(Int64(server.limits.idleTimeoutSeconds * 1000))))
        try pipeline.addHandler(FramingDetector(server: server, activity: activity))
    }
}

extension ServerContext {
    /// A context of a tcp: listener outside any server (tests, the fuzzer): its own
    /// connection budget, `localhost` and 127.0.0.1 accepted as Host, no loop tuning.
    package static func standalone(gateway: Gateway, limits: GatewayLimits, listener: String) -> ServerContext {
        let tracker = ConnectionTracker(limit: limits.maxConnections, perPeerLimit: limits.maxConnectionsPerPeer) { _ in }
        return ServerContext(gateway: gateway, limits: limits, connections: tracker, logger: Logger(label: "awsgw-embedded"),
                             listener: listener, kind: .tcp, allowedHosts: ["localhost", "127.0.0.1"])
    }
}
