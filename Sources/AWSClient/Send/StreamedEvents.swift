import AWSPrimitives
import AWSJSON
import AWSProtocols
import Synchronization

/// Where a call's events go as they arrive, and the news that nobody reads them any more
/// (the caller hung up), which ends the call and its request to AWS at once.
public struct EventSink: Sendable {
    /// Takes one event; false once the reader is gone.
    public let deliver: @Sendable (JSONObject) -> Bool
    /// Registers what to run when the reader goes (at once if it has); gives back how to
    /// take it back (once the stream has ended).
    public let whenGone: @Sendable (@escaping @Sendable () -> Void) -> @Sendable () -> Void

    public init(deliver: @escaping @Sendable (JSONObject) -> Bool,
                whenGone: @escaping @Sendable (@escaping @Sendable () -> Void) -> @Sendable () -> Void) {
        self.deliver = deliver
        self.whenGone = whenGone
    }
}

/// An event-stream answer read as it arrives (botocore's `EventStream`): the body's bytes
/// cut into messages, each event handed to the sink at once; an exception event, a broken
/// stream or a caller gone stops the reading. Used on the transport's thread only.
final class StreamedEvents: BodyStream, @unchecked Sendable {
    let output: EventStreamOutput
    let sink: EventSink
    private var buffer = EventStreamBuffer()
    /// The answer's head was a success: its body is being streamed (and the call can no
    /// longer be made again).
    private(set) var started = false
    private(set) var delivered = 0
    private var initialResponse: [UInt8]?
    private var ending: SendError?
    private var status = 200
    private var requestId: String?

    /// The transport's cancel, and whether the reader has gone (from the reader's thread).
    private let hangUp = Mutex<(cancel: (@Sendable () -> Void)?, gone: Bool)>((nil, false))

    /// Takes the hang-up registration back (the caller's connection may carry more calls).
    private var leave: (@Sendable () -> Void)?

    init(output: EventStreamOutput, sink: EventSink) {
        self.output = output
        self.sink = sink
        leave = sink.whenGone { [weak self] in self?.readerGone() }
    }

    deinit { leave?() }

    func attach(cancel: @escaping @Sendable () -> Void) {
        let gone = hangUp.withLock { state in
            state.cancel = cancel
            return state.gone
        }
        if gone { cancel() }
    }

    /// The caller hung up: the request to AWS ends now, not at its next event.
    private func readerGone() {
        let cancel = hangUp.withLock { state in
            state.gone = true
            return state.cancel
        }
        cancel?()
    }

    private var readerHasGone: Bool { hangUp.withLock { $0.gone } }

    func head(status: Int, headers: [(name: String, value: String)]) -> Bool {
        guard status < 300 else { return false }  // an error: read whole, parsed as one
        started = true
        self.status = status
        requestId = headers.first { $0.name.equalsIgnoringASCIICase("x-amzn-requestid") }?.value
        return true
    }

    func received(_ bytes: [UInt8]) -> Bool {
        buffer.append(bytes)
        do {
            while let message = try buffer.next() {
                switch output.reader.read(message, status: status, requestId: requestId) {
                case .event(let event):
                    delivered += 1
                    guard sink.deliver(event) else {
                        ending = .unreachable(attempts: 1, cause: "the caller hung up after \(delivered) events")
                        return false
                    }
                case .initialResponse(let payload): initialResponse = payload
                case .skipped: continue
                case .failure(let error):
                    ending = .aws(error, retryable: false)
                    return false
                }
            }
        } catch {
            ending = .aws(.brokenStream(error.description), retryable: false)
            return false
        }
        return true
    }

    /// The call's result once the body ended (the output's other members), or why it failed.
    func finish(head: ResponseData) throws(SendError) -> JSONObject {
        if let ending { throw ending }
        if buffer.pending > 0 { throw .aws(.brokenStream("event stream cut short (\(buffer.pending) bytes of a message)"), retryable: false) }
        return output.result(head: head, initialResponse: initialResponse)
    }

    /// Why the call failed when the connection failed after the stream began.
    func broken(_ error: TransportError) -> SendError {
        if let ending { return ending }
        if readerHasGone { return .unreachable(attempts: 1, cause: "the caller hung up after \(delivered) events") }
        return .aws(.brokenStream("event stream cut short: \(error.description)"), retryable: false)
    }
}

extension AWSErrorResponse {
    static func brokenStream(_ why: String) -> AWSErrorResponse {
        var error = AWSErrorResponse(code: brokenStreamCode, message: why, httpStatus: 200, requestId: nil, shape: nil, fields: JSONObject())
        error.inStream = true
        return error
    }
}
