import Synchronization

/// Calls the gateway has admitted and not yet answered. The gateway counts them; what
/// adapts to load reads the count (the event loops' polling and flushing, at every event:
/// hence an atomic, made before the gateway so that the loops can be tuned first).
public final class CallsInFlight: Sendable {
    private let count = Atomic<Int>(0)

    public init() {}

    public var current: Int { count.load(ordering: .relaxed) }

    /// Counts a call in, unless `limit` are in flight already.
    func admit(limit: Int) -> Bool {
        var now = count.load(ordering: .relaxed)
        while now < limit {
            let (taken, found) = count.compareExchange(expected: now, desired: now + 1, ordering: .relaxed)
            if taken { return true }
            now = found
        }
        return false
    }

    /// A call admitted by `admit` was answered.
    func release() { count.wrappingSubtract(1, ordering: .relaxed) }
}
