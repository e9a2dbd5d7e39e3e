import AWSClient
import Foundation
import Testing

@Suite("Standard retry mode")
struct RetryTests {
    @Test("the quota pays for retries and is paid back by successes")
    func quota() {
        let quota = RetryQuota(settings: RetrySettings())
        #expect(quota.available == 500)
        #expect(quota.acquire(for: .transient) == 14)
        #expect(quota.acquire(for: .throttling) == 5)
        #expect(quota.available == 481)
        quota.release(lastRetryCost: 14)
        #expect(quota.available == 495)
        quota.release(lastRetryCost: nil)
        #expect(quota.available == 496)
        for _ in 0..<40 { quota.release(lastRetryCost: 14) }
        #expect(quota.available == 500)
        var spent = 0
        while quota.acquire(for: .transient) != nil { spent += 1 }
        #expect(spent == 35)
        #expect(quota.available == 10)
        #expect(quota.acquire(for: .throttling) == 5)
    }

    @Test("backoff: full jitter under the exponential ceiling, capped; retry-after wins")
    func backoff() {
        let quota = RetryQuota(settings: RetrySettings())
        for attempt in 1...12 {
            let transient = quota.backoff(kind: .transient, attempt: attempt, retryAfterMs: nil)
            #expect(transient >= 0 && transient <= min(20, 0.05 * pow(2, Double(attempt - 1))))
            let throttled = quota.backoff(kind: .throttling, attempt: attempt, retryAfterMs: nil)
            #expect(throttled >= 0 && throttled <= min(20, 1.0 * pow(2, Double(attempt - 1))))
        }
        #expect(quota.backoff(kind: .transient, attempt: 1, retryAfterMs: 2500) == 2.5)
        #expect(quota.backoff(kind: .transient, attempt: 1, retryAfterMs: 90_000) == 20)
    }

    @Test("AWS_MAX_ATTEMPTS sets the attempts")
    func maxAttempts() {
        #expect(RetrySettings.fromEnvironment(["AWS_MAX_ATTEMPTS": "5"]).maxAttempts == 5)
        #expect(RetrySettings.fromEnvironment(["AWS_MAX_ATTEMPTS": "0"]).maxAttempts == 3)
        #expect(RetrySettings.fromEnvironment([:]).maxAttempts == 3)
    }
}
