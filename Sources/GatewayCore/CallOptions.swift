import AWSClient
import AWSJSON
import AWSProtocols

/// What a call asks of the cache (`$cache`).
public enum CacheMode: String, Sendable {
    /// Answer from the cache when it holds the call; store a fresh answer.
    case use
    /// Neither read nor write the cache.
    case bypass
    /// Call AWS, and store the fresh answer.
    case refresh
}

/// The gateway's own options, given in params as `$` keys and never sent to AWS.
public struct CallOptions: Sendable {
    public var region: String?
    public var cache = CacheMode.use
    public var timeoutMs: Int?
    public var token: String?
    /// Answer a presigned URL valid this many seconds instead of calling.
    public var presign: Int?
    /// Follow the operation's paginator and answer the merged result (`$paginate`).
    public var paginate: Pagination.Limits?
    /// Poll with the service's waiter until it succeeds, fails or runs out (`$wait`).
    public var wait: WaitRequest?

    static let known = "$region, $cache, $timeoutMs, $token, $presign, $paginate, $wait"

    /// Whether a call asks to wait (`$wait` given).
    static func asksToWait(_ params: JSONObject) -> Bool {
        params.members.contains { $0.key.utf8.first == UInt8(ascii: "$") && $0.key == "$wait" }
    }

    /// Whether a call asks to be paged (`$paginate` given, and not `false`).
    static func asksForPages(_ params: JSONObject) -> Bool {
        // Most calls give no `$` option: one byte looked at per member.
        for member in params.members where member.key.utf8.first == UInt8(ascii: "$") && member.key == "$paginate" {
            return member.value != .bool(false)
        }
        return false
    }

    /// Splits a call's params once: the options, and the operation's own params.
    /// Wrong options are -32602 naming each one.
    public static func split(_ params: JSONObject) throws(ClientError) -> (CallOptions, JSONObject) {
        // Most calls give no `$` option: their params are the operation's as they are.
        guard params.members.contains(where: { $0.key.utf8.first == UInt8(ascii: "$") }) else { return (CallOptions(), params) }
        var options = CallOptions()
        var operationParams = JSONObject()
        var problems: [ValidationProblem] = []
        var seen: Set<String> = []
        func problem(_ key: String, _ text: String) { problems.append(ValidationProblem(path: "$." + key, problem: text)) }
        for member in params {
            guard member.key.hasPrefix("$") else {
                operationParams.members.append(member)
                continue
            }
            guard seen.insert(member.key).inserted else {
                problem(member.key, "given more than once")
                continue
            }
            switch member.key {
            case "$region":
                if case .string(let s) = member.value { options.region = s } else { problem(member.key, "expected string") }
            case "$cache":
                if case .string(let s) = member.value, let mode = CacheMode(rawValue: s) { options.cache = mode } else {
                    problem(member.key, "expected \"use\", \"bypass\" or \"refresh\"")
                }
            case "$timeoutMs":
                if case .int(let i) = member.value, i > 0 { options.timeoutMs = Int(i) } else { problem(member.key, "expected a positive integer") }
            case "$presign":
                if case .int(let i) = member.value, i >= 1, i <= Int64(AWSEngine.maxPresignSeconds) { options.presign = Int(i) } else {
                    problem(member.key, "expected the seconds the URL stays valid, 1 to \(AWSEngine.maxPresignSeconds)")
                }
            case "$paginate":
                do { options.paginate = try paginateLimits(member.value) } catch { problem(member.key, error.text) }
            case "$wait":
                do { options.wait = try waitRequest(member.value) } catch { problem(member.key, error.text) }
            case "$token":
                if case .string(let s) = member.value { options.token = s } else { problem(member.key, "expected string") }
            default:
                problem(member.key, "unknown gateway option (known: \(known))")
            }
        }
        if !problems.isEmpty { throw .invalidParams(problems) }
        return (options, operationParams)
    }

    private struct OptionProblem: Error {
        let text: String
    }

    /// `$wait`: a waiter's name, or `{"name": ..., "delay": S, "maxAttempts": N}`.
    private static func waitRequest(_ value: JSON) throws(OptionProblem) -> WaitRequest {
        let expected = "expected a waiter's name or {\"name\": ..., \"delay\": S, \"maxAttempts\": N}"
        switch value {
        case .string(let name) where !name.isEmpty: return WaitRequest(name: name)
        case .object(let object):
            var request = WaitRequest(name: "")
            for member in object {
                switch (member.key, member.value) {
                case ("name", .string(let name)): request.name = name
                case ("delay", .int(let n)) where n >= 0 && n <= 3600: request.delaySeconds = Int(n)
                case ("maxAttempts", .int(let n)) where n > 0 && n <= 10_000: request.maxAttempts = Int(n)
                case ("delay", _): throw OptionProblem(text: "delay: expected seconds, 0 to 3600")
                case ("maxAttempts", _): throw OptionProblem(text: "maxAttempts: expected an integer, 1 to 10000")
                default: throw OptionProblem(text: "unknown member \(member.key); " + expected)
                }
            }
            guard !request.name.isEmpty else { throw OptionProblem(text: "name: the waiter's name is missing") }
            return request
        default: throw OptionProblem(text: expected)
        }
    }

    /// `$paginate`: `true`, `false` (none), or `{"maxItems": N, "maxPages": N, "startingToken": "..."}`.
    private static func paginateLimits(_ value: JSON) throws(OptionProblem) -> Pagination.Limits? {
        let expected = "expected true or {\"maxItems\": N, \"maxPages\": N, \"startingToken\": \"...\"}"
        switch value {
        case .bool(let on): return on ? Pagination.Limits() : nil
        case .object(let object):
            var limits = Pagination.Limits()
            for member in object {
                switch (member.key, member.value) {
                case ("maxItems", .int(let n)) where n > 0: limits.maxItems = Int(n)
                case ("maxPages", .int(let n)) where n > 0: limits.maxPages = Int(n)
                case ("startingToken", .string(let token)): limits.startingToken = token
                case ("maxItems", _), ("maxPages", _): throw OptionProblem(text: "\(member.key): expected a positive integer")
                case ("startingToken", _): throw OptionProblem(text: "startingToken: expected the NextToken of an earlier result")
                default: throw OptionProblem(text: "unknown member \(member.key); " + expected)
                }
            }
            return limits
        default: throw OptionProblem(text: expected)
        }
    }
}

/// What `$wait` asks: the service's waiter `name`, with its delay and attempts unless given.
public struct WaitRequest: Sendable, Equatable {
    public var name: String
    public var delaySeconds: Int?
    public var maxAttempts: Int?
}
