import AWSJSON
import Foundation
import GatewayCore
@testable import GatewayServer
import GatewayTesting
@testable import GatewayTransport
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import Testing

/// `idle_poll`: a loop keeps polling for a moment after work while the gateway carries one
/// call, so a lone caller does not pay for waking it (issue 14's latency at concurrency 1).
@Suite("Idle polling")
struct IdlePollingTests {
    @Test("the window grows on gaps it missed, up to the limit, and halves on longer ones")
    func windowRule() {
        var window = IdlePollWindow(limit: 100_000)
        #expect(window.current == 0)
        window.observe(gap: 60_000)
        #expect(window.current == 10_000)  // from nothing to where growing starts
        window.observe(gap: 4_000)
        #expect(window.current == 10_000)  // caught while polling: unchanged
        var seen: [Int64] = []
        for _ in 0..<4 {
            window.observe(gap: 90_000)
            seen.append(window.current)
        }
        #expect(seen == [20_000, 40_000, 80_000, 100_000])  // doubling, capped at the limit
        window.observe(gap: 100_001)
        #expect(window.current == 50_000)  // longer than the limit: polling would not have paid
        window.observe(gap: 5_000_000)
        window.observe(gap: 5_000_000)
        #expect(window.current == 12_500)

        var off = IdlePollWindow(limit: 0)
        off.observe(gap: 1)
        off.observe(gap: 1_000)
        #expect(off.current == 0)
    }

    /// The loop's poller, read on the loop.
    static func state(_ tunings: LoopTunings, _ loop: EventLoop) async throws -> (rounds: Int, polling: Bool, windows: [Int64]) {
        try await loop.submit {
            let poller = tunings.on(loop).poller!
            return (poller.rounds, poller.polling, poller.windows.map(\.current))
        }.get()
    }

    /// Waits until the loop has stopped polling; its rounds then.
    static func stopped(_ tunings: LoopTunings, _ loop: EventLoop) async throws -> Int {
        for _ in 0..<500 {
            let now = try await state(tunings, loop)
            if !now.polling { return now.rounds }
            try await Task.sleep(for: .milliseconds(10))
        }
        Issue.record("the loop kept polling for 5 s")
        return -1
    }

    /// An answer written, then the next request 3 ms later, by a lone call: opens the
    /// caller's window.
    static func openWindow(_ poller: IdlePoller, _ loop: EventLoop) async throws {
        try await loop.submit {
            let now = NIODeadline.now().uptimeNanoseconds
            poller.work(awaiting: .caller, at: now - 3_000_000)
            poller.event(at: now)
        }.get()
    }

    @Test("a loop polls after work for its window, then sleeps; not while more than one call is in flight, nor soon after")
    func pollerOnALoop() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let inFlight = NIOLockedValueBox(0)
        let tunings = try LoopTunings(group: group, idlePoll: .seconds(1), callsInFlight: { inFlight.withLockedValue { $0 } })
        let loop = group.next()
        let poller = tunings.on(loop).poller!

        // An answer written, then the next request 3 ms later: a gap under the limit opens
        // the window for the caller (10 µs).
        try await Self.openWindow(poller, loop)
        #expect(try await Self.state(tunings, loop).windows == [10_000, 0])
        // Bytes went round the pipe, then the window passed and the loop went back to sleeping.
        let polled = try await Self.stopped(tunings, loop)
        #expect(polled >= 1)
        try await Task.sleep(for: .milliseconds(30))
        #expect(try await Self.state(tunings, loop).rounds == polled)

        // Two calls in flight: no polling, whatever the gaps.
        inFlight.withLockedValue { $0 = 2 }
        try await loop.submit { poller.work(awaiting: .caller) }.get()
        try await loop.submit { poller.event() }.get()
        #expect(try await Self.state(tunings, loop).polling == false)
        // Back to one call: the crowd is remembered for a while.
        inFlight.withLockedValue { $0 = 1 }
        try await loop.submit {
            poller.work(awaiting: .caller)
            poller.event()
        }.get()
        let after = try await Self.state(tunings, loop)
        #expect(after.polling == false)
        #expect(after.rounds == polled)

        // Once the crowd is forgotten, a lone call's work polls again.
        try await loop.submit {
            for _ in 0...IdlePoller.crowdEvents { poller.work(awaiting: .caller) }
        }.get()
        #expect(try await Self.stopped(tunings, loop) > polled)
        try await group.shutdownGracefully()
    }

    @Test("a long crowd is remembered from its end, though the shared count is read at every 16th event only")
    func longCrowd() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let inFlight = NIOLockedValueBox(1)
        let reads = NIOLockedValueBox(0)
        let tunings = try LoopTunings(group: group, idlePoll: .seconds(1), callsInFlight: {
            reads.withLockedValue { $0 += 1 }
            return inFlight.withLockedValue { $0 }
        })
        let loop = group.next()
        let poller = tunings.on(loop).poller!
        try await Self.openWindow(poller, loop)
        let polled = try await Self.stopped(tunings, loop)
        // A crowd for 1,000 events, then a lone call: no polling for the next 240 events...
        inFlight.withLockedValue { $0 = 2 }
        let before = reads.withLockedValue { $0 }
        try await loop.submit { for _ in 0..<1_000 { poller.work(awaiting: .caller) } }.get()
        #expect(reads.withLockedValue { $0 } - before <= 1 + 1_000 / 16)
        inFlight.withLockedValue { $0 = 1 }
        try await loop.submit { for _ in 0..<240 { poller.work(awaiting: .caller) } }.get()
        #expect(try await Self.state(tunings, loop).polling == false)
        #expect(try await Self.state(tunings, loop).rounds == polled)
        // ...and polling again within 17 more.
        try await loop.submit { for _ in 0..<17 { poller.work(awaiting: .caller) } }.get()
        #expect(try await Self.stopped(tunings, loop) > polled)
        try await group.shutdownGracefully()
    }

    @Test("each kind of wait has its own window: a slow upstream stops polling for AWS, not for the caller")
    func windowPerWait() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let tunings = try LoopTunings(group: group, idlePoll: .microseconds(100), callsInFlight: { 1 })
        let loop = group.next()
        let windows = try await loop.submit {
            let poller = tunings.on(loop).poller!
            var now = NIODeadline.now().uptimeNanoseconds - 1_000_000_000
            var seen: [[Int64]] = []
            for _ in 0..<4 {
                poller.work(awaiting: .upstream, at: now)  // a request to AWS...
                now += 2_000_000
                poller.event(at: now)  // ...answered 2 ms later (over the limit)
                poller.work(awaiting: .caller, at: now)  // the answer written...
                now += 30_000
                poller.event(at: now)  // ...and the caller back 30 µs later
                seen.append(poller.windows.map(\.current))
            }
            return seen
        }.get()
        #expect(windows == [[10_000, 0], [20_000, 0], [40_000, 0], [40_000, 0]])
        try await group.shutdownGracefully()
    }

    @Test("idle_poll 0 installs nothing; a loop not of the group has no tuning")
    func off() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let tunings = try LoopTunings(group: group, idlePoll: .zero, callsInFlight: { 0 })
        #expect(tunings.on(group.next()).poller == nil)
        #expect(tunings.on(group.next()).flusher != nil)
        let other = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        #expect(tunings.on(other.next()) === LoopTuning.none)
        try await other.shutdownGracefully()
        try await group.shutdownGracefully()
    }

    @Test("a lone caller's calls through a gateway: every answer right, and the loops polled between them")
    func loneCaller() async throws {
        // A limit far above any gap here (a debug build, a busy machine), so that the window
        // opens: over the 10 ms the file may give, which is why it is set here, not parsed.
        let gw = try await TestGateway(listen: nil, configure: { $0.idlePollMicroseconds = 1_000_000 })
        do {
            let address = gw.address("unix")
            for id in 1...20 {
                let reply = try await httpExchange(address, body: rpc(.int(Int64(id)), "networkmanager.AssociateConnectPeer", associateParams))
                #expect(reply.status == 200)
                #expect(reply.json?.objectValue?["id"] == .int(Int64(id)))
                #expect(reply.json?.objectValue?["result"]?.objectValue?["ConnectPeerAssociation"] != nil)
            }
            var rounds = 0
            for loop in gw.group.makeIterator() { rounds += try await Self.state(gw.server.tunings, loop).rounds }
            #expect(rounds > 0)
        }
        await gw.stop()
    }
}
