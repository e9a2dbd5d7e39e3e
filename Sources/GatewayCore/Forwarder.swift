import AWSClient
import AWSCredentials
import AWSJSON
import AWSProtocols
import AWSSigning
import Foundation
import Logging
import Synchronization

/// A call that passed every check, ready to be sent: its operation, validated params
/// (idempotency token filled once, reused by every attempt), region, credentials.
struct PreparedCall: Sendable {
    let handle: OperationHandle
    let params: JSONObject
    let region: String
    let source: any CredentialProvider
    /// The source's name in the config: the only name callers ever see.
    let sourceName: String
    let team: String
    let timeoutMs: Int?
    /// What parsing the answer needs to know about the caller's params.
    var responseContext = ResponseContext()
}

/// Sends a prepared call with the SDKs' standard retry mode: each attempt signs (with
/// credentials read again, so no attempt signs with expired keys), sends and parses.
struct Forwarder: Sendable {
    let engine: AWSEngine
    let transport: any HTTPTransport
    let upstream: UpstreamSettings
    let quota: RetryQuota
    let rateLimiter: RateLimiter
    let metrics: GatewayMetrics
    let logger: Logger
    /// Sleeps between attempts; tests may shorten it.
    let sleep: @Sendable (Double) async -> Void
    /// Buckets S3 said live in another region (botocore's redirector cache).
    var bucketRegions = BucketRegionCache()

    func forward(_ call: PreparedCall, trace: CallTrace) async throws -> JSONObject {
        let service = call.handle.service.name, operation = call.handle.operation.name
        let start = Date()
        let deadline = call.timeoutMs.map { Double($0) / 1000 }
        var attempt = 0
        var lastRetryCost: Int?
        // S3 names a bucket's region when it was asked in the wrong one: asked again there, once.
        var region = call.region
        var redirected = false
        let bucket = call.handle.service.name == "s3" ? call.params["Bucket"]?.stringValue : nil
        // `redirect_from_cache`: a bucket already found elsewhere is asked there at once.
        if let bucket, let known = bucketRegions.region(of: bucket) { region = known }
        while true {
            attempt += 1
            let elapsed = Date().timeIntervalSince(start)
            var timeout = upstream.requestTimeoutSeconds
            if let deadline {
                guard deadline - elapsed > 0 else { throw Forwarder.unreachable(attempts: attempt - 1, cause: "timeout: $timeoutMs elapsed") }
                timeout = min(timeout, deadline - elapsed)
            }
            // An operation sent unsigned (noAuth) needs no keys; a failing source does not stop it.
            let keys = call.handle.isUnsigned ? try? await call.source.credentials() : try await credentials(call)
            let request = try engine.buildRequest(call.handle, params: call.params, region: region, credentials: keys,
                                                   at: Timestamp(seconds: Int64(Date().timeIntervalSince1970)))
            let failure: FailureKind
            let retryAfterMs: Int?
            let finalError: Error
            do {
                metrics.recordAttempt()
                trace.attempts = attempt
                let response = try await transport.send(request, timeoutSeconds: timeout)
                trace.awsRequestId = response.header("x-amzn-RequestId") ?? response.header("x-amz-request-id")
                switch engine.parseResponse(response, for: call.handle, context: call.responseContext) {
                case .success(let result):
                    if let member = Forwarder.blobLimitExceeded(response, call.handle, engine.codecOptions.maxBlobBytes) {
                        // Final: the same answer would come again.
                        failure = .permanent
                        retryAfterMs = nil
                        finalError = RPCError(
                            code: RPCError.awsUnreachable,
                            message: "the answer's \(member) is larger than limits.max_blob (\(engine.codecOptions.maxBlobBytes) bytes); "
                                + "for large S3 objects use a presigned URL ($presign)",
                            data: .object(JSONObject([("cause", "blob too large"), ("bytes", .int(Int64(response.body.count)))])))
                        break
                    }
                    quota.release(lastRetryCost: lastRetryCost)
                    await rateLimiter.succeeded(team: call.team, service: service, operation: operation)
                    return result
                case .failure(let awsError):
                    if !redirected, let decision = S3RegionRedirect.region(awsError, response, call),
                       let bucketRegion = await bucketRegion(decision, call, region: region, credentials: keys, timeout: timeout), bucketRegion != region {
                        logger.debug("S3 bucket in another region; asking there", metadata: ["from": "\(region)", "to": "\(bucketRegion)"])
                        region = bucketRegion
                        redirected = true
                        if let bucket { bucketRegions.remember(bucket, in: bucketRegion) }
                        attempt -= 1
                        continue
                    }
                    trace.awsType = awsError.code
                    failure = RetryClassifier.classify(awsError)
                    if failure == .throttling { await rateLimiter.throttled(team: call.team, service: service, operation: operation) }
                    retryAfterMs = response.header("x-amz-retry-after").flatMap { Int($0) }
                    finalError = awsError.rpcError(retryable: failure != .permanent)
                }
            } catch {
                // An answer over the size limit came from AWS and would come again: it is
                // final (a mutating call that succeeded must not be sent twice).
                if error.kind == .responseTooLarge { throw Forwarder.unreachable(attempts: attempt, cause: error.description) }
                failure = .transient
                retryAfterMs = nil
                finalError = Forwarder.unreachable(attempts: attempt, cause: error.description)
            }
            guard failure != .permanent, attempt < upstream.retry.maxAttempts, let cost = quota.acquire(for: failure) else {
                throw finalError
            }
            let delay = quota.backoff(kind: failure, attempt: attempt, retryAfterMs: retryAfterMs)
            if let deadline, Date().timeIntervalSince(start) + delay >= deadline { throw finalError }
            lastRetryCost = cost
            logger.debug("retrying", metadata: ["method": "\(call.handle.canonicalName)", "attempt": "\(attempt)", "delay": "\(delay)"])
            await sleep(delay)
        }
    }

    /// The region a redirect names, or the one `HeadBucket` reports (botocore's
    /// `get_bucket_region`: the `x-amz-bucket-region` of its answer, success or error).
    private func bucketRegion(_ decision: S3RegionRedirect.Decision, _ call: PreparedCall, region: String, credentials: Credentials?,
                              timeout: Double) async -> String? {
        if case .region(let named) = decision { return named }
        guard let bucket = call.params["Bucket"]?.stringValue, let handle = try? engine.operation("s3.HeadBucket"),
              let params = try? engine.prepareParams(JSONObject([("Bucket", .string(bucket))]), for: handle),
              let request = try? engine.buildRequest(handle, params: params, region: region, credentials: credentials,
                                                      at: Timestamp(seconds: Int64(Date().timeIntervalSince1970)))
        else { return nil }
        metrics.recordAttempt()
        guard let answer = try? await transport.send(request, timeoutSeconds: timeout),
              let found = answer.header("x-amz-bucket-region"), AWSEngine.isValidRegionName(found) else { return nil }
        return found
    }

    /// The name of the blob payload member when an answer's body (that member) is over the limit.
    static func blobLimitExceeded(_ response: ResponseData, _ handle: OperationHandle, _ limit: Int) -> String? {
        guard response.body.count > limit, let output = handle.operation.output,
              let name = handle.operation.outputPayload ?? output.payload, output.member(named: name)?.shape.type == .blob else { return nil }
        return name
    }

    /// A presigned URL for the call, signed with the team's credentials.
    func presign(_ call: PreparedCall, seconds: Int) async throws -> JSONObject {
        let keys = try await credentials(call)
        do {
            let presigned = try engine.presign(call.handle, params: call.params, region: call.region, credentials: keys,
                                                at: Timestamp(seconds: Int64(Date().timeIntervalSince1970)), expires: seconds)
            return presigned.json.objectValue ?? JSONObject()
        } catch {
            throw error.rpcError
        }
    }

    /// The call's credentials, or -32012 naming the source by its config name only. The
    /// cause (which may name a key id or a file) goes to the operator's log.
    private func credentials(_ call: PreparedCall) async throws -> Credentials {
        do {
            return try await call.source.credentials()
        } catch {
            logger.warning("no usable credentials", metadata: ["source": "\(call.sourceName)", "cause": "\(error.description)"])
            throw Forwarder.noCredentials(source: call.sourceName)
        }
    }

    static func noCredentials(source: String) -> RPCError {
        RPCError(code: RPCError.noCredentials, message: "no usable credentials for this caller (source \"\(source)\"; the gateway's log says why)",
                 data: .object(JSONObject([("source", .string(source))])))
    }

    static func unreachable(attempts: Int, cause: String) -> RPCError {
        RPCError(code: RPCError.awsUnreachable, message: "AWS could not be reached",
                 data: .object(JSONObject([("attempts", .int(Int64(attempts))), ("cause", .string(cause))])))
    }
}

/// botocore's `S3RegionRedirectorv2.redirect_from_error`: an answer that says the bucket
/// lives elsewhere (a 301/302/307, `PermanentRedirect`, `AuthorizationHeaderMalformed`
/// naming a region, a bare 301/400 to `HeadObject` or to `HeadBucket` with the region
/// header, `IllegalLocationConstraintException` outside `CreateBucket`), with the region
/// from `x-amz-bucket-region` or the error's `<Region>`.
enum S3RegionRedirect {
    enum Decision: Equatable {
        /// Ask again in this region.
        case region(String)
        /// The answer says the region is wrong but names none: `HEAD` the bucket to learn it.
        case probe
    }

    static func region(_ error: AWSErrorResponse, _ response: ResponseData, _ call: PreparedCall) -> Decision? {
        guard call.handle.service.name == "s3", call.params["Bucket"] != nil else { return nil }
        let operation = call.handle.operation.name
        let headerRegion = response.header("x-amz-bucket-region")
        let bodyRegion = elementText("Region", in: response.body)
        let applies = [301, 302, 307].contains(response.status)
            || ((error.code == "301" || error.code == "400") && operation == "HeadObject")
            || ((error.code == "301" || error.code == "400") && operation == "HeadBucket" && headerRegion != nil)
            || (error.code == "AuthorizationHeaderMalformed" && bodyRegion != nil)
            || error.code == "PermanentRedirect"
            || (error.code == "IllegalLocationConstraintException" && operation != "CreateBucket")
        guard applies else { return nil }
        guard let region = headerRegion ?? bodyRegion, !region.isEmpty else { return .probe }
        return .region(region)
    }

    /// The text of the first `<name>` element of an XML error body.
    static func elementText(_ name: String, in body: [UInt8]) -> String? {
        guard !body.isEmpty, let root = try? XMLDocument.parse(body) else { return nil }
        return (root.name == "Error" ? root : root.children.first { $0.name == "Error" })?.children.first { $0.name == name }?.text
    }
}

/// Bucket → region, learned from S3's redirects and shared by every call (bounded: when
/// full it starts over, as a redirect costs one round trip to learn again).
final class BucketRegionCache: Sendable {
    static let limit = 10_000
    private let regions = Mutex<[String: String]>([:])

    func region(of bucket: String) -> String? { regions.withLock { $0[bucket] } }

    func remember(_ bucket: String, in region: String) {
        regions.withLock { regions in
            if regions.count >= BucketRegionCache.limit { regions.removeAll(keepingCapacity: true) }
            regions[bucket] = region
        }
    }
}
