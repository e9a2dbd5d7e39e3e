import NIOCore

/// Runs a task's jobs on a NIO event loop, so that a call's async pipeline stays on the
/// connection's own thread instead of hopping to the global pool and back.
final class EventLoopTaskExecutor: TaskExecutor, @unchecked Sendable {
    let eventLoop: EventLoop

    init(_ eventLoop: EventLoop) { self.eventLoop = eventLoop }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        eventLoop.execute { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }
}

/// The event loop the current call runs on, so that its request to AWS uses a
/// connection on the same loop.
enum CurrentEventLoop {
    @TaskLocal static var value: EventLoop?
}

extension EventLoop {
    /// Runs an async body as a task on this event loop and completes a future with it.
    func runOnLoop<T: Sendable>(_ body: @escaping @Sendable () async -> T) -> EventLoopFuture<T> {
        let promise = makePromise(of: T.self)
        Task(executorPreference: EventLoopTaskExecutor(self)) {
            await CurrentEventLoop.$value.withValue(self) { promise.succeed(await body()) }
        }
        return promise.futureResult
    }
}
