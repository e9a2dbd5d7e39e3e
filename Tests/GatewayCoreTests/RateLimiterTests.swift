import Foundation
import GatewayCore
import Synchronization
import Testing

/// A clock the test moves by hand.
final class ManualClock: RateClock {
    private let time = Mutex(1000.0)
    func now() -> Double { time.withLock { $0 } }
    func advance(_ seconds: Double) { time.withLock { $0 += seconds } }
}

@Suite("Rate limits")
struct RateLimiterTests {
    @Test("rates as the config writes them")
    func parse() {
        #expect(Rate("20/s burst 40").map { ($0.perSecond, $0.burst) }! == (20, 40))
        #expect(Rate("600/m").map { ($0.perSecond, $0.burst) }! == (10, 600))
        #expect(Rate("1/h").map { ($0.perSecond, $0.burst) }! == (1.0 / 3600, 1))
        for bad in ["", "20", "20/d", "x/s", "-1/s", "20/s burst", "20/s burst x", "20/s 40"] { #expect(Rate(bad) == nil, "\(bad)") }
    }

    @Test("accurate within 1% over 10 s of steady load: burst, then the rate")
    func accuracy() {
        let clock = ManualClock()
        let limiter = RateLimiter(limits: ["ops": .init(team: Rate("20/s burst 40")!, operations: [])], clock: clock)
        var admitted = 0
        for _ in 0..<10_000 {  // a call every millisecond for 10 s
            if limiter.admit(team: "ops", service: "networkmanager", operation: "GetLinks") == nil { admitted += 1 }
            clock.advance(0.001)
        }
        let expected = 40.0 + 20 * 10
        #expect(abs(Double(admitted) - expected) / expected < 0.01, "\(admitted)")
    }

    @Test("an operation's own bucket and the team's both apply; the wait is reported")
    func patternBuckets() {
        let clock = ManualClock()
        let limits = RateLimiter.TeamLimits(team: Rate("100/s")!, operations: [(OperationPattern("networkmanager:Create*")!, Rate("1/s")!)])
        let limiter = RateLimiter(limits: ["ops": limits], clock: clock)
        #expect(limiter.admit(team: "ops", service: "networkmanager", operation: "CreateConnection") == nil)
        let wait = limiter.admit(team: "ops", service: "networkmanager", operation: "CreateLink")
        #expect(wait == 1000)
        #expect(limiter.admit(team: "ops", service: "networkmanager", operation: "GetLinks") == nil)
        clock.advance(0.5)
        #expect(limiter.admit(team: "ops", service: "networkmanager", operation: "CreateLink") == 500)
        clock.advance(0.5)
        #expect(limiter.admit(team: "ops", service: "networkmanager", operation: "CreateLink") == nil)
        #expect(limiter.admit(team: "other", service: "networkmanager", operation: "CreateLink") == nil)
    }

    @Test("a reload keeps the tokens of unchanged buckets; a changed rate or a new team starts full")
    func reload() {
        let clock = ManualClock()
        let pattern = OperationPattern("s:Get*")!
        let limits = RateLimiter.TeamLimits(team: Rate("1/s")!, operations: [(pattern, Rate("1/s")!)])
        let limiter = RateLimiter(limits: ["ops": limits], clock: clock)
        #expect(limiter.admit(team: "ops", service: "s", operation: "GetA") == nil)
        #expect(limiter.admit(team: "ops", service: "s", operation: "Put") == 1000)
        limiter.update(limits: ["ops": limits, "dev": limits])
        #expect(limiter.admit(team: "ops", service: "s", operation: "Put") == 1000, "the same team rate keeps its empty bucket")
        #expect(limiter.admit(team: "dev", service: "s", operation: "GetA") == nil, "a new team starts full")
        // The team's rate changes, the pattern's does not: only the team's bucket is new.
        limiter.update(limits: ["ops": RateLimiter.TeamLimits(team: Rate("2/s")!, operations: [(pattern, Rate("1/s")!)])])
        #expect(limiter.admit(team: "ops", service: "s", operation: "GetA") == 1000, "the pattern's bucket is still empty")
        #expect(limiter.admit(team: "ops", service: "s", operation: "Put") == nil)
        #expect(limiter.admit(team: "ops", service: "s", operation: "Put") == nil)
        #expect(limiter.admit(team: "ops", service: "s", operation: "Put") == 500)
        limiter.update(limits: [:])
        #expect(limiter.admit(team: "ops", service: "s", operation: "Put") == nil, "no limits left")
        #expect(limiter.admit(team: "dev", service: "s", operation: "GetA") == nil)
    }

    @Test("after AWS throttles, that team's operation is held back, less so as calls succeed")
    func adaptive() {
        let clock = ManualClock()
        let limiter = RateLimiter(limits: [:], clock: clock)
        limiter.holdLocally(team: "ops", service: "s", operation: "Op")
        #expect(limiter.admit(team: "ops", service: "s", operation: "Op") != nil)
        #expect(limiter.admit(team: "ops", service: "s", operation: "Other") == nil)
        #expect(limiter.admit(team: "dev", service: "s", operation: "Op") == nil)
        limiter.holdLocally(team: "ops", service: "s", operation: "Op")
        let longer = limiter.admit(team: "ops", service: "s", operation: "Op")!
        #expect(longer >= 90 && longer <= 101)
        clock.advance(0.2)
        #expect(limiter.admit(team: "ops", service: "s", operation: "Op") == nil)
        limiter.easeLocally(team: "ops", service: "s", operation: "Op")
        limiter.easeLocally(team: "ops", service: "s", operation: "Op")
        clock.advance(1)
        #expect(limiter.admit(team: "ops", service: "s", operation: "Op") == nil)
        #expect(limiter.admit(team: "ops", service: "s", operation: "Op") == nil)
    }

    @Test("under contention from many threads the count stays at the burst")
    func contention() async {
        let limiter = RateLimiter(limits: ["ops": .init(team: Rate("1/h burst 500")!, operations: [])])
        let admitted = await withTaskGroup(of: Int.self) { group in
            for _ in 0..<8 {
                group.addTask {
                    var count = 0
                    for _ in 0..<200 where limiter.admit(team: "ops", service: "s", operation: "Op") == nil { count += 1 }
                    return count
                }
            }
            return await group.reduce(0, +)
        }
        #expect(admitted >= 500 && admitted <= 508)
    }
}
