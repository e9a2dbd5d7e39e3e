import NIOCore
import Synchronization

/// Who waits for a caller's connection to close (streams that end the request to AWS when
/// it does), one list per connection: a stream that ends takes itself off, so a connection
/// that carries many streams does not gather them.
final class HangUps: Sendable {
    private struct State {
        var waiting: [Int: @Sendable () -> Void] = [:]
        var next = 0
        var closed = false
    }
    private let state = Mutex(State())

    init(channel: Channel) {
        channel.closeFuture.whenComplete { _ in self.close() }
    }

    /// Runs `hangUp` when the connection closes (now, if it has); the result takes it off.
    func add(_ hangUp: @escaping @Sendable () -> Void) -> @Sendable () -> Void {
        let id: Int? = state.withLock { state in
            guard !state.closed else { return nil }
            state.next += 1
            state.waiting[state.next] = hangUp
            return state.next
        }
        guard let id else {
            hangUp()
            return {}
        }
        return { [weak self] in self?.remove(id) }
    }

    /// How many wait (for tests).
    var count: Int { state.withLock { $0.waiting.count } }

    private func remove(_ id: Int) {
        state.withLock { _ = $0.waiting.removeValue(forKey: id) }
    }

    private func close() {
        let all = state.withLock { state in
            state.closed = true
            defer { state.waiting = [:] }
            return Array(state.waiting.values)
        }
        for hangUp in all { hangUp() }
    }
}
