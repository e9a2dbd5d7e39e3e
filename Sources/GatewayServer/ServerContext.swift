import AWSJSON
import AWSPrimitives
import Foundation
import GatewayCore
import GatewayTransport
import Logging
import NIOCore
import NIOHTTP1

/// What every connection handler of one listener needs: the gateway, its limits, the
/// listener's connection budget and the `Host` names it answers to.
package final class ServerContext: @unchecked Sendable {
    let gateway: Gateway
    /// Where request bodies go: the JSON-RPC door in front of the gateway.
    let door: JSONRPCDoor
    let limits: GatewayLimits
    let connections: ConnectionTracker
    /// The polling and flushing of the gateway's loops: a connection takes its loop's.
    let tunings: LoopTunings
    let logger: Logger
    let listener: String
    let kind: ListenerKind
    /// Lower-case `Host` values accepted on tcp:/tls: (empty on unix:, where any is).
    /// Set while the listener is being bound, read-only afterwards.
    var allowedHosts: Set<String>

    init(gateway: Gateway, limits: GatewayLimits, connections: ConnectionTracker, tunings: LoopTunings = .none, logger: Logger,
         listener: String, kind: ListenerKind, allowedHosts: Set<String>) {
        self.gateway = gateway
        door = JSONRPCDoor(gateway: gateway)
        self.limits = limits
        self.connections = connections
        self.tunings = tunings
        self.logger = logger
        self.listener = listener
        self.kind = kind
        self.allowedHosts = allowedHosts
    }

    /// Whether a request's `Host` names this listener. Browsers always send one, so a
    /// page on another name (DNS rebinding) is refused; a request without one is not a
    /// browser's.
    func acceptsHost(_ value: String?) -> Bool {
        guard kind != .unix, let value else { return true }
        var host = Substring(value.lowercased())
        if host.hasPrefix("[") {
            if let close = host.firstIndex(of: "]") { host = host[...close] }
        } else if let colon = host.lastIndex(of: ":") {
            host = host[..<colon]
        }
        return allowedHosts.contains(String(host))
    }
}
