import AWSClient
import AWSJSON
import AWSModels
import AWSProtocols
import Foundation

/// What the gateway decided about a call, as its audit record says.
public enum AuditDecision: String, Sendable {
    case allowed, denied, invalid, overloaded
    case rateLimited = "rate-limited"

    /// The decision a finished call's outcome shows.
    init(code: Int?, allowed: Bool) {
        switch code {
        case RPCError.policyDenied?: self = .denied
        case RPCError.rateLimited?: self = .rateLimited
        case RPCError.overloaded?: self = .overloaded
        case let c? where c <= -32600 && c >= -32700: self = .invalid
        default: self = allowed ? .allowed : .invalid
        }
    }
}

/// What the cache did for a call.
public enum CacheOutcome: String, Sendable {
    case hit, miss, bypass, refresh
    /// Not cacheable (or no cache configured).
    case none
}

/// One audit record: who, what, what was decided, what AWS said. Never a secret: no
/// credentials, signatures or tokens; params only as configured, sensitive values masked.
public struct AuditRecord: Sendable {
    public var started: Date
    public var listener: String
    public var identity: String
    public var team: String?
    public var method: String
    public var decision: AuditDecision
    public var cache: CacheOutcome
    /// With `shared:`: `shared`, `memory-fallback` or `unavailable`.
    public var limiter: RateLimiter.Limiter?
    public var code: Int?
    public var awsType: String?
    public var awsRequestId: String?
    public var attempts: Int
    public var latencySeconds: Double
    public var bytesIn: Int
    public var bytesOut: Int
    /// The call's params as they came (with `$` options); nil for an invalid request.
    public var params: JSONObject?
    /// The operation's input shape, to mask what the model marks sensitive.
    public var inputShape: Shape?
    public var notification: Bool

    /// The JSON line, with params as the log's settings say.
    public func json(params mode: AuditLogSettings.ParamsMode) -> JSON {
        let seconds = started.timeIntervalSince1970
        let whole = seconds.rounded(.down)
        let time = Timestamp(seconds: Int64(whole), microseconds: Int((seconds - whole) * 1000) * 1000)
        var record = JSONObject()
        record.append("time", .string(time.iso8601Result))
        record.append("listener", .string(listener))
        record.append("identity", .string(identity))
        if let team { record.append("team", .string(team)) }
        record.append("method", .string(method))
        record.append("decision", .string(decision.rawValue))
        record.append("cache", .string(cache.rawValue))
        if let limiter { record.append("limiter", .string(limiter.rawValue)) }
        if let code { record.append("code", .int(Int64(code))) }
        if let awsType { record.append("awsType", .string(awsType)) }
        if let awsRequestId { record.append("awsRequestId", .string(awsRequestId)) }
        record.append("attempts", .int(Int64(attempts)))
        record.append("latencyMs", .double((latencySeconds * 1_000_000).rounded() / 1000))
        record.append("bytesIn", .int(Int64(bytesIn)))
        record.append("bytesOut", .int(Int64(bytesOut)))
        if let params {
            // A bearer token given in params is a secret, whatever the mode.
            let kept = params.members.filter { $0.key != "$token" }
            switch mode {
            case .none: break
            case .keys: record.append("params", .array(kept.map { .string($0.key) }))
            case .full:
                var full = JSON.object(JSONObject(kept))
                if let inputShape { full = SensitiveRedaction.redact(full, shape: inputShape) }
                record.append("params", full)
            }
        }
        if notification { record.append("notification", true) }
        return .object(record)
    }
}
