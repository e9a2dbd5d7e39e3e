import NIOCore
import NIOPosix
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// How long an event loop keeps polling after its last work before it sleeps: the rule,
/// adapted to what the loop sees (the kernel's haltpoll governor, in user space).
///
/// Waking a sleeping thread is what a call at concurrency 1 mostly pays for: on a virtual
/// machine whose idle CPUs halt, each wake-up costs tens of µs (BENCHMARKS.md has the
/// figures). A proxied call has two more than a
/// direct one (the upstream's answer, the caller's next request). A loop that keeps polling
/// for a moment after it wrote a request or an answer takes what comes next without
/// sleeping. Polling only pays when the next event comes soon, so the window follows the
/// gaps the loop sees (one window for each kind of wait, `IdleWait`): a gap the window
/// missed but `limit` would have caught doubles it; a gap longer than `limit` (an upstream
/// that takes milliseconds, a quiet caller) halves it, so a loop soon stops polling for an
/// AWS that answers in milliseconds, and keeps polling for a caller that comes straight back.
package struct IdlePollWindow {
    /// The longest window, in nanoseconds (`idle_poll`); 0 turns polling off.
    package let limit: Int64
    /// The window now, in nanoseconds: 0 until a gap shows that polling would pay.
    private(set) var current: Int64 = 0
    /// Where a window that grows from nothing starts.
    package var growStart: Int64 { min(limit, 10_000) }

    package init(limit: Int64) { self.limit = max(0, limit) }

    /// Adapts the window to one gap between the loop's last work and the next event.
    package mutating func observe(gap: Int64) {
        if gap <= current { return }  // caught while polling: the window is right
        if gap <= limit {
            current = min(limit, max(growStart, current * 2))
        } else {
            current /= 2
        }
    }
}

/// What a loop waits for after its work: its two kinds of gaps differ (AWS takes
/// milliseconds where a caller's next request may come in microseconds), so each has its
/// own window.
package enum IdleWait: Int {
    /// The loop wrote an answer: a caller's next request comes next.
    case caller
    /// The loop wrote a request upstream: its answer comes next.
    case upstream
}

/// Keeps one event loop polling for its window after work. It owns a pipe whose read end
/// is a channel on the loop: a byte in the pipe makes the loop's next `epoll_wait` return
/// at once; reading it, the poller puts another while the window lasts. With the window
/// over, the pipe stays empty and the loop sleeps as usual. Used only on its loop.
package final class IdlePoller: ChannelInboundHandler, @unchecked Sendable {
    package typealias InboundIn = ByteBuffer

    /// A window per kind of wait (`IdleWait`), and the kind the loop is in.
    private(set) var windows: [IdlePollWindow]
    private(set) var awaiting = IdleWait.caller
    private var window: IdlePollWindow { windows[awaiting.rawValue] }
    private var writeEnd: CInt
    /// When the loop last did work or saw an event (uptime nanoseconds).
    private var lastActive: UInt64 = 0
    /// Whether a byte is in the pipe (or being read).
    private(set) var polling = false
    /// Rounds polled (bytes read from the pipe) since the start.
    private(set) var rounds = 0

    /// Calls the gateway carries now. Polling is for a lone caller: with more calls their
    /// events come close together and share wake-ups, and a polling thread would take a
    /// CPU they need.
    private let callsInFlight: @Sendable () -> Int
    /// Events left before the loop may poll again, after it last saw more than one call
    /// in flight: a crowd is remembered for a while, not just while it is seen.
    private var crowdMemory = 0
    package static let crowdEvents = 256

    private init(limit: Int64, writeEnd: CInt, callsInFlight: @escaping @Sendable () -> Int) {
        windows = [IdlePollWindow(limit: limit), IdlePollWindow(limit: limit)]
        self.writeEnd = writeEnd
        self.callsInFlight = callsInFlight
    }

    /// Whether the gateway carries more than one call now or did lately; when it does,
    /// the loop stops polling and forgets its last work (no gap is measured across a crowd).
    private func crowded() -> Bool {
        if crowdMemory > 0 {
            crowdMemory -= 1
            // In a crowd the shared count (a cache line both loops write at every call) is
            // read at every 16th event only: the crowd is then remembered 241-256 events.
            if crowdMemory & 15 == 0 && callsInFlight() > 1 { crowdMemory = IdlePoller.crowdEvents }
        } else if callsInFlight() > 1 {
            crowdMemory = IdlePoller.crowdEvents
        } else {
            return false
        }
        lastActive = 0
        return true
    }

    /// Starts a poller on `loop` with windows up to `limit`; nil when `limit` is zero.
    static func start(on loop: EventLoop, limit: TimeAmount, callsInFlight: @escaping @Sendable () -> Int) throws -> IdlePoller? {
        guard limit > .zero else { return nil }
        var ends: [CInt] = [-1, -1]
        guard pipe(&ends) == 0 else { throw IOError(errnoCode: errno, reason: "pipe") }
        for end in ends {
            _ = fcntl(end, F_SETFL, O_NONBLOCK)
            _ = fcntl(end, F_SETFD, FD_CLOEXEC)
        }
        let poller = IdlePoller(limit: limit.nanoseconds, writeEnd: ends[1], callsInFlight: callsInFlight)
        do {
            _ = try NIOPipeBootstrap(group: loop)
                .channelOption(ChannelOptions.recvAllocator, value: FixedSizeRecvByteBufferAllocator(capacity: 64))
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(poller) }
                }
                .takingOwnershipOfDescriptor(input: ends[0]).wait()
        } catch {
            close(ends[1])
            throw error
        }
        return poller
    }

    /// An event came in on this loop (a request, an upstream answer): the gap since the
    /// loop's last work adapts the window, which starts again from now.
    @inline(__always)
    package func event() {
        // The clock is read only when the loop may poll (a crowd skips it).
        if crowded() { return }
        observeEvent(at: NIODeadline.now().uptimeNanoseconds)
    }

    /// This loop just did work (wrote a request upstream, an answer to a caller) and now
    /// waits for what `awaiting` names: that kind's window starts from now.
    @inline(__always)
    package func work(awaiting: IdleWait) {
        if crowded() { return }
        observeWork(awaiting: awaiting, at: NIODeadline.now().uptimeNanoseconds)
    }

    /// An event at `now` (uptime nanoseconds): the gap adapts the window of what the loop
    /// waited for.
    package func event(at now: UInt64) {
        if crowded() { return }
        observeEvent(at: now)
    }

    private func observeEvent(at now: UInt64) {
        if lastActive != 0 { windows[awaiting.rawValue].observe(gap: Int64(truncatingIfNeeded: now &- lastActive)) }
        lastActive = now
        startPolling()
    }

    /// Work at `now` (uptime nanoseconds), after which the loop waits for `awaiting`.
    package func work(awaiting: IdleWait, at now: UInt64) {
        if crowded() { return }
        observeWork(awaiting: awaiting, at: now)
    }

    private func observeWork(awaiting: IdleWait, at now: UInt64) {
        self.awaiting = awaiting
        lastActive = now
        startPolling()
    }

    private func startPolling() {
        guard !polling, window.current > 0, writeEnd >= 0 else { return }
        polling = poke()
    }

    private func poke() -> Bool {
        var byte: UInt8 = 1
        return write(writeEnd, &byte, 1) == 1
    }

    /// The byte was read: the loop is polling. Put another while the window lasts.
    package func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        rounds += 1
        let idle = Int64(truncatingIfNeeded: NIODeadline.now().uptimeNanoseconds &- lastActive)
        polling = !crowded() && idle < window.current && writeEnd >= 0 && poke()
    }

    package func channelInactive(context: ChannelHandlerContext) {
        if writeEnd >= 0 { close(writeEnd) }
        writeEnd = -1
        polling = false
        context.fireChannelInactive()
    }
}
