import GatewayCore
import RedisClient

/// Token buckets and throttle holds kept in Redis, so that replicas share one rate. A
/// call's hold and every bucket it needs are checked, and its tokens taken, in one round
/// trip by a script run by its SHA-1: refilled by Redis's own clock (replicas' clocks may
/// differ), nothing taken unless every bucket has a token, idle keys expire. A team's keys
/// carry the team as a hash tag, so they share one Redis Cluster slot.
public struct RedisRateLimitStore: SharedRateStore {
    let client: RedisClient
    let prefix: String

    public init(client: RedisClient, prefix: String = "awsgw:") {
        self.client = client
        self.prefix = prefix
    }

    /// KEYS: the hold, then the buckets; ARGV: rate per second and burst for each bucket.
    /// A bucket is one string, "<tokens> <when>", set with its idle expiry in one command.
    /// Returns {1, held} when taken, else {0, seconds until a call could be, held}
    /// (seconds as text: Lua numbers would be cut to integers in the reply).
    static let admitScript = RedisScript("""
        local t = redis.call('TIME')
        local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
        local hold = redis.call('HMGET', KEYS[1], 'u', 'i')
        local holdUntil = tonumber(hold[1])
        local holdInterval = tonumber(hold[2])
        local held = 0
        if holdInterval ~= nil then held = 1 end
        if holdUntil ~= nil and holdUntil > now then return {0, tostring(holdUntil - now), held} end
        local tokens = {}
        local wait = 0
        for i = 2, #KEYS do
          local rate = tonumber(ARGV[2 * i - 3])
          local burst = tonumber(ARGV[2 * i - 2])
          local available = burst
          local state = redis.call('GET', KEYS[i])
          if state then
            local space = string.find(state, ' ', 1, true)
            local stored = tonumber(string.sub(state, 1, space - 1))
            local last = tonumber(string.sub(state, space + 1))
            available = math.min(burst, stored + math.max(0, now - last) * rate)
          end
          tokens[i] = available
          if available < 1 then wait = math.max(wait, (1 - available) / rate) end
        end
        if wait > 0 then return {0, tostring(wait), held} end
        for i = 2, #KEYS do
          local rate = tonumber(ARGV[2 * i - 3])
          local burst = tonumber(ARGV[2 * i - 2])
          redis.call('SET', KEYS[i], tostring(tokens[i] - 1) .. ' ' .. tostring(now), 'PX', math.ceil(burst / rate * 1000) + 1000)
        end
        if holdInterval ~= nil then
          redis.call('HSET', KEYS[1], 'u', tostring(now + holdInterval))
          redis.call('PEXPIRE', KEYS[1], 60000)
        end
        return {1, '0', held}
        """)

    /// KEYS: the hold; ARGV: the shortest and longest hold. Doubles the hold (or starts
    /// it at the shortest) and holds calls back from now.
    static let throttledScript = RedisScript("""
        local t = redis.call('TIME')
        local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
        local interval = tonumber(redis.call('HGET', KEYS[1], 'i')) or 0
        interval = math.min(tonumber(ARGV[2]), math.max(tonumber(ARGV[1]), interval * 2))
        redis.call('HSET', KEYS[1], 'u', tostring(now + interval), 'i', tostring(interval))
        redis.call('PEXPIRE', KEYS[1], 60000)
        return tostring(interval)
        """)

    /// KEYS: the hold; ARGV: the shortest hold. Halves the hold; below the shortest it ends.
    static let succeededScript = RedisScript("""
        local interval = tonumber(redis.call('HGET', KEYS[1], 'i'))
        if interval == nil then return 0 end
        interval = interval / 2
        if interval < tonumber(ARGV[1]) then
          redis.call('DEL', KEYS[1])
          return 0
        end
        redis.call('HSET', KEYS[1], 'i', tostring(interval))
        return 1
        """)

    /// The key of a team's bucket.
    public static func key(prefix: String, team: String, rule: String) -> String {
        prefix + "{" + team + "}:rate:" + rule
    }

    /// The key of a team's hold on an operation (`service:Operation`).
    public static func holdKey(prefix: String, team: String, operation: String) -> String {
        prefix + "{" + team + "}:hold:" + operation
    }

    public func admit(team: String, operation: String, buckets: [(rule: String, rate: Rate)]) async throws(SharedStoreError) -> SharedAdmission {
        var keys = [RESPArgument(Self.holdKey(prefix: prefix, team: team, operation: operation))]
        var arguments: [RESPArgument] = []
        for bucket in buckets {
            keys.append(RESPArgument(Self.key(prefix: prefix, team: team, rule: bucket.rule)))
            arguments.append(RESPArgument(bucket.rate.perSecondText))
            arguments.append(RESPArgument(bucket.rate.burstText))
        }
        let reply = try await client.storeRun(Self.admitScript, keys: keys, arguments: arguments)
        guard case .array(let items?) = reply, items.count == 3, let taken = items[0].int, let held = items[2].int,
              let waitText = items[1].string, let wait = Double(waitText)
        else { throw SharedStoreError("unexpected reply to the rate script") }
        return SharedAdmission(waitSeconds: taken == 1 ? nil : wait, held: held == 1)
    }

    public func throttled(team: String, operation: String, minimum: Double, maximum: Double) async throws(SharedStoreError) {
        _ = try await client.storeRun(Self.throttledScript, keys: [RESPArgument(Self.holdKey(prefix: prefix, team: team, operation: operation))],
                          arguments: [RESPArgument(String(minimum)), RESPArgument(String(maximum))])
    }

    public func succeeded(team: String, operation: String, minimum: Double) async throws(SharedStoreError) {
        _ = try await client.storeRun(Self.succeededScript, keys: [RESPArgument(Self.holdKey(prefix: prefix, team: team, operation: operation))],
                          arguments: [RESPArgument(String(minimum))])
    }
}
