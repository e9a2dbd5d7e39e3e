import AWSPrimitives
import Crypto
import GatewayCore
import RedisClient

/// Cached answers kept in Redis for every replica. A scope (credentials × service) has a
/// generation number; each entry records the generation it was made under, and is seen
/// only while that is still the scope's generation, so invalidating a scope is one INCR.
/// Keys are hashes (the cache key holds params) under the scope's hash tag, so a scope's
/// keys share one Redis Cluster slot:
///
///     <prefix>{c:<scope hash>}:gen       the generation
///     <prefix>{c:<scope hash>}:e:<hash>  "<generation>\n<answer JSON>", with the entry's TTL
///     <prefix>{c:<scope hash>}:l:<hash>  the fetch lock (a random token, with an expiry)
public struct RedisCacheStore: SharedCacheStore {
    let client: RedisClient
    let prefix: String

    public init(client: RedisClient, prefix: String = "awsgw:") {
        self.client = client
        self.prefix = prefix
    }

    /// Generations outlive any entry made under an older one (their TTLs are shorter).
    static let generationSeconds = 7 * 86400

    static let invalidateScript = RedisScript("""
        local g = redis.call('INCR', KEYS[1])
        redis.call('EXPIRE', KEYS[1], ARGV[1])
        return g
        """)

    /// Frees the lock only if it is still ours (it may have expired and been taken).
    static let unlockScript = RedisScript("""
        if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
        return 0
        """)

    /// The first `count` bytes of the text's SHA-256, in hex.
    static func hex(_ text: String, count: Int) -> String {
        Hex.encode(Array(SHA256.hash(data: Array(text.utf8)).prefix(count)))
    }

    func keys(scope: String, key: String) -> (generation: String, entry: String, lock: String) {
        let base = prefix + "{c:" + Self.hex(scope, count: 12) + "}:"
        let hash = Self.hex(key, count: 32)
        return (base + "gen", base + "e:" + hash, base + "l:" + hash)
    }

    public func lookup(scope: String, key: String) async throws(SharedStoreError) -> (generation: String, value: [UInt8]?) {
        let names = keys(scope: scope, key: key)
        let reply = try await client.storeCommand(["MGET", RESPArgument(names.generation), RESPArgument(names.entry)])
        guard case .array(let items?) = reply, items.count == 2 else { throw SharedStoreError("unexpected reply to MGET") }
        let generation = items[0].string ?? "0"
        guard case .bulkString(let stored?) = items[1], let newline = stored.firstIndex(of: UInt8(ascii: "\n")),
              String(decoding: stored[..<newline], as: UTF8.self) == generation
        else { return (generation, nil) }
        return (generation, Array(stored[(newline + 1)...]))
    }

    public func store(scope: String, key: String, generation: String, value: [UInt8], ttl: Double) async throws(SharedStoreError) {
        let names = keys(scope: scope, key: key)
        let milliseconds = max(1, Int((ttl * 1000).rounded()))
        try await client.storeCommand(["SET", RESPArgument(names.entry), RESPArgument(Array(generation.utf8) + [UInt8(ascii: "\n")] + value),
                           "PX", RESPArgument(milliseconds)])
    }

    public func invalidate(scope: String) async throws(SharedStoreError) {
        let names = keys(scope: scope, key: "")
        try await client.storeRun(Self.invalidateScript, keys: [RESPArgument(names.generation)], arguments: [RESPArgument(Self.generationSeconds)])
    }

    public func lock(scope: String, key: String, token: String, seconds: Double) async throws(SharedStoreError) -> Bool {
        let names = keys(scope: scope, key: key)
        let reply = try await client.storeCommand(["SET", RESPArgument(names.lock), RESPArgument(token), "NX", "PX", RESPArgument(max(1, Int(seconds * 1000)))])
        return !reply.isNull
    }

    public func unlock(scope: String, key: String, token: String) async throws(SharedStoreError) {
        let names = keys(scope: scope, key: key)
        try await client.storeRun(Self.unlockScript, keys: [RESPArgument(names.lock)], arguments: [RESPArgument(token)])
    }
}
