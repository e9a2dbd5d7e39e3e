import AWSJSON
import Logging
import Synchronization
import Testing

@testable import GatewayCore

/// The shared cache's single flight across replicas, against a scripted store: what a
/// replica does once it holds the fetch lock.
@Suite("Shared cache fetch lock")
struct SharedFetchTests {
    /// A store whose entry appears after a given number of lookups (another replica
    /// storing it meanwhile), and which records every command.
    final class ScriptedStore: SharedCacheStore {
        let entryAfterLookups: Int
        let log = Mutex<[String]>([])
        init(entryAfterLookups: Int) { self.entryAfterLookups = entryAfterLookups }

        func lookup(scope: String, key: String) async throws(SharedStoreError) -> (generation: String, value: [UInt8]?) {
            let count = log.withLock { log in
                log.append("lookup")
                return log.filter { $0 == "lookup" }.count
            }
            return ("7", count > entryAfterLookups ? Array(#"{"Links":[{"LinkId":"from-another-replica"}]}"#.utf8) : nil)
        }
        func store(scope: String, key: String, generation: String, value: [UInt8], ttl: Double) async throws(SharedStoreError) {
            log.withLock { $0.append("store gen \(generation)") }
        }
        func invalidate(scope: String) async throws(SharedStoreError) { log.withLock { $0.append("invalidate") } }
        func lock(scope: String, key: String, token: String, seconds: Double) async throws(SharedStoreError) -> Bool {
            log.withLock { $0.append("lock") }
            return true
        }
        func unlock(scope: String, key: String, token: String) async throws(SharedStoreError) {
            log.withLock { $0.append("unlock") }
        }
    }

    /// One cacheable call through a shared cache on `store`: what it answered (nil when
    /// not an answer) and how many times it called AWS.
    func fetch(_ store: ScriptedStore) async -> (value: JSONObject, outcome: CacheOutcome, awsCalls: Int)? {
        var settings = CacheSettings()
        settings.store = .shared
        let health = SharedStoreHealth(onFailure: .local, logger: Logger(label: "test"), metrics: GatewayMetrics())
        let cache = ResponseCache(settings: settings, shared: (store, health))
        let forwards = Mutex(0)
        let fetched = await cache.sharedFetch(key: "k", scope: "s", ttl: 60, mode: .use, lockSeconds: 5) {
            forwards.withLock { $0 += 1 }
            return .success(JSONObject([("Links", .array([]))]))
        }
        guard case .answered(let value, let outcome) = fetched else {
            Issue.record("expected an answer, got \(fetched)")
            return nil
        }
        return (value, outcome, forwards.withLock { $0 })
    }

    @Test("an entry stored by another replica between our lookup and our lock is a hit: no AWS call, the lock freed")
    func entryAppearsBeforeLock() async {
        let store = ScriptedStore(entryAfterLookups: 1)
        guard let (value, outcome, awsCalls) = await fetch(store) else { return }
        #expect(outcome == .hit)
        #expect(JSON.object(value).serializedString() == #"{"Links":[{"LinkId":"from-another-replica"}]}"#)
        #expect(awsCalls == 0)
        #expect(store.log.withLock { $0 } == ["lookup", "lock", "lookup", "unlock"])
    }

    @Test("with the lock and still no entry: one AWS call, stored under the generation seen after the lock, then unlocked")
    func leaderFetches() async {
        let store = ScriptedStore(entryAfterLookups: 99)
        guard let (value, outcome, awsCalls) = await fetch(store) else { return }
        #expect(outcome == .miss)
        #expect(JSON.object(value).serializedString() == #"{"Links":[]}"#)
        #expect(awsCalls == 1)
        #expect(store.log.withLock { $0 } == ["lookup", "lock", "lookup", "store gen 7", "unlock"])
    }
}
