@testable import AWSClient
import AWSJSON
import Synchronization
import Testing

@Suite("A streamed answer's hang-up registration")
struct StreamedEventsLeaveTests {
    @Test("registered with the caller's connection while the stream is read, taken back once it is done with")
    func leaves() throws {
        let engine = try makeEngine()
        let output = try #require(try engine.operation("bedrock-runtime.ConverseStream").eventStreamOutput)
        let registered = Mutex(0), left = Mutex(0)
        let sink = EventSink(deliver: { _ in true }, whenGone: { _ in
            registered.withLock { $0 += 1 }
            return { left.withLock { $0 += 1 } }
        })
        do {
            let stream = StreamedEvents(output: output, sink: sink)
            #expect(stream.head(status: 200, headers: []))
            #expect(registered.withLock { $0 } == 1 && left.withLock { $0 } == 0)
        }
        #expect(left.withLock { $0 } == 1)
    }
}
