import Foundation
import Synchronization

/// A rate as the config writes it: `"20/s burst 40"`, `"600/m"`, `"1/h"`.
public struct Rate: Sendable, Equatable {
    /// Tokens added per second.
    public let perSecond: Double
    /// Bucket size; a full bucket allows this many calls at once.
    public let burst: Double
    /// As written, for messages.
    public let text: String
    /// `perSecond` and `burst` as decimal text, made once (a shared store sends them with every call).
    public let perSecondText: String
    public let burstText: String

    public init?(_ text: String) {
        let words = text.split(separator: " ").map(String.init)
        guard let first = words.first else { return nil }
        let parts = first.split(separator: "/")
        // At least one call a day and at most a billion a second: waits stay finite
        // and fit in milliseconds.
        guard parts.count == 2, let count = Double(parts[0]), count > 0, count <= 1e9 else { return nil }
        let seconds: Double
        switch parts[1] {
        case "s": seconds = 1
        case "m": seconds = 60
        case "h": seconds = 3600
        default: return nil
        }
        var burst = max(count, 1)
        if words.count == 3, words[1] == "burst", let b = Double(words[2]), b >= 1, b <= 1e9 {
            burst = b
        } else if words.count != 1 {
            return nil
        }
        perSecond = count / seconds
        guard perSecond >= 1.0 / 86400 else { return nil }
        self.burst = burst
        self.text = text
        perSecondText = String(perSecond)
        burstText = String(burst)
    }
}

/// The time, for rate limits: real by default, set by hand in tests.
public protocol RateClock: Sendable {
    /// Seconds on a monotonic scale.
    func now() -> Double
}

public struct MonotonicClock: RateClock {
    public init() {}
    public func now() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }
}

/// A token bucket: starts full, refills continuously, one token per call.
final class TokenBucket: Sendable {
    let rate: Rate
    private let state: Mutex<(tokens: Double, last: Double)>

    init(rate: Rate, now: Double) {
        self.rate = rate
        state = Mutex((rate.burst, now))
    }

    /// Tokens available now (refilled up to the burst).
    func available(at now: Double) -> Double {
        state.withLock { s in
            s.tokens = min(rate.burst, s.tokens + max(0, now - s.last) * rate.perSecond)
            s.last = max(s.last, now)
            return s.tokens
        }
    }

    func take(at now: Double) {
        state.withLock { s in s.tokens -= 1 }
    }

    /// How long until one token is there.
    func wait(at now: Double) -> Double {
        let tokens = available(at: now)
        return tokens >= 1 ? 0 : (1 - tokens) / rate.perSecond
    }
}

/// Rate limits per team and per team × operation pattern, plus the slow-down a
/// throttling answer from AWS imposes (as the SDKs' adaptive mode does).
public final class RateLimiter: Sendable {
    /// One team's limits: `"*"` for the whole team, patterns for operations.
    public struct TeamLimits: Sendable {
        public var team: Rate?
        public var operations: [(OperationPattern, Rate)]
        public init(team: Rate?, operations: [(OperationPattern, Rate)]) {
            self.team = team
            self.operations = operations
        }
    }

    let clock: any RateClock
    private let buckets: Mutex<[BucketKey: TokenBucket]>
    /// A bucket's name: the team and the rule (`"*"` or a pattern), hashed without joining them.
    struct BucketKey: Hashable {
        let team: String
        let rule: String
    }
    /// The limits, and each team's buckets found from them (made on a team's first call
    /// after a reload, so a call does not look its buckets up by name).
    private let limitsBox: Mutex<(limits: [String: TeamLimits], resolved: [String: TeamBuckets])>
    /// A team's buckets: the whole team's, and each operation pattern's.
    final class TeamBuckets: Sendable {
        let team: TokenBucket?
        let operations: [(pattern: OperationPattern, bucket: TokenBucket)]
        init(team: TokenBucket?, operations: [(pattern: OperationPattern, bucket: TokenBucket)]) {
            self.team = team
            self.operations = operations
        }
    }
    /// After AWS throttles a team's operation, its calls wait this long (doubling while
    /// AWS keeps throttling, halving on success) before another may go.
    private let slowdown: Mutex<[String: (until: Double, interval: Double)]>
    static let minimumSlowdown = 0.05
    static let maximumSlowdown = 5.0
    /// Buckets and holds shared with other replicas (`shared:`); nil: this process alone.
    let shared: (store: any SharedRateStore, health: SharedStoreHealth)?
    /// Operations whose shared hold this replica has seen, so that only their successes
    /// cost a round trip to ease it.
    private let sharedHolds = Mutex<Set<String>>([])

    public init(limits: [String: TeamLimits], clock: any RateClock = MonotonicClock(),
                shared: (store: any SharedRateStore, health: SharedStoreHealth)? = nil) {
        limitsBox = Mutex((limits, [:]))
        self.clock = clock
        self.shared = shared
        buckets = Mutex([:])
        slowdown = Mutex([:])
    }

    /// Which limiter decided a call, as its audit record says.
    public enum Limiter: String, Sendable {
        /// This process's buckets (no `shared:`).
        case memory
        case shared
        /// This process's buckets because the shared store did not answer (`on_failure: local`).
        case fallback = "memory-fallback"
        /// Refused because the shared store did not answer (`on_failure: deny`).
        case unavailable
    }

    public struct Decision: Sendable, Equatable {
        /// nil when admitted; else milliseconds to wait.
        public var waitMs: Int?
        public var limiter: Limiter
        /// Why the call is refused when the shared limiter is unavailable.
        public var cause: String?
    }

    /// Admits a call through the shared store when there is one (falling back as
    /// `on_failure` says when it does not answer), else through this process's buckets.
    public func decide(team: String, service: String, operation: String) async -> Decision {
        guard let shared else { return Decision(waitMs: admit(team: team, service: service, operation: operation), limiter: .memory) }
        var (usable, cause) = shared.health.usable()
        if usable {
            let name = service + ":" + operation
            do throws(SharedStoreError) {
                let admission = try await shared.store.admit(team: team, operation: name, buckets: rules(team: team, service: service, operation: operation))
                shared.health.answered()
                let key = Self.holdKey(team, service, operation)
                if admission.held != sharedHolds.withLock({ $0.contains(key) }) {
                    sharedHolds.withLock { holds in if admission.held { holds.insert(key) } else { holds.remove(key) } }
                }
                return Decision(waitMs: admission.waitSeconds.map { max(1, Int(($0 * 1000).rounded(.up))) }, limiter: .shared)
            } catch {
                shared.health.failed(error)
                cause = error.description
            }
        }
        shared.health.metrics.rateLimitFallbacks.increment()
        switch shared.health.onFailure {
        case .local:
            return Decision(waitMs: admit(team: team, service: service, operation: operation), limiter: .fallback)
        case .deny:
            return Decision(waitMs: max(1, Int(shared.health.retryAfter * 1000)), limiter: .unavailable,
                            cause: "the shared rate limiter is unavailable (\(cause))")
        }
    }

    /// A team's hold on an operation, by name (here and in the shared holds seen).
    static func holdKey(_ team: String, _ service: String, _ operation: String) -> String {
        team + "\u{0}" + service + ":" + operation
    }

    /// The team's rules that apply to an operation: `"*"` for the whole team, then each
    /// matching pattern, with their rates.
    func rules(team: String, service: String, operation: String) -> [(rule: String, rate: Rate)] {
        guard let teamLimits = limitsBox.withLock({ $0.limits[team] }) else { return [] }
        var applicable: [(rule: String, rate: Rate)] = []
        if let rate = teamLimits.team { applicable.append(("*", rate)) }
        for (pattern, rate) in teamLimits.operations where pattern.matches(service: service, operation: operation) {
            applicable.append((pattern.text, rate))
        }
        return applicable
    }

    /// Admits a call, or says how many milliseconds to wait.
    public func admit(team: String, service: String, operation: String) -> Int? {
        let now = clock.now()
        // Holds are rare: the key is built only when there is one somewhere.
        let key = slowdown.withLock { $0.isEmpty } ? nil : Self.holdKey(team, service, operation)
        if let key, let hold = slowdown.withLock({ $0[key] }), hold.until > now {
            return Int(((hold.until - now) * 1000).rounded(.up))
        }
        if let buckets = teamBuckets(team, now) {
            // Every applicable bucket must have a token before any is taken.
            var wait = buckets.team?.wait(at: now) ?? 0
            for (pattern, bucket) in buckets.operations where pattern.matches(service: service, operation: operation) {
                wait = max(wait, bucket.wait(at: now))
            }
            if wait > 0 { return max(1, Int((wait * 1000).rounded(.up))) }
            buckets.team?.take(at: now)
            for (pattern, bucket) in buckets.operations where pattern.matches(service: service, operation: operation) {
                bucket.take(at: now)
            }
        }
        if let key {
            slowdown.withLock { holds in
                if var hold = holds[key] {
                    hold.until = now + hold.interval
                    holds[key] = hold
                }
            }
        }
        return nil
    }

    /// New limits (a reload). Buckets whose team, pattern and rate are unchanged keep
    /// their tokens; the others start afresh (full).
    public func update(limits: [String: TeamLimits]) {
        limitsBox.withLock { $0 = (limits, [:]) }
    }

    /// The team's buckets, found once per reload; nil for a team without limits.
    private func teamBuckets(_ team: String, _ now: Double) -> TeamBuckets? {
        limitsBox.withLock { box in
            if let found = box.resolved[team] { return found }
            guard let limits = box.limits[team] else { return nil }
            let found = TeamBuckets(
                team: limits.team.map { bucket(BucketKey(team: team, rule: "*"), $0, now) },
                operations: limits.operations.map { ($0.0, bucket(BucketKey(team: team, rule: $0.0.text), $0.1, now)) })
            box.resolved[team] = found
            return found
        }
    }

    /// AWS throttled this team's operation: hold its calls back for a while, here and,
    /// with a shared store, on every replica.
    public func throttled(team: String, service: String, operation: String) async {
        holdLocally(team: team, service: service, operation: operation)
        guard let shared, shared.health.usable().0 else { return }
        do throws(SharedStoreError) {
            try await shared.store.throttled(team: team, operation: service + ":" + operation, minimum: Self.minimumSlowdown, maximum: Self.maximumSlowdown)
            shared.health.answered()
            sharedHolds.withLock { _ = $0.insert(Self.holdKey(team, service, operation)) }
        } catch {
            shared.health.failed(error)
        }
    }

    /// AWS answered this team's operation: ease the hold, and drop it once it is small.
    public func succeeded(team: String, service: String, operation: String) async {
        easeLocally(team: team, service: service, operation: operation)
        guard let shared else { return }
        let key = Self.holdKey(team, service, operation)
        guard sharedHolds.withLock({ $0.contains(key) }), shared.health.usable().0 else { return }
        do throws(SharedStoreError) {
            try await shared.store.succeeded(team: team, operation: service + ":" + operation, minimum: Self.minimumSlowdown)
            shared.health.answered()
        } catch {
            shared.health.failed(error)
        }
    }

    /// This process's hold (all there is without a shared store).
    public func holdLocally(team: String, service: String, operation: String) {
        let now = clock.now()
        let key = Self.holdKey(team, service, operation)
        slowdown.withLock { holds in
            let interval = min(Self.maximumSlowdown, max(Self.minimumSlowdown, (holds[key]?.interval ?? 0) * 2))
            holds[key] = (now + interval, interval)
        }
    }

    public func easeLocally(team: String, service: String, operation: String) {
        guard !slowdown.withLock({ $0.isEmpty }) else { return }
        let key = Self.holdKey(team, service, operation)
        slowdown.withLock { holds in
            guard var hold = holds[key] else { return }
            hold.interval /= 2
            if hold.interval < Self.minimumSlowdown { holds[key] = nil } else { holds[key] = hold }
        }
    }

    private func bucket(_ key: BucketKey, _ rate: Rate, _ now: Double) -> TokenBucket {
        buckets.withLock { all in
            if let existing = all[key], existing.rate == rate { return existing }
            let made = TokenBucket(rate: rate, now: now)
            all[key] = made
            return made
        }
    }
}
