import GatewayCore
import RedisClient

/// Token buckets kept in Redis, so that replicas share one rate (issue 13's store; the
/// limiter does not use it yet). All the buckets a call needs are checked and taken in
/// one round trip by a script run by its SHA-1: refilled by Redis's own clock (replicas'
/// clocks may differ), nothing taken unless every bucket has a token, idle buckets expire.
public struct RedisRateLimitStore: Sendable {
    let client: RedisClient

    public init(client: RedisClient) { self.client = client }

    /// KEYS: the buckets; ARGV: rate per second and burst for each. Returns {1} when taken,
    /// else {0, seconds until every bucket has a token} (as text: Lua numbers would be
    /// cut to integers in the reply).
    static let script = RedisScript("""
        local t = redis.call('TIME')
        local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
        local tokens = {}
        local wait = 0
        for i = 1, #KEYS do
          local rate = tonumber(ARGV[2 * i - 1])
          local burst = tonumber(ARGV[2 * i])
          local state = redis.call('HMGET', KEYS[i], 't', 'l')
          local available = tonumber(state[1])
          local last = tonumber(state[2])
          if available == nil or last == nil then
            available = burst
            last = now
          end
          available = math.min(burst, available + math.max(0, now - last) * rate)
          tokens[i] = available
          if available < 1 then wait = math.max(wait, (1 - available) / rate) end
        end
        if wait > 0 then return {0, tostring(wait)} end
        for i = 1, #KEYS do
          local rate = tonumber(ARGV[2 * i - 1])
          local burst = tonumber(ARGV[2 * i])
          redis.call('HSET', KEYS[i], 't', tostring(tokens[i] - 1), 'l', tostring(now))
          redis.call('PEXPIRE', KEYS[i], math.ceil(burst / rate * 1000) + 1000)
        end
        return {1}
        """)

    /// The key of a team's bucket: the team in a hash tag, so one team's buckets share a
    /// Redis Cluster slot (the script touches several at once).
    public static func key(prefix: String, team: String, rule: String) -> String {
        prefix + "{" + team + "}:rate:" + rule
    }

    /// Takes a token from every bucket, or none: nil when taken, else the seconds to wait.
    public func take(_ buckets: [(key: String, rate: Rate)]) async throws(RedisError) -> Double? {
        guard !buckets.isEmpty else { return nil }
        var arguments: [RESPArgument] = []
        for bucket in buckets {
            arguments.append(RESPArgument(String(bucket.rate.perSecond)))
            arguments.append(RESPArgument(String(bucket.rate.burst)))
        }
        let reply = try await client.run(Self.script, keys: buckets.map { RESPArgument($0.key) }, arguments: arguments)
        guard case .array(let items?) = reply, let taken = items.first?.int else { throw .protocolError("unexpected reply to the rate script") }
        if taken == 1 { return nil }
        guard items.count == 2, let text = items[1].string, let wait = Double(text) else { throw .protocolError("unexpected wait in the rate script's reply") }
        return wait
    }
}
