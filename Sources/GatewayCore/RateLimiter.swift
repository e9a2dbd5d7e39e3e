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
    private let buckets: Mutex<[String: TokenBucket]>
    private let limitsBox: Mutex<[String: TeamLimits]>
    /// After AWS throttles a team's operation, its calls wait this long (doubling while
    /// AWS keeps throttling, halving on success) before another may go.
    private let slowdown: Mutex<[String: (until: Double, interval: Double)]>
    static let minimumSlowdown = 0.05
    static let maximumSlowdown = 5.0

    public init(limits: [String: TeamLimits], clock: any RateClock = MonotonicClock()) {
        limitsBox = Mutex(limits)
        self.clock = clock
        buckets = Mutex([:])
        slowdown = Mutex([:])
    }

    /// Admits a call, or says how many milliseconds to wait.
    public func admit(team: String, service: String, operation: String) -> Int? {
        let now = clock.now()
        let key = team + "\u{0}" + service + ":" + operation
        if let hold = slowdown.withLock({ $0[key] }), hold.until > now {
            return Int(((hold.until - now) * 1000).rounded(.up))
        }
        guard let teamLimits = limitsBox.withLock({ $0[team] }) else { return nil }
        var applicable: [TokenBucket] = []
        if let rate = teamLimits.team { applicable.append(bucket(team + "\u{0}*", rate, now)) }
        for (pattern, rate) in teamLimits.operations where pattern.matches(service: service, operation: operation) {
            applicable.append(bucket(team + "\u{0}" + pattern.text, rate, now))
        }
        let wait = applicable.map { $0.wait(at: now) }.max() ?? 0
        if wait > 0 { return max(1, Int((wait * 1000).rounded(.up))) }
        for bucket in applicable { bucket.take(at: now) }
        slowdown.withLock { holds in
            if var hold = holds[key] {
                hold.until = now + hold.interval
                holds[key] = hold
            }
        }
        return nil
    }

    /// New limits (a reload). Buckets whose team, pattern and rate are unchanged keep
    /// their tokens; the others start afresh (full).
    public func update(limits: [String: TeamLimits]) {
        limitsBox.withLock { $0 = limits }
    }

    /// AWS throttled this team's operation: hold its calls back for a while.
    public func throttled(team: String, service: String, operation: String) {
        let now = clock.now()
        let key = team + "\u{0}" + service + ":" + operation
        slowdown.withLock { holds in
            let interval = min(Self.maximumSlowdown, max(Self.minimumSlowdown, (holds[key]?.interval ?? 0) * 2))
            holds[key] = (now + interval, interval)
        }
    }

    /// AWS answered this team's operation: ease the hold, and drop it once it is small.
    public func succeeded(team: String, service: String, operation: String) {
        let key = team + "\u{0}" + service + ":" + operation
        slowdown.withLock { holds in
            guard var hold = holds[key] else { return }
            hold.interval /= 2
            if hold.interval < Self.minimumSlowdown { holds[key] = nil } else { holds[key] = hold }
        }
    }

    private func bucket(_ key: String, _ rate: Rate, _ now: Double) -> TokenBucket {
        buckets.withLock { all in
            if let existing = all[key], existing.rate == rate { return existing }
            let made = TokenBucket(rate: rate, now: now)
            all[key] = made
            return made
        }
    }
}
