import AWSCredentials
import AWSJSON
import AWSPrimitives
import AWSProtocols
import AWSSigning
import Foundation

/// One call, ready to be sent: its operation, validated params (an idempotency token
/// filled once, reused by every attempt), region and credentials.
public struct ClientCall: Sendable {
    public let handle: OperationHandle
    public let params: JSONObject
    public let region: String
    /// Read again for each attempt, so no attempt signs with expired keys.
    public let credentials: any CredentialProvider
    /// The most all attempts together may take (seconds); nil: only each attempt's timeout.
    public let deadlineSeconds: Double?
    /// What parsing the answer needs to know about the caller's params.
    public let responseContext: ResponseContext

    public init(handle: OperationHandle, params: JSONObject, region: String, credentials: any CredentialProvider,
                deadlineSeconds: Double? = nil, responseContext: ResponseContext = ResponseContext()) {
        self.handle = handle
        self.params = params
        self.region = region
        self.credentials = credentials
        self.deadlineSeconds = deadlineSeconds
        self.responseContext = responseContext
    }
}

/// What a call's sender is told as it goes: each attempt, each answer's request id, AWS's
/// errors with how they are retried, and the success. The gateway keeps its traces,
/// metrics and rate-limit holds with it; the client itself needs none of it.
public protocol SendObserver: Sendable {
    /// Attempt `attempt` (from 1) of the call is being sent.
    func attempting(_ attempt: Int)
    /// A request of the client's own is being sent to learn something for the call (S3's
    /// `HeadBucket`, for a bucket's region).
    func probing()
    /// AWS answered an attempt with HTTP `status`.
    func answered(requestId: String?, status: Int)
    func failed(awsType: String, kind: FailureKind) async
    func succeeded() async
}

/// An observer that notes nothing (credential sources' STS calls).
public struct NoSendObserver: SendObserver {
    public init() {}
    public func attempting(_ attempt: Int) {}
    public func probing() {}
    public func answered(requestId: String?, status: Int) {}
    public func failed(awsType: String, kind: FailureKind) async {}
    public func succeeded() async {}
}

/// Why a call did not give a result.
public enum SendError: Error, Sendable, CustomStringConvertible {
    /// AWS answered with an error (after the retries it allows).
    case aws(AWSErrorResponse, retryable: Bool)
    /// AWS could not be reached or did not answer in time, after `attempts`.
    case unreachable(attempts: Int, cause: String)
    /// The answer's blob member (an S3 object's body) is over the engine's limit.
    case blobTooLarge(member: String, bytes: Int, limit: Int)
    /// The call's credentials could not be had.
    case credentials(CredentialsError)
    /// The request could not be built (or presigned).
    case request(ClientError)

    public var description: String {
        switch self {
        case .aws(let error, _): return "\(error.code): \(error.message) (HTTP \(error.httpStatus))"
        case .unreachable(_, let cause): return "AWS could not be reached: \(cause)"
        case .blobTooLarge(let member, _, let limit): return "the answer's \(member) is larger than \(limit) bytes"
        case .credentials(let error): return error.description
        case .request(let error): return error.description
        }
    }
}

/// The client's send: each attempt signs (with credentials read again), sends and parses;
/// failures are retried in the SDKs' standard mode (backoff with jitter, a shared retry
/// quota, `x-amz-retry-after`), within the call's deadline. What any AWS client does on
/// the way lives here too: S3's region redirect (and its cache of bucket regions) and the
/// bound on an answer's blob.
public struct AWSCaller: Sendable {
    public let engine: AWSEngine
    let transport: any HTTPTransport
    public let settings: UpstreamSettings
    let quota: RetryQuota
    /// Sleeps between attempts; tests shorten it.
    let sleep: @Sendable (Double) async -> Void
    /// Buckets S3 said live in another region (botocore's redirector cache).
    let bucketRegions = BucketRegionCache()

    public init(engine: AWSEngine, transport: any HTTPTransport, settings: UpstreamSettings = UpstreamSettings(),
                sleep: @escaping @Sendable (Double) async -> Void = { try? await Task.sleep(nanoseconds: UInt64($0 * 1e9)) }) {
        self.engine = engine
        self.transport = transport
        self.settings = settings
        quota = RetryQuota(settings: settings.retry)
        self.sleep = sleep
    }

    /// The call's result, or why there is none. With `events`, an event-stream answer's
    /// events go there as they arrive, and the result holds the output's other members;
    /// once the first has come the call is not made again.
    public func send(_ call: ClientCall, observer: some SendObserver, events: EventSink? = nil) async throws(SendError) -> JSONObject {
        let streamed = events.flatMap { sink in call.handle.eventStreamOutput.map { (output: $0, sink: sink) } }
        var attempts = AttemptClock(deadline: call.deadlineSeconds, requestTimeout: settings.requestTimeoutSeconds)
        var lastRetryCost: Int?
        var redirect = S3RegionRedirect.State(call, cache: bucketRegions)
        while true {
            let timeout = try attempts.next()
            // An operation sent unsigned (noAuth) needs no keys; a failing source does not stop it.
            let keys: Credentials?
            if call.handle.isUnsigned {
                keys = try? await call.credentials.credentials()
            } else {
                do { keys = try await call.credentials.credentials() } catch { throw .credentials(error) }
            }
            let request: PreparedRequest
            do {
                request = try engine.buildRequest(call.handle, params: call.params, region: redirect.region, credentials: keys,
                                                  at: Timestamp(seconds: Int64(Date().timeIntervalSince1970)))
            } catch {
                throw .request(error)
            }
            let failure: FailureKind
            let retryAfterMs: Int?
            let finalError: SendError
            observer.attempting(attempts.count)
            let stream = streamed.map { StreamedEvents(output: $0.output, sink: $0.sink) }
            do {
                let response = try await exchange(request, timeoutSeconds: timeout, stream: stream)
                observer.answered(requestId: response.header("x-amzn-RequestId") ?? response.header("x-amz-request-id"), status: response.status)
                if let stream, stream.started {
                    return try await finish(stream, head: response, lastRetryCost: lastRetryCost, observer: observer)
                }
                switch engine.parseResponse(response, for: call.handle, context: call.responseContext) {
                case .success(let result):
                    if let member = Self.blobLimitExceeded(response, call.handle, engine.codecOptions.maxBlobBytes) {
                        // Final: the same answer would come again.
                        throw SendError.blobTooLarge(member: member, bytes: response.body.count, limit: engine.codecOptions.maxBlobBytes)
                    }
                    quota.release(lastRetryCost: lastRetryCost)
                    await observer.succeeded()
                    return result
                case .failure(let awsError):
                    if await redirect.follow(awsError, response, caller: self, observer: observer, credentials: keys, timeout: timeout) {
                        attempts.repeatAttempt()
                        continue
                    }
                    failure = RetryClassifier.classify(awsError)
                    await observer.failed(awsType: awsError.code, kind: failure)
                    retryAfterMs = response.header("x-amz-retry-after").flatMap { Int($0) }
                    finalError = .aws(awsError, retryable: failure != .permanent)
                }
            } catch let error as SendError {
                throw error
            } catch let error as TransportError {
                // An answer over the size limit came from AWS and would come again: it is
                // final (a mutating call that succeeded must not be sent twice).
                if error.kind == .responseTooLarge { throw .unreachable(attempts: attempts.count, cause: error.description) }
                // A stream that began is not asked for again: its events were given.
                if let stream, stream.started { throw await Self.ended(stream.broken(error), observer) }
                failure = .transient
                retryAfterMs = nil
                finalError = .unreachable(attempts: attempts.count, cause: error.description)
            } catch {
                throw .unreachable(attempts: attempts.count, cause: "\(error)")
            }
            guard failure != .permanent, attempts.count < settings.retry.maxAttempts, let cost = quota.acquire(for: failure) else {
                throw finalError
            }
            let delay = quota.backoff(kind: failure, attempt: attempts.count, retryAfterMs: retryAfterMs)
            guard attempts.allows(delay) else { throw finalError }
            lastRetryCost = cost
            await sleep(delay)
        }
    }

    /// One request to AWS: its answer read whole, or streamed to `stream`.
    private func exchange(_ request: PreparedRequest, timeoutSeconds: Double, stream: StreamedEvents?) async throws(TransportError) -> ResponseData {
        guard let stream else { return try await transport.send(request, timeoutSeconds: timeoutSeconds) }
        return try await transport.send(request, timeoutSeconds: timeoutSeconds, streaming: stream)
    }

    /// A streamed answer that ended: the output's other members, or why it failed.
    private func finish(_ stream: StreamedEvents, head: ResponseData, lastRetryCost: Int?, observer: some SendObserver) async throws(SendError) -> JSONObject {
        let result: JSONObject
        do { result = try stream.finish(head: head) } catch { throw await Self.ended(error, observer) }
        quota.release(lastRetryCost: lastRetryCost)
        await observer.succeeded()
        return result
    }

    /// A stream's ending error, told to the observer when AWS's (an exception event).
    static func ended(_ error: SendError, _ observer: some SendObserver) async -> SendError {
        if case .aws(let awsError, _) = error { await observer.failed(awsType: awsError.code, kind: .permanent) }
        return error
    }

    /// A presigned URL for the call instead of sending it.
    public func presign(_ call: ClientCall, seconds: Int) async throws(SendError) -> JSONObject {
        let keys: Credentials
        do { keys = try await call.credentials.credentials() } catch { throw .credentials(error) }
        do {
            let presigned = try engine.presign(call.handle, params: call.params, region: call.region, credentials: keys,
                                               at: Timestamp(seconds: Int64(Date().timeIntervalSince1970)), expires: seconds)
            return presigned.json.objectValue ?? JSONObject()
        } catch {
            throw .request(error)
        }
    }

    /// The name of the blob payload member when an answer's body (that member) is over the limit.
    static func blobLimitExceeded(_ response: ResponseData, _ handle: OperationHandle, _ limit: Int) -> String? {
        guard response.body.count > limit, let output = handle.operation.output,
              let name = handle.operation.outputPayload ?? output.payload, output.member(named: name)?.shape.type == .blob else { return nil }
        return name
    }
}

/// A call's attempts against its deadline: each attempt's timeout is the request timeout,
/// or what is left of the deadline when that is less.
struct AttemptClock {
    let start = Date()
    let deadline: Double?
    let requestTimeout: Double
    private(set) var count = 0

    init(deadline: Double?, requestTimeout: Double) {
        self.deadline = deadline
        self.requestTimeout = requestTimeout
    }

    /// Starts the next attempt and gives its timeout, or fails when the deadline passed.
    mutating func next() throws(SendError) -> Double {
        count += 1
        guard let deadline else { return requestTimeout }
        let left = deadline - Date().timeIntervalSince(start)
        guard left > 0 else { throw .unreachable(attempts: count - 1, cause: "timeout: $timeoutMs elapsed") }
        return min(requestTimeout, left)
    }

    /// The attempt just made does not count (it was sent to the wrong region).
    mutating func repeatAttempt() { count -= 1 }

    /// Whether a wait of `delay` before the next attempt ends within the deadline.
    func allows(_ delay: Double) -> Bool {
        guard let deadline else { return true }
        return Date().timeIntervalSince(start) + delay < deadline
    }
}
