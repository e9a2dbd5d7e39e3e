import AWSCredentials
import Foundation
import Prometheus
import Synchronization

/// The gateway's metrics, served on `GET /metrics` in Prometheus text format.
public final class GatewayMetrics: Sendable {
    public let registry = PrometheusCollectorRegistry()
    /// Call counters by outcome, then method (no key string made per call).
    private let calls = Mutex<[String: [String: Counter]]>([:])
    private let latency: ValueHistogram
    private let attempts: Counter
    let inFlight: Gauge
    public let connections: Gauge
    public let rejectedConnections: Counter
    let auditDropped: Counter
    /// Calls refused because the gateway had `max_in_flight` calls already (-32003).
    public let overloadedCalls: Counter
    /// Idle keep-alive connections closed to make room for a new one.
    public let reapedConnections: Counter
    /// The shared store (`shared:`): 1 while it answers, 0 during an outage.
    public let sharedStoreUp: Gauge
    /// Shared-store commands that failed (timeout, refused, malformed reply).
    public let sharedStoreFailures: Counter
    /// Calls decided without the shared store because it was unavailable: by the replica's
    /// own buckets (`on_failure: local`) or refused (`deny`).
    public let rateLimitFallbacks: Counter

    public init() {
        latency = registry.makeValueHistogram(
            descriptor: Self.named("awsgw_call_duration_seconds", help: "Time from a call's arrival to its answer"),
            buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30])
        attempts = registry.makeCounter(descriptor: Self.named("awsgw_upstream_attempts_total", help: "HTTP requests sent to AWS, retries included"))
        inFlight = registry.makeGauge(descriptor: Self.named("awsgw_calls_in_flight", help: "Calls being carried out"))
        connections = registry.makeGauge(descriptor: Self.named("awsgw_connections", help: "Open client connections"))
        rejectedConnections = registry.makeCounter(descriptor: Self.named("awsgw_connections_rejected_total", help: "Connections closed at once: over a connection limit"))
        overloadedCalls = registry.makeCounter(descriptor: Self.named("awsgw_calls_overloaded_total", help: "Calls refused with -32003: calls in flight at the limit"))
        reapedConnections = registry.makeCounter(descriptor: Self.named("awsgw_connections_reaped_total", help: "Idle connections closed to admit a new one at the limit"))
        sharedStoreUp = registry.makeGauge(descriptor: Self.named("awsgw_shared_store_up", help: "1 while the shared store (Redis) answers, 0 during an outage"))
        sharedStoreFailures = registry.makeCounter(descriptor: Self.named("awsgw_shared_store_failures_total", help: "Shared-store commands that failed"))
        rateLimitFallbacks = registry.makeCounter(descriptor: Self.named(
            "awsgw_rate_limit_fallback_total",
            help: "Calls decided without the shared store (own buckets, or refused with on_failure deny) because it was unavailable"))
        auditDropped = registry.makeCounter(descriptor: Self.named("awsgw_audit_dropped_total", help: "Audit records dropped because the log's queue was full"))
    }

    /// One finished call: by canonical method and outcome (`ok` or the JSON-RPC error code).
    public func recordCall(method: String, outcome: String, seconds: Double) {
        let counter = calls.withLock { cache -> Counter in
            if let existing = cache[outcome]?[method] { return existing }
            let made = registry.makeCounter(descriptor: Self.named("awsgw_calls_total", help: "Calls answered, by method and outcome"),
                                            labels: [("method", method), ("outcome", outcome)])
            cache[outcome, default: [:]][method] = made
            return made
        }
        counter.increment()
        latency.record(seconds)
    }

    /// A metric's whole name and help text (swift-prometheus builds names from parts; ours
    /// are written whole, so the unit part stays empty).
    static func named(_ name: String, help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(metricName: name, unitName: "", helpText: help)
    }

    public func recordAttempt() { attempts.increment() }

    public func recordAuditDrop() { auditDropped.increment() }

    private let cacheCounters = Mutex<[String: Counter]>([:])

    /// One cache decision: hit, miss, bypass, refresh or none (not cacheable).
    public func recordCache(_ result: String) {
        let counter = cacheCounters.withLock { cache -> Counter in
            if let existing = cache[result] { return existing }
            let made = registry.makeCounter(descriptor: Self.named("awsgw_cache_total", help: "Cache decisions for calls"), labels: [("result", result)])
            cache[result] = made
            return made
        }
        counter.increment()
    }

    public func text() -> [UInt8] { registry.emitToBuffer() }

    /// Each refreshing credential source (by its config name): fetches, failed fetches,
    /// and seconds until its current credentials expire (absent for long-lived keys).
    static func credentialText(_ sources: [(name: String, status: RefreshingCredentialProvider.Status)], now: Date) -> [UInt8] {
        guard !sources.isEmpty else { return [] }
        func label(_ name: String) -> String {
            name.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"").replacingOccurrences(of: "\n", with: "\\n")
        }
        var out = "# HELP awsgw_credential_refreshes_total Credentials fetched from each source\n# TYPE awsgw_credential_refreshes_total counter\n"
        for source in sources { out += "awsgw_credential_refreshes_total{source=\"\(label(source.name))\"} \(source.status.refreshes)\n" }
        out += "# HELP awsgw_credential_refresh_failures_total Failed fetches from each source\n# TYPE awsgw_credential_refresh_failures_total counter\n"
        for source in sources { out += "awsgw_credential_refresh_failures_total{source=\"\(label(source.name))\"} \(source.status.failures)\n" }
        let expiring = sources.compactMap { source in source.status.expiration.map { (source.name, $0.timeIntervalSince(now)) } }
        if !expiring.isEmpty {
            out += "# HELP awsgw_credential_expiry_seconds Seconds until each source's current credentials expire\n# TYPE awsgw_credential_expiry_seconds gauge\n"
            for (name, seconds) in expiring { out += "awsgw_credential_expiry_seconds{source=\"\(label(name))\"} \(Int(seconds))\n" }
        }
        return Array(out.utf8)
    }
}
