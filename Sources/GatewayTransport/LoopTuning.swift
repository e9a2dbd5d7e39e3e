import NIOCore
import NIOPosix

/// What the gateway tunes on one of its event loops: idle polling after work
/// (`IdlePoller`) and flushes gathered per turn (`TurnFlusher`). Whatever runs on the loop
/// (a listener's connection handlers, the upstream pool) is handed its loop's tuning when
/// its channel is added and tells it of its events, work and writes. Off the gateway's
/// loops (an embedded channel in a test, a client of its own) `LoopTuning.none` polls
/// nothing and flushes every write at once. Used only on its loop.
package final class LoopTuning: @unchecked Sendable {
    package let poller: IdlePoller?
    package let flusher: TurnFlusher?

    package static let none = LoopTuning(poller: nil, flusher: nil)

    init(poller: IdlePoller?, flusher: TurnFlusher?) {
        self.poller = poller
        self.flusher = flusher
    }

    /// An event came in on this loop (a request, an upstream answer).
    @inline(__always)
    package func event() { poller?.event() }

    /// This loop just did work and now waits for what `awaiting` names.
    @inline(__always)
    package func work(awaiting: IdleWait) { poller?.work(awaiting: awaiting) }

    /// Writes `data` to `context` and flushes it now or at the end of this turn of the
    /// loop (`TurnFlusher`; at once without a flusher).
    @inline(__always)
    package func writeAndFlush(_ context: ChannelHandlerContext, _ data: NIOAny) {
        if let flusher {
            context.write(data, promise: nil)
            flusher.flush(context)
        } else {
            context.writeAndFlush(data, promise: nil)
        }
    }
}

/// The tuning of each loop of a group, made once when the gateway is wired and looked up
/// by loop (once per channel, not per event).
package struct LoopTunings: Sendable {
    private let byLoop: [ObjectIdentifier: LoopTuning]

    /// No tuning on any loop.
    package static let none = LoopTunings(byLoop: [:])

    private init(byLoop: [ObjectIdentifier: LoopTuning]) { self.byLoop = byLoop }

    /// Gives each loop of `group` a poller with windows up to `idlePoll` (none when it is
    /// zero) and a flusher gathering flushes above `flushCrowd` calls in flight (two per
    /// loop when nil). `callsInFlight` counts the gateway's calls: both tunings stand down
    /// while it is low or high.
    package init(group: MultiThreadedEventLoopGroup, idlePoll: TimeAmount, flushCrowd: Int? = nil,
                 callsInFlight: @escaping @Sendable () -> Int) throws {
        let loops = Array(group.makeIterator())
        var byLoop: [ObjectIdentifier: LoopTuning] = [:]
        for loop in loops {
            let poller = try IdlePoller.start(on: loop, limit: idlePoll, callsInFlight: callsInFlight)
            let flusher = TurnFlusher(loop: loop, crowd: flushCrowd ?? 2 * loops.count, callsInFlight: callsInFlight)
            byLoop[ObjectIdentifier(loop)] = LoopTuning(poller: poller, flusher: flusher)
        }
        self.byLoop = byLoop
    }

    /// The tuning of `loop`; `LoopTuning.none` for a loop not of the group.
    package func on(_ loop: EventLoop) -> LoopTuning { byLoop[ObjectIdentifier(loop)] ?? .none }
}
