import AWSClient
import AWSJSON
import Foundation
import Synchronization

/// Settings of `cache:` in the config file.
public struct CacheSettings: Sendable {
    public var maxBytes = 64 << 20
    /// TTL by pattern, in file order; `"*"` is the default. A call no TTL covers is not cached.
    public var ttl: [(OperationPattern, Double)] = []
    /// Extra operations to treat as read-only, and operations never to cache.
    public var include: [OperationPattern] = []
    public var exclude: [OperationPattern] = []
    /// Where entries live: this process's memory, or the shared store (`shared:`).
    public var store = Store.memory
    /// With `store: shared`, larger answers are cached nowhere rather than sent to Redis.
    public var sharedMaxEntryBytes = 1 << 20

    public enum Store: String, Sendable { case memory, shared }

    public init() {}

    /// Whether a call may be answered from the cache: read-only in the model, or named like a
    /// read (Get, Describe, List, BatchGet, Head), or included; and not excluded.
    public func isCacheable(service: String, operation: String, readOnly: Bool) -> Bool {
        if exclude.contains(where: { $0.matches(service: service, operation: operation) }) { return false }
        return isRead(service: service, operation: operation, readOnly: readOnly)
    }

    /// Whether a call only reads (so it leaves cached entries alone), cached or not.
    public func isRead(service: String, operation: String, readOnly: Bool) -> Bool {
        if include.contains(where: { $0.matches(service: service, operation: operation) }) { return true }
        if readOnly { return true }
        return ["Get", "Describe", "List", "BatchGet", "Head"].contains { operation.hasPrefix($0) }
    }

    /// Whether two settings would cache the same things the same way (a reload keeps the
    /// cache's contents only then).
    public func sameRules(as other: CacheSettings) -> Bool {
        maxBytes == other.maxBytes && store == other.store && sharedMaxEntryBytes == other.sharedMaxEntryBytes && ttl.map { "\($0.0.text)=\($0.1)" } == other.ttl.map { "\($0.0.text)=\($0.1)" }
            && include.map(\.text) == other.include.map(\.text) && exclude.map(\.text) == other.exclude.map(\.text)
    }

    /// The first TTL whose pattern matches; the `"*:*"` pattern stands for `"*"`.
    public func ttl(service: String, operation: String) -> Double? {
        ttl.first { $0.0.matches(service: service, operation: operation) }?.1
    }
}

/// Cached read results: byte-bounded LRU, TTL per entry, single flight for identical
/// misses, and invalidation of a service's entries when a mutating call goes through the
/// same credentials. Errors are never cached.
public final class ResponseCache: Sendable {
    public let settings: CacheSettings
    let clock: any RateClock
    private let state: Mutex<LRU>
    private let flights = FlightTable<Result<JSONObject, RPCError>>()
    /// Entries shared with other replicas (`store: shared`); the memory above is then the
    /// fallback while the store does not answer.
    let shared: (store: any SharedCacheStore, health: SharedStoreHealth)?
    let sharedFlights = FlightTable<SharedFetch>()

    public init(settings: CacheSettings, clock: any RateClock = MonotonicClock(),
                shared: (store: any SharedCacheStore, health: SharedStoreHealth)? = nil) {
        self.settings = settings
        self.clock = clock
        self.shared = shared
        state = Mutex(LRU(maxBytes: settings.maxBytes))
    }

    /// The key: credentials source, region, service, operation and the params in a
    /// canonical form (keys sorted at every level), so equal calls meet and different
    /// credentials never share.
    public static func key(credentials: String, region: String, service: String, operation: String, params: JSONObject) -> String {
        var out = credentials + "\u{0}" + region + "\u{0}" + service + "\u{0}" + operation + "\u{0}"
        out += canonical(.object(JSONObject(params.members.filter { !$0.key.hasPrefix("$") }))).serializedString()
        return out
    }

    static func canonical(_ value: JSON) -> JSON {
        switch value {
        case .object(let object):
            return .object(JSONObject(object.members.sorted { $0.key < $1.key }.map { JSONObject.Member(key: $0.key, value: canonical($0.value)) }))
        case .array(let items): return .array(items.map(canonical))
        default: return value
        }
    }

    public func lookup(_ key: String) -> JSONObject? {
        let now = clock.now()
        return state.withLock { $0.get(key, now: now) }
    }

    public func store(_ key: String, _ value: JSONObject, ttl: Double, scope: String) {
        let expires = clock.now() + ttl
        let size = key.utf8.count + JSON.object(value).serialized().count + 64
        state.withLock { $0.set(key, value, size: size, expires: expires, scope: scope) }
    }

    /// Drops every entry of a service made with the given credentials.
    public func invalidate(scope: String) {
        state.withLock { $0.removeScope(scope) }
    }

    public var byteCount: Int { state.withLock { $0.bytes } }
    public var count: Int { state.withLock { $0.entries.count } }

    /// Single flight: the first caller for a key does the work in its own task (so it
    /// stays on its connection's event loop and keeps its cancellation); callers that
    /// arrive while it runs wait for the same result.
    public func coalesce(_ key: String, _ work: @Sendable () async -> Result<JSONObject, RPCError>) async -> (Result<JSONObject, RPCError>, leader: Bool) {
        await flights.run(key, work)
    }

    /// `scope` for invalidation: credentials source and service.
    public static func scope(credentials: String, service: String) -> String { credentials + "\u{0}" + service }
}

/// Calls in flight by key: the first caller for a key does the work, callers that arrive
/// while it runs wait for its result.
final class FlightTable<Value: Sendable>: Sendable {
    private let flights = Mutex<[String: Flight]>([:])

    func run(_ key: String, _ work: () async -> Value) async -> (Value, leader: Bool) {
        var leader = false
        let flight = flights.withLock { flights -> Flight in
            if let running = flights[key] { return running }
            leader = true
            let flight = Flight()
            flights[key] = flight
            return flight
        }
        guard leader else { return (await flight.result(), false) }
        let result = await work()
        flights.withLock { _ = $0.removeValue(forKey: key) }
        flight.finish(result)
        return (result, true)
    }

    /// One call in flight and the callers waiting for its result.
    final class Flight: Sendable {
        private let state = Mutex<(result: Value?, waiters: [CheckedContinuation<Value, Never>])>((nil, []))

        func result() async -> Value {
            await withCheckedContinuation { continuation in
                let done = state.withLock { state -> Value? in
                    if let result = state.result { return result }
                    state.waiters.append(continuation)
                    return nil
                }
                if let done { continuation.resume(returning: done) }
            }
        }

        func finish(_ result: Value) {
            let waiters = state.withLock { state -> [CheckedContinuation<Value, Never>] in
                state.result = result
                defer { state.waiters = [] }
                return state.waiters
            }
            for waiter in waiters { waiter.resume(returning: result) }
        }
    }
}

/// A least-recently-used map bounded in bytes.
struct LRU {
    final class Node {
        let key: String
        var value: JSONObject
        var size: Int
        var expires: Double
        var scope: String
        var previous: Node?
        var next: Node?
        init(key: String, value: JSONObject, size: Int, expires: Double, scope: String) {
            self.key = key
            self.value = value
            self.size = size
            self.expires = expires
            self.scope = scope
        }
    }

    let maxBytes: Int
    var entries: [String: Node] = [:]
    var bytes = 0
    private var head: Node?  // most recent
    private var tail: Node?  // least recent

    init(maxBytes: Int) { self.maxBytes = maxBytes }

    mutating func get(_ key: String, now: Double) -> JSONObject? {
        guard let node = entries[key] else { return nil }
        if node.expires <= now {
            remove(node)
            return nil
        }
        unlink(node)
        pushFront(node)
        return node.value
    }

    mutating func set(_ key: String, _ value: JSONObject, size: Int, expires: Double, scope: String) {
        if let existing = entries[key] { remove(existing) }
        guard size <= maxBytes else { return }
        let node = Node(key: key, value: value, size: size, expires: expires, scope: scope)
        entries[key] = node
        bytes += size
        pushFront(node)
        while bytes > maxBytes, let last = tail { remove(last) }
    }

    mutating func removeScope(_ scope: String) {
        for node in entries.values where node.scope == scope { remove(node) }
    }

    private mutating func remove(_ node: Node) {
        unlink(node)
        entries[node.key] = nil
        bytes -= node.size
    }

    private mutating func unlink(_ node: Node) {
        node.previous?.next = node.next
        node.next?.previous = node.previous
        if head === node { head = node.next }
        if tail === node { tail = node.previous }
        node.previous = nil
        node.next = nil
    }

    private mutating func pushFront(_ node: Node) {
        node.next = head
        head?.previous = node
        head = node
        if tail == nil { tail = node }
    }
}
