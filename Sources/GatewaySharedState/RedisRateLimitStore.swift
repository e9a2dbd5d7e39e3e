import GatewayCore
import NIOConcurrencyHelpers
import RedisClient

/// Token buckets and throttle holds kept in Redis, so that replicas share one rate. A
/// call's hold and every bucket it needs are checked, and its tokens taken, in one round
/// trip by a script run by its SHA-1: refilled by Redis's own clock (replicas' clocks may
/// differ), nothing taken unless every bucket has a token, idle keys expire. A team's keys
/// carry the team as a hash tag, so they share one Redis Cluster slot. A team's calls
/// that arrive together (in one turn of the event loops) share one script run.
public struct RedisRateLimitStore: SharedRateStore {
    let client: RedisClient
    let prefix: String
    private let batches = AdmitBatches()

    public init(client: RedisClient, prefix: String = "awsgw:") {
        self.client = client
        self.prefix = prefix
    }

    /// Admits one call or several of one team at once, each decided in turn as if alone
    /// (a call sees what the calls before it took): refused while its operation's throttle
    /// hold lasts; else one token taken from every one of its buckets, or from none when
    /// one is empty. KEYS: for each call its hold, then its buckets; ARGV: the number of
    /// calls, then for each call its number of buckets and each bucket's rate per second and
    /// burst. A bucket is one string, "<tokens> <when>", set with its idle expiry in one
    /// command; each key is read once and written once at the end. Returns three values per
    /// call, one call after another: {1, '0', held} when taken, else {0, seconds until a
    /// call could be, held} (seconds as text: Lua numbers would be cut to integers in the
    /// reply).
    static let admitScript = RedisScript("""
        local t = redis.call('TIME')
        local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
        local holds, buckets, replies = {}, {}, {}
        local k, a = 1, 2
        for c = 1, tonumber(ARGV[1]) do
          local n = tonumber(ARGV[a])
          a = a + 1
          local hold = holds[KEYS[k]]
          if hold == nil then
            local h = redis.call('HMGET', KEYS[k], 'u', 'i')
            hold = {u = tonumber(h[1]), i = tonumber(h[2]), set = false}
            holds[KEYS[k]] = hold
          end
          k = k + 1
          local held = 0
          if hold.i ~= nil then held = 1 end
          local wait = 0
          local mine = {}
          if hold.u ~= nil and hold.u > now then
            wait = hold.u - now
          else
            for j = 1, n do
              local key = KEYS[k + j - 1]
              local rate = tonumber(ARGV[a + 2 * j - 2])
              local b = buckets[key]
              if b == nil then
                local burst = tonumber(ARGV[a + 2 * j - 1])
                local available = burst
                local state = redis.call('GET', key)
                if state then
                  local space = string.find(state, ' ', 1, true)
                  local stored = tonumber(string.sub(state, 1, space - 1))
                  local last = tonumber(string.sub(state, space + 1))
                  available = math.min(burst, stored + math.max(0, now - last) * rate)
                end
                b = {tokens = available, rate = rate, burst = burst, set = false}
                buckets[key] = b
              end
              mine[j] = b
              if b.tokens < 1 then wait = math.max(wait, (1 - b.tokens) / b.rate) end
            end
          end
          k = k + n
          a = a + 2 * n
          if wait > 0 then
            replies[#replies + 1] = 0
            replies[#replies + 1] = tostring(wait)
          else
            for j = 1, #mine do
              mine[j].tokens = mine[j].tokens - 1
              mine[j].set = true
            end
            if hold.i ~= nil then
              hold.u = now + hold.i
              hold.set = true
            end
            replies[#replies + 1] = 1
            replies[#replies + 1] = '0'
          end
          replies[#replies + 1] = held
        end
        for key, b in pairs(buckets) do
          if b.set then redis.call('SET', key, tostring(b.tokens) .. ' ' .. tostring(now), 'PX', math.ceil(b.burst / b.rate * 1000) + 1000) end
        end
        for key, h in pairs(holds) do
          if h.set then
            redis.call('HSET', key, 'u', tostring(h.u))
            redis.call('PEXPIRE', key, 60000)
          end
        end
        return replies
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
        let call = AdmitBatches.Call(keys: keys, arguments: arguments)
        while true {
            if batches.lead(team: team) {
                // Let the calls already waiting to run get to this point and join.
                await Task.yield()
                let followers = batches.close(team: team)
                return try await run(call, followers)
            }
            let result = await withCheckedContinuation { (waiting: CheckedContinuation<AdmitBatches.Outcome, Never>) in
                if !batches.follow(team: team, call, waiting) { waiting.resume(returning: .again) }
            }
            switch result {
            case .decided(let admission): return try admission.get()
            case .again: continue
            }
        }
    }

    /// Runs the leader's call and its followers' in one script, answers the followers and
    /// returns the leader's own admission.
    private func run(_ leader: AdmitBatches.Call, _ followers: [AdmitBatches.Follower]) async throws(SharedStoreError) -> SharedAdmission {
        var keys: [RESPArgument] = []
        var arguments = [RESPArgument(followers.count + 1)]
        for call in [leader] + followers.map(\.call) {
            keys += call.keys
            arguments.append(RESPArgument(call.arguments.count / 2))
            arguments += call.arguments
        }
        let reply: RESPValue
        do {
            reply = try await client.storeRun(Self.admitScript, keys: keys, arguments: arguments)
        } catch {
            for follower in followers { follower.waiting.resume(returning: .decided(.failure(error))) }
            throw error
        }
        for (i, follower) in followers.enumerated() {
            follower.waiting.resume(returning: .decided(Result { () throws(SharedStoreError) in try Self.admission(reply, at: i + 1) }))
        }
        return try Self.admission(reply, at: 0)
    }

    /// The `index`th call's admission in a script's reply (three values per call).
    static func admission(_ reply: RESPValue, at index: Int) throws(SharedStoreError) -> SharedAdmission {
        guard case .array(let items?) = reply, items.count >= 3 * index + 3, let taken = items[3 * index].int, let held = items[3 * index + 2].int,
              let waitText = items[3 * index + 1].string, let wait = Double(waitText)
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

/// The teams' admit calls waiting to share a script run. The first call of a team leads:
/// it lets the event loop turn once, closes the batch and runs it; calls that come while
/// it is open follow and are answered by the leader. A call that finds the batch closed
/// between looking and joining tries again.
final class AdmitBatches: Sendable {
    struct Call: Sendable {
        let keys: [RESPArgument]
        let arguments: [RESPArgument]
    }

    enum Outcome: Sendable {
        case decided(Result<SharedAdmission, SharedStoreError>)
        case again
    }

    typealias Follower = (call: Call, waiting: CheckedContinuation<Outcome, Never>)

    /// Open batches by team: their followers so far.
    private let open = NIOLockedValueBox([String: [Follower]]())

    /// Opens the team's batch unless one is open; true if this call leads it.
    func lead(team: String) -> Bool {
        open.withLockedValue { open in
            guard open[team] == nil else { return false }
            open[team] = []
            return true
        }
    }

    /// Joins the team's open batch; false if there is none.
    func follow(team: String, _ call: Call, _ waiting: CheckedContinuation<Outcome, Never>) -> Bool {
        open.withLockedValue { open in
            guard open[team] != nil else { return false }
            open[team]!.append((call, waiting))
            return true
        }
    }

    /// Closes the team's batch: its followers.
    func close(team: String) -> [Follower] {
        open.withLockedValue { $0.removeValue(forKey: team) ?? [] }
    }
}
