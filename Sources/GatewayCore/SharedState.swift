import Foundation
import Logging
import Synchronization

/// `shared:` in the config file: where replicas keep the state they share.
public struct SharedSettings: Sendable, Equatable {
    /// `redis://[user@]host[:port][/db]` or `rediss://` (TLS); never a password.
    public var redis: String
    /// The environment variable that holds Redis's password, if it needs one.
    public var passwordEnv: String?
    /// CA certificates (PEM) that `rediss://` servers are verified with; the system's by default.
    public var caFile: String?
    public var keyPrefix = "awsgw:"
    /// The most one Redis command may cost a call.
    public var timeoutSeconds = 0.05
    public var onFailure = SharedFailureMode.local

    public init(redis: String) { self.redis = redis }

    /// What is wrong with a Redis URL, if anything: `redis://` or `rediss://`, a host, a
    /// port and a database number that are numbers, and no password (it belongs in the
    /// environment, named by `password_env`).
    public static func problem(redisURL text: String) -> String? {
        let scheme: String
        if text.hasPrefix("redis://") { scheme = "redis://" } else if text.hasPrefix("rediss://") { scheme = "rediss://" } else {
            return "expected redis://host[:port][/db] or rediss://..."
        }
        var rest = Substring(text.dropFirst(scheme.count))
        if let at = rest.lastIndex(of: "@") {
            if rest[..<at].contains(":") { return "the URL holds a password: put it in the environment and name it with password_env" }
            rest = rest[rest.index(after: at)...]
        }
        var hostPort = rest
        if let slash = rest.firstIndex(of: "/") {
            hostPort = rest[..<slash]
            let db = rest[rest.index(after: slash)...]
            if !db.isEmpty && (Int(db) == nil || Int(db)! < 0) { return "the database (after /) must be a number" }
        }
        if hostPort.isEmpty || hostPort.hasPrefix(":") || hostPort == "[]" { return "no host" }
        var portText: Substring?
        if hostPort.hasPrefix("[") {
            // [IPv6]:port
            guard let close = hostPort.firstIndex(of: "]") else { return "an IPv6 address needs its closing ]" }
            let after = hostPort[hostPort.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { return "expected :port after the IPv6 address" }
                portText = after.dropFirst()
            }
        } else if let colon = hostPort.lastIndex(of: ":") {
            portText = hostPort[hostPort.index(after: colon)...]
        }
        if let portText, Int(portText).map({ (1...65535).contains($0) }) != true { return "the port must be a number from 1 to 65535" }
        return nil
    }
}

/// What calls get while the shared store does not answer.
public enum SharedFailureMode: String, Sendable {
    /// Each replica limits (and caches) alone until the store answers again.
    case local
    /// Calls are refused with -32002 (`data.cause` says why); the cache is skipped.
    case deny
}

/// The store's failure, as the pipeline sees it (the store's own error, described).
public struct SharedStoreError: Error, Sendable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// Token buckets and throttle holds shared by replicas. `operation` is `service:Operation`.
public protocol SharedRateStore: Sendable {
    /// In one step: refused while the operation's throttle hold lasts; else one token is
    /// taken from every bucket, or from none when one is empty.
    func admit(team: String, operation: String, buckets: [(rule: String, rate: Rate)]) async throws(SharedStoreError) -> SharedAdmission
    /// AWS throttled the operation: start or lengthen its hold (doubling, within bounds).
    func throttled(team: String, operation: String, minimum: Double, maximum: Double) async throws(SharedStoreError)
    /// AWS answered the operation: halve its hold, dropping it below `minimum`.
    func succeeded(team: String, operation: String, minimum: Double) async throws(SharedStoreError)
}

public struct SharedAdmission: Sendable, Equatable {
    /// nil when admitted; else how long until a call could be.
    public var waitSeconds: Double?
    /// Whether the operation has a throttle hold (so a success should ease it).
    public var held: Bool
    public init(waitSeconds: Double?, held: Bool) {
        self.waitSeconds = waitSeconds
        self.held = held
    }
}

/// Cached answers shared by replicas. `scope` is the invalidation scope (credentials ×
/// service), `key` the cache key; the store hashes both.
public protocol SharedCacheStore: Sendable {
    /// The scope's current generation and the entry, if one was stored under it.
    func lookup(scope: String, key: String) async throws(SharedStoreError) -> (generation: String, value: [UInt8]?)
    /// Stores an entry made under `generation`; a later invalidation hides it.
    func store(scope: String, key: String, generation: String, value: [UInt8], ttl: Double) async throws(SharedStoreError)
    /// Hides every entry of the scope (one command).
    func invalidate(scope: String) async throws(SharedStoreError)
    /// Takes the key's fetch lock for `seconds` unless another holder has it.
    func lock(scope: String, key: String, token: String, seconds: Double) async throws(SharedStoreError) -> Bool
    func unlock(scope: String, key: String, token: String) async throws(SharedStoreError)
}

/// Whether the shared store answers, so that an outage costs one timeout per second
/// rather than one per call: after a failure the store is left alone for `retryAfter`
/// seconds (calls take the fallback at once), then tried again. Each outage is logged
/// once when it starts and once when it ends, and counted.
public final class SharedStoreHealth: Sendable {
    public let onFailure: SharedFailureMode
    let retryAfter: Double
    let clock: any RateClock
    let logger: Logger
    let metrics: GatewayMetrics
    private let state = Mutex<(downUntil: Double?, cause: String)>((nil, ""))

    public init(onFailure: SharedFailureMode, retryAfter: Double = 1, clock: any RateClock = MonotonicClock(), logger: Logger,
                metrics: GatewayMetrics) {
        self.onFailure = onFailure
        self.retryAfter = retryAfter
        self.clock = clock
        self.logger = logger
        self.metrics = metrics
        metrics.sharedStoreUp.set(1.0)
    }

    /// Whether to ask the store now; when not, why (for `data.cause`).
    public func usable() -> (Bool, cause: String) {
        let now = clock.now()
        return state.withLock { s in
            guard let until = s.downUntil, now < until else { return (true, "") }
            return (false, s.cause)
        }
    }

    public func failed(_ error: SharedStoreError) {
        let now = clock.now()
        let started = state.withLock { s -> Bool in
            let first = s.downUntil == nil
            s.downUntil = now + retryAfter
            s.cause = error.description
            return first
        }
        metrics.sharedStoreFailures.increment()
        if started {
            metrics.sharedStoreUp.set(0.0)
            logger.warning("shared store unavailable: \(onFailure == .local ? "each replica limits and caches alone" : "calls are refused") until it answers",
                           metadata: ["error": "\(error.description)"])
        }
    }

    public func answered() {
        let ended = state.withLock { s -> Bool in
            guard s.downUntil != nil else { return false }
            s.downUntil = nil
            return true
        }
        if ended {
            metrics.sharedStoreUp.set(1.0)
            logger.notice("shared store answers again: replicas share limits and cache again")
        }
    }

    /// Why the store last failed ("" if it never did).
    public var lastFailure: String { state.withLock { $0.cause } }
}
