import AWSProtocols
import Foundation
import Synchronization

/// The SDKs' *standard* retry mode, in its 2026 form.
public struct RetrySettings: Sendable {
    /// Attempts in all, the first included (`AWS_MAX_ATTEMPTS`).
    public var maxAttempts = 3
    /// Full-jitter exponential backoff bases and cap, in seconds.
    public var transientBase = 0.05
    public var throttlingBase = 1.0
    public var maxBackoff = 20.0
    /// The retry quota: a retry spends tokens, a success gives some back.
    public var quotaCapacity = 500
    public var retryCost = 14
    public var throttlingRetryCost = 5
    public var noRetryIncrement = 1

    public init() {}

    /// `AWS_MAX_ATTEMPTS` from the environment, when it is a positive integer.
    public static func fromEnvironment(_ environment: [String: String]) -> RetrySettings {
        var settings = RetrySettings()
        if let value = environment["AWS_MAX_ATTEMPTS"].flatMap(Int.init), value >= 1 { settings.maxAttempts = value }
        return settings
    }
}

/// Why an attempt failed, for deciding whether to try again.
public enum FailureKind: Sendable, Equatable {
    case throttling
    case transient
    case permanent
}

public enum RetryClassifier {
    /// botocore's lists (retries/standard.py).
    static let throttlingCodes: Set<String> = [
        "Throttling", "ThrottlingException", "ThrottledException", "RequestThrottledException", "TooManyRequestsException",
        "ProvisionedThroughputExceededException", "TransactionInProgressException", "RequestLimitExceeded",
        "BandwidthLimitExceeded", "LimitExceededException", "RequestThrottled", "SlowDown", "PriorRequestNotComplete",
        "EC2ThrottledException",
    ]
    static let transientCodes: Set<String> = ["RequestTimeout", "RequestTimeoutException", "PriorRequestNotComplete", "CRC32CheckFailed"]
    static let transientStatuses: Set<Int> = [500, 502, 503, 504]

    public static func classify(_ error: AWSErrorResponse) -> FailureKind {
        if error.inStream { return .permanent }
        if let shape = error.shape, shape.isRetryable { return shape.isThrottlingRetry ? .throttling : .transient }
        if throttlingCodes.contains(error.code) { return .throttling }
        if transientCodes.contains(error.code) || transientStatuses.contains(error.httpStatus) { return .transient }
        return .permanent
    }
}

/// The shared retry quota (one per gateway): retries stop when AWS keeps failing.
public final class RetryQuota: Sendable {
    private let tokens: Mutex<Int>
    let settings: RetrySettings

    public init(settings: RetrySettings) {
        self.settings = settings
        tokens = Mutex(settings.quotaCapacity)
    }

    public var available: Int { tokens.withLock { $0 } }

    /// Takes the cost of one retry, or says no when the quota cannot pay it.
    public func acquire(for kind: FailureKind) -> Int? {
        let cost = kind == .throttling ? settings.throttlingRetryCost : settings.retryCost
        return tokens.withLock { available in
            guard available >= cost else { return nil }
            available -= cost
            return cost
        }
    }

    /// A call succeeded: give back what its last retry cost, or a token if it needed none.
    public func release(lastRetryCost: Int?) {
        tokens.withLock { available in
            available = min(settings.quotaCapacity, available + (lastRetryCost ?? settings.noRetryIncrement))
        }
    }

    /// Full jitter: a random delay up to base × 2^(attempt-1), capped.
    public func backoff(kind: FailureKind, attempt: Int, retryAfterMs: Int?) -> Double {
        if let retryAfterMs { return min(max(Double(retryAfterMs) / 1000, 0), settings.maxBackoff) }
        let base = kind == .throttling ? settings.throttlingBase : settings.transientBase
        let ceiling = min(settings.maxBackoff, base * pow(2, Double(attempt - 1)))
        return Double.random(in: 0...ceiling)
    }
}
