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
    /// The way the call came in.
    public var door: Door
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

    /// The JSON line (compact, no newline), with params as the log's settings say;
    /// written straight to bytes, as `JSON.write` writes the same record.
    public func line(params mode: AuditLogSettings.ParamsMode) -> [UInt8] {
        var writer = RecordWriter()
        let seconds = started.timeIntervalSince1970
        let whole = seconds.rounded(.down)
        let time = Timestamp(seconds: Int64(whole), microseconds: Int((seconds - whole) * 1000) * 1000)
        writer.out.append(contentsOf: Self.timeKey)
        writer.out.append(UInt8(ascii: "\""))
        time.appendISO8601Result(to: &writer.out)
        writer.out.append(UInt8(ascii: "\""))
        writer.member("listener", listener)
        writer.member("door", door.rawValue)
        writer.member("identity", identity)
        if let team { writer.member("team", team) }
        writer.member("method", method)
        writer.member("decision", decision.rawValue)
        writer.member("cache", cache.rawValue)
        if let limiter { writer.member("limiter", limiter.rawValue) }
        if let code { writer.member("code", code) }
        if let awsType { writer.member("awsType", awsType) }
        if let awsRequestId { writer.member("awsRequestId", awsRequestId) }
        writer.member("attempts", attempts)
        writer.latency(milliseconds: latencySeconds)
        writer.member("bytesIn", bytesIn)
        writer.member("bytesOut", bytesOut)
        if let params { writer.params(params, mode: mode, inputShape: inputShape) }
        if notification { writer.member("notification", true) }
        writer.out.append(UInt8(ascii: "}"))
        return writer.out
    }

    /// Writes a record's members straight from their values (no JSON value made for each).
    struct RecordWriter {
        var out: [UInt8] = []

        init() { out.reserveCapacity(512) }  // a record is 300-400 bytes; the log adds its newline in place

        mutating func key(_ key: StaticString) {
            out.append(UInt8(ascii: ","))
            out.append(UInt8(ascii: "\""))
            out.append(contentsOf: UnsafeBufferPointer(start: key.utf8Start, count: key.utf8CodeUnitCount))
            out.append(UInt8(ascii: "\""))
            out.append(UInt8(ascii: ":"))
        }

        mutating func member(_ name: StaticString, _ value: JSON) {
            key(name)
            value.write(to: &out, style: .compact)
        }

        mutating func member(_ name: StaticString, _ value: String) {
            key(name)
            JSON.writeString(value, to: &out, asciiOnly: false)
        }

        mutating func member(_ name: StaticString, _ value: Int) {
            key(name)
            JSON.writeInt(Int64(value), to: &out)
        }

        /// `latencyMs`: milliseconds to the microsecond, as Python's repr of that float writes it.
        mutating func latency(milliseconds seconds: Double) {
            let micros = (seconds * 1_000_000).rounded()
            guard micros >= 0, micros < 1e12 else { return member("latencyMs", .double(micros / 1000)) }
            out.append(contentsOf: AuditRecord.latencyKey)
            let whole = Int(micros)
            JSON.writeInt(Int64(whole / 1000), to: &out)
            out.append(UInt8(ascii: "."))
            var fraction = whole % 1000, digits = 3
            while digits > 1, fraction % 10 == 0 { fraction /= 10; digits -= 1 }
            // Leading zeros of the fraction: 0.05 ms is "0.05", not "0.5".
            var scale = 1
            for _ in 1..<digits { scale *= 10 }
            while scale > 1, fraction < scale { out.append(UInt8(ascii: "0")); scale /= 10 }
            JSON.writeInt(Int64(fraction), to: &out)
        }

        /// `params` as the mode says; a bearer token given in params is a secret, whatever the mode.
        mutating func params(_ params: JSONObject, mode: AuditLogSettings.ParamsMode, inputShape: Shape?) {
            switch mode {
            case .none: break
            case .keys:
                key("params")
                out.append(UInt8(ascii: "["))
                var first = true
                for entry in params.members where entry.key != "$token" {
                    if !first { out.append(UInt8(ascii: ",")) }
                    first = false
                    JSON.writeString(entry.key, to: &out, asciiOnly: false)
                }
                out.append(UInt8(ascii: "]"))
            case .full:
                let kept = params.members.filter { $0.key != "$token" }
                // Without the operation's shape (an unknown method, a caller refused before
                // it was resolved) nothing says which values are secret: none is written.
                let full = inputShape.map { SensitiveRedaction.redact(.object(JSONObject(kept)), shape: $0) }
                    ?? .object(JSONObject(kept.map { ($0.key, JSON.string("***")) }))
                member("params", full)
            }
        }
    }

    static let timeKey = Array(#"{"time":"#.utf8), latencyKey = Array(#","latencyMs":"#.utf8)
}
