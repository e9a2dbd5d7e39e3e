import AWSSigning
import Foundation

/// Keeps a source's credentials and gets new ones ahead of their expiry, as the SDKs'
/// refreshable credentials do, with what a shared gateway needs on top:
/// - calls never wait for a refresh while the credentials they have are still usable: the
///   refresh runs beside them, one at a time (single flight);
/// - a failed refresh keeps the usable credentials and is tried again after a backoff
///   (1 s doubling to 5 min); only when nothing usable is left do calls see the error;
/// - long-lived keys (no expiry) are read again every `reloadSeconds`, so edited files
///   take effect without a restart.
public final class RefreshingCredentialProvider: CredentialProvider, @unchecked Sendable {
    public struct Timing: Sendable {
        /// Refresh this long before expiry (botocore's advisory window, 15 minutes), or at
        /// half the credentials' lifetime when that is shorter, so short-lived sessions are
        /// not fetched again on every call.
        public var advisorySeconds: TimeInterval = 15 * 60
        /// Credentials this close to expiry are no longer used: a request signed now must
        /// still be valid when AWS receives it.
        public var usableMarginSeconds: TimeInterval = 60
        public var reloadSeconds: TimeInterval = 300
        public var firstBackoffSeconds: TimeInterval = 1
        public var maxBackoffSeconds: TimeInterval = 300
        public init() {}
    }

    /// What metrics and `credentials check` show of a source (never a key).
    public struct Status: Sendable {
        public var refreshes = 0
        public var failures = 0
        public var expiration: Date?
        public var lastError: String?
    }

    let inner: any CredentialProvider
    let timing: Timing
    let now: @Sendable () -> Date
    private let lock = NSLock()
    private var current: (credentials: Credentials, fetched: Date)?
    private var refreshing: Task<Result<Credentials, CredentialsError>, Never>?
    private var retryAfter: Date?
    private var lastError: CredentialsError?
    private var backoff: TimeInterval = 0
    private var status = Status()

    public var sourceName: String { inner.sourceName }

    public init(_ inner: any CredentialProvider, timing: Timing = Timing(), now: @escaping @Sendable () -> Date = { Date() }) {
        self.inner = inner
        self.timing = timing
        self.now = now
    }

    public var currentStatus: Status { lock.withLock { status } }

    public func credentials() async throws(CredentialsError) -> Credentials {
        enum Next {
            case use(Credentials)
            case wait(Task<Result<Credentials, CredentialsError>, Never>)
            case fail(CredentialsError)
        }
        let next: Next = lock.withLock {
            let time = now()
            if let current, isUsable(current.credentials, at: time) {
                if needsRefresh(current, at: time), refreshing == nil, retryAfter.map({ time >= $0 }) ?? true { startRefresh() }
                return .use(current.credentials)
            }
            if let refreshing { return .wait(refreshing) }
            if let retryAfter, time < retryAfter, let lastError { return .fail(lastError) }
            return .wait(startRefresh())
        }
        switch next {
        case .use(let credentials): return credentials
        case .fail(let error): throw error
        case .wait(let task): return try await task.value.get()
        }
    }

    /// Starts the one refresh (the lock is held by the caller).
    @discardableResult
    private func startRefresh() -> Task<Result<Credentials, CredentialsError>, Never> {
        let task = Task { [inner] () -> Result<Credentials, CredentialsError> in
            let result: Result<Credentials, CredentialsError>
            do throws(CredentialsError) {
                result = .success(try await inner.credentials())
            } catch {
                result = .failure(error)
            }
            return self.finish(result)
        }
        refreshing = task
        return task
    }

    /// Records a refresh's outcome; what waiting calls get (credentials already too close
    /// to expiry count as a failure).
    private func finish(_ result: Result<Credentials, CredentialsError>) -> Result<Credentials, CredentialsError> {
        lock.withLock {
            let time = now()
            refreshing = nil
            switch result {
            case .success(let credentials) where isUsable(credentials, at: time):
                current = (credentials, time)
                retryAfter = nil
                lastError = nil
                backoff = 0
                status.refreshes += 1
                status.expiration = credentials.expiration
                status.lastError = nil
                return result
            case .success(let credentials):
                let error = CredentialsError(source: inner.sourceName, reason:
                    "the credentials given expire at \(credentials.expiration.map(iso8601) ?? "?"), already past or too close")
                fail(error, at: time)
                return .failure(error)
            case .failure(let error):
                fail(error, at: time)
                return result
            }
        }
    }

    /// Keeps what is usable; the next try waits 1 s, then twice as long after each failure.
    private func fail(_ error: CredentialsError, at time: Date) {
        status.failures += 1
        status.lastError = error.reason
        backoff = backoff == 0 ? timing.firstBackoffSeconds : min(backoff * 2, timing.maxBackoffSeconds)
        retryAfter = time.addingTimeInterval(backoff)
        lastError = error
    }

    private func isUsable(_ credentials: Credentials, at time: Date) -> Bool {
        guard let expiration = credentials.expiration else { return true }
        return expiration.timeIntervalSince(time) > timing.usableMarginSeconds
    }

    private func needsRefresh(_ current: (credentials: Credentials, fetched: Date), at time: Date) -> Bool {
        guard let expiration = current.credentials.expiration else {
            return time.timeIntervalSince(current.fetched) >= timing.reloadSeconds
        }
        let lifetime = expiration.timeIntervalSince(current.fetched)
        let window = min(timing.advisorySeconds, lifetime / 2)
        return expiration.timeIntervalSince(time) <= window
    }
}

/// `2026-11-30T12:00:00Z`, as AWS writes expirations.
func iso8601(_ date: Date) -> String {
    ISO8601DateFormatter().string(from: date)
}
