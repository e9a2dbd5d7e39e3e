import AWSJSON
import Foundation

/// What the shared cache made of one cacheable call.
enum SharedFetch: Sendable {
    /// The value, and whether it came from the store (`hit`), from AWS (`miss`) or was
    /// fetched to replace the entry (`refresh`).
    case answered(JSONObject, CacheOutcome)
    case failed(RPCError)
    /// The store did not answer before anything was sent to AWS: use the memory cache.
    case unavailable
}

/// `store: shared`: entries live in the shared store, so a read answered on one replica
/// is a hit on the others and a mutating call on any replica hides its scope's entries
/// everywhere. Identical misses make one AWS call: one per replica through the local
/// single flight, then one across replicas through a fetch lock that the others wait on
/// (polling the store) until its value is there, the lock is free again (they take it)
/// or `lockSeconds` pass (they call AWS themselves).
extension ResponseCache {
    static let sharedPollSeconds = 0.01

    /// The value for a cacheable call, or `.unavailable` when the store cannot be used.
    func sharedFetch(key: String, scope: String, ttl: Double, mode: CacheMode, lockSeconds: Double,
                     forward: @escaping @Sendable () async -> Result<JSONObject, RPCError>) async -> SharedFetch {
        guard let shared, shared.health.usable().0 else { return .unavailable }
        // Callers waiting on this replica's leader share its answer and its outcome.
        let (outcome, _) = await sharedFlights.run(key + "\u{0}" + mode.rawValue) {
            await self.sharedFetchOnce(key: key, scope: scope, ttl: ttl, mode: mode, lockSeconds: lockSeconds, forward: forward)
        }
        return outcome
    }

    private func sharedFetchOnce(key: String, scope: String, ttl: Double, mode: CacheMode, lockSeconds: Double,
                                 forward: @Sendable () async -> Result<JSONObject, RPCError>) async -> SharedFetch {
        guard let (store, health) = shared else { return .unavailable }
        var generation: String
        do throws(SharedStoreError) {
            let found = try await store.lookup(scope: scope, key: key)
            generation = found.generation
            if mode == .use, let value = Self.decode(found.value) {
                health.answered()
                return .answered(value, .hit)
            }
            if mode == .refresh {
                health.answered()
                return await fetchAndStore(key: key, scope: scope, ttl: ttl, generation: generation, outcome: .refresh, forward: forward)
            }
            let token = UUID().uuidString
            if try await store.lock(scope: scope, key: key, token: token, seconds: lockSeconds) {
                health.answered()
                return try await lead(key: key, scope: scope, ttl: ttl, lockToken: token, forward: forward)
            }
            health.answered()
        } catch {
            health.failed(error)
            return .unavailable
        }
        // Another replica is fetching this key: wait for its value.
        let deadline = clock.now() + lockSeconds
        while clock.now() < deadline {
            try? await Task.sleep(nanoseconds: UInt64(Self.sharedPollSeconds * 1e9))
            let token = UUID().uuidString
            do throws(SharedStoreError) {
                let found = try await store.lookup(scope: scope, key: key)
                generation = found.generation
                if let value = Self.decode(found.value) { return .answered(value, .hit) }
                if try await store.lock(scope: scope, key: key, token: token, seconds: lockSeconds) {
                    // The holder finished without a value (an error, or too large): our turn.
                    return try await lead(key: key, scope: scope, ttl: ttl, lockToken: token, forward: forward)
                }
            } catch {
                health.failed(error)
                break
            }
        }
        return await fetchAndStore(key: key, scope: scope, ttl: ttl, generation: generation, outcome: .miss, forward: forward)
    }

    /// With the fetch lock held: the value, when another replica stored it between our
    /// lookup and our lock (its fetch can finish and free the lock in that gap), else a
    /// fetch from AWS. Without this second look a slow replica made a second AWS call.
    private func lead(key: String, scope: String, ttl: Double, lockToken: String,
                      forward: @Sendable () async -> Result<JSONObject, RPCError>) async throws(SharedStoreError) -> SharedFetch {
        guard let (store, _) = shared else { return .unavailable }
        let found = try await store.lookup(scope: scope, key: key)
        if let value = Self.decode(found.value) {
            try await store.unlock(scope: scope, key: key, token: lockToken)
            return .answered(value, .hit)
        }
        return await fetchAndStore(key: key, scope: scope, ttl: ttl, generation: found.generation, outcome: .miss, lockToken: lockToken, forward: forward)
    }

    /// Calls AWS; stores a success (unless it is too large) and frees the lock.
    private func fetchAndStore(key: String, scope: String, ttl: Double, generation: String, outcome: CacheOutcome, lockToken: String? = nil,
                               forward: @Sendable () async -> Result<JSONObject, RPCError>) async -> SharedFetch {
        guard let (store, health) = shared else { return .unavailable }
        let result = await forward()
        do throws(SharedStoreError) {
            if case .success(let value) = result {
                let bytes = JSON.object(value).serialized()
                if bytes.count <= settings.sharedMaxEntryBytes {
                    try await store.store(scope: scope, key: key, generation: generation, value: bytes, ttl: ttl)
                }
            }
            if let lockToken { try await store.unlock(scope: scope, key: key, token: lockToken) }
        } catch {
            // The answer stands; the entry or the lock (which expires) is lost.
            health.failed(error)
        }
        switch result {
        case .success(let value): return .answered(value, outcome)
        case .failure(let error): return .failed(error)
        }
    }

    /// Hides a scope's entries in memory and, when there is one, in the shared store. Tried
    /// even while the store is thought down (it costs at most the timeout, and only calls
    /// that change things): a lost invalidation would leave other replicas a stale entry.
    func invalidateEverywhere(scope: String) async {
        invalidate(scope: scope)
        guard let (store, health) = shared else { return }
        do throws(SharedStoreError) {
            try await store.invalidate(scope: scope)
            health.answered()
        } catch {
            health.failed(error)
        }
    }

    static func decode(_ bytes: [UInt8]?) -> JSONObject? {
        guard let bytes, case .object(let object)? = try? JSON.parse(bytes) else { return nil }
        return object
    }
}
