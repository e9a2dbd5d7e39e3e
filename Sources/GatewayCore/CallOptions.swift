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

    static let known = "$region, $cache, $timeoutMs, $token, $presign"

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
            case "$token":
                if case .string(let s) = member.value { options.token = s } else { problem(member.key, "expected string") }
            default:
                problem(member.key, "unknown gateway option (known: \(known))")
            }
        }
        if !problems.isEmpty { throw .invalidParams(problems) }
        return (options, operationParams)
    }
}
