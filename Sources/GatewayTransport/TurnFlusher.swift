import NIOCore
import NIOPosix

/// Gathers an event loop's flushes: with many calls in flight, what the loop writes in a
/// turn is flushed at the end of the turn, after its events and jobs, instead of write by
/// write.
///
/// Why: every flush is a `write` that wakes its reader if it sleeps (nginx or AWS's
/// connection, a caller). With many calls a loop writes to the same reader many times a
/// turn, a few µs apart: the reader wakes, takes one message, sleeps, and is woken again,
/// and on a virtual machine each wake-up of another CPU is an interrupt that costs the
/// writer and preempts whatever runs there. Written back to back, the first write wakes
/// the reader and the rest find it awake (more calls/s and less CPU per call under load:
/// BENCHMARKS.md). With few calls there is little to gather and a deferred flush only
/// waits for the rest of the turn, so up to `crowd` calls in flight every write is flushed
/// at once. A crowded turn gathers every write, its first included: flushing the first at
/// once for its latency gave fewer calls/s, not more.
/// Used only on its loop.
package final class TurnFlusher: @unchecked Sendable {
    private let loop: EventLoop
    /// Calls in flight above which flushes are gathered.
    package let crowd: Int
    /// Calls the gateway carries now.
    private let callsInFlight: @Sendable () -> Int
    /// Contexts written to in this turn and not flushed yet, in the order of their writes.
    private var written: [ChannelHandlerContext] = []
    private var spare: [ChannelHandlerContext] = []
    /// Whether a job to flush `written` is queued.
    private var scheduled = false

    package init(loop: EventLoop, crowd: Int, callsInFlight: @escaping @Sendable () -> Int) {
        self.loop = loop
        self.crowd = crowd
        self.callsInFlight = callsInFlight
    }

    /// `context` was written to: flush it at the end of the turn if the gateway is
    /// crowded, else now.
    package func flush(_ context: ChannelHandlerContext) {
        if scheduled {
            // A connection written to twice in a row is flushed once.
            if written.last !== context { written.append(context) }
            return
        }
        guard callsInFlight() > crowd else {
            context.flush()
            return
        }
        written.append(context)
        scheduled = true
        // A job queued now runs after the jobs already queued and the events being handled.
        loop.execute { self.flushWritten() }
    }

    private func flushWritten() {
        scheduled = false
        swap(&written, &spare)
        for context in spare { context.flush() }
        spare.removeAll(keepingCapacity: true)
    }
}

/// Flushes a connection before it is closed, whoever closes it (an answer's handler, the
/// connection limit, shutdown): a write whose flush `TurnFlusher` left for the end of the
/// turn would otherwise be dropped, where before it had reached the socket at once. Sits
/// on the caller's side of TLS, so that the flush also encrypts what TLS holds.
package final class FlushBeforeClose: ChannelOutboundHandler, Sendable {
    package typealias OutboundIn = NIOAny

    package init() {}

    package func close(context: ChannelHandlerContext, mode: CloseMode, promise: EventLoopPromise<Void>?) {
        context.flush()
        context.close(mode: mode, promise: promise)
    }
}
