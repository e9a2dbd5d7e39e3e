import GatewayCore
import GatewayTransport
import NIOCore
import NIOPosix

/// Runs a task's jobs on a NIO event loop, so that a call's async pipeline stays on the
/// connection's own thread instead of hopping to the global pool and back. A connection
/// keeps one for all its calls.
final class EventLoopTaskExecutor: TaskExecutor, @unchecked Sendable {
    let eventLoop: EventLoop

    init(_ eventLoop: EventLoop) { self.eventLoop = eventLoop }

    func enqueue(_ job: consuming ExecutorJob) {
        // Run as this task executor. NIO's own `enqueue` (no closure per job) runs a job on
        // the loop's serial executor instead, and the task then hops back here at each
        // nonisolated call it enters, which costs more than the closure saves.
        let job = UnownedJob(job)
        eventLoop.execute { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }

    /// Set while `call` runs a task's first part in place.
    private var starting = false

    /// Runs `door.handle` as a task on this loop and hands its answer to `then`, on this
    /// loop (called from the loop).
    /// No future or promise in between: a call's answer goes straight to its connection.
    /// The task starts at once, in the caller's frame (no job queued for the loop's next
    /// tick); an answer ready before `call` returns (a refusal, an error) is handed over
    /// on the loop's next tick instead, so that `then` never runs inside its caller.
    /// The call's inputs are taken as they are, not in a closure: one context per task.
    func call(_ door: JSONRPCDoor, _ bytes: [UInt8], _ context: CallContext, then: @escaping (GatewayAnswer) -> Void) {
        let loop = eventLoop
        let then = NIOLoopBound(then, eventLoop: loop)
        starting = true
        Task.immediate(executorPreference: self) {
            let answer = await door.handle(bytes, context: context)
            if loop.inEventLoop && !self.starting {
                then.value(answer)
            } else {
                loop.execute { then.value(answer) }
            }
        }
        starting = false
    }
}

extension EventLoop {
    /// Runs an async body as a task on this event loop and completes a future with it.
    func runOnLoop<T: Sendable>(_ body: @escaping @Sendable () async -> T) -> EventLoopFuture<T> {
        let promise = makePromise(of: T.self)
        Task(executorPreference: EventLoopTaskExecutor(self)) { promise.succeed(await body()) }
        return promise.futureResult
    }
}
