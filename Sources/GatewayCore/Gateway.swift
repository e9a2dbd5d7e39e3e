import AWSClient
import AWSCredentials
import AWSJSON
import AWSProtocols
import AWSSigning
import Foundation
import Logging
import Synchronization

/// Who is calling and through which listener.
public struct CallContext: Sendable {
    public var listener: String
    /// Unix peer credentials or the client certificate's CN, when the listener has them.
    public var peer: PeerIdentity
    /// A bearer token from the HTTP `Authorization` header (NDJSON callers use `$token`).
    public var bearerToken: String?

    public init(listener: String, peer: PeerIdentity = PeerIdentity(), bearerToken: String? = nil) {
        self.listener = listener
        self.peer = peer
        self.bearerToken = bearerToken
    }
}

/// What to send back for one request body: a JSON-RPC answer, or nothing when every
/// call was a notification.
public struct GatewayAnswer: Sendable {
    public var body: [UInt8]?
    /// Set when a single call was refused because the gateway is overloaded (-32003):
    /// HTTP answers it with 503 and `Retry-After`.
    public var retryAfterMs: Int?
}

/// The gateway's pipeline, in the order a call flows through it:
/// envelope → operation → options → validate → credentials → (build, sign, send, parse)
/// with retries → JSON-RPC answer. No sockets here: listeners hand it bytes.
public final class Gateway: Sendable {
    public let builder: RequestBuilder
    let transport: any HTTPTransport
    public let rateLimiter: RateLimiter
    /// Where each call's record goes; nil when audit logging is off.
    public let audit: AuditLog?
    let auditParams: AuditLogSettings.ParamsMode
    /// The rules a reload may replace; each call works with the rules it started with.
    private let rulesBox: Mutex<GatewayRules>
    public var rules: GatewayRules { rulesBox.withLock { $0 } }
    let limits: GatewayLimits
    let upstream: UpstreamSettings
    let quota: RetryQuota
    let logger: Logger
    public let metrics: GatewayMetrics
    private let inFlight = Mutex(0)
    /// Sleeps between attempts; tests may shorten it.
    let sleep: @Sendable (Double) async -> Void

    public init(
        builder: RequestBuilder, transport: any HTTPTransport, credentialSources: [String: any CredentialProvider],
        policy: Policy = .ownUserOnly(), rateLimiter: RateLimiter = RateLimiter(limits: [:]), cache: ResponseCache? = nil,
        defaultRegion: String?, audit: AuditLog? = nil,
        limits: GatewayLimits = GatewayLimits(), upstream: UpstreamSettings = UpstreamSettings(),
        logger: Logger = Logger(label: "awsgw"), metrics: GatewayMetrics = GatewayMetrics(),
        sleep: @escaping @Sendable (Double) async -> Void = { seconds in try? await Task.sleep(nanoseconds: UInt64(seconds * 1e9)) }
    ) {
        self.builder = builder
        self.transport = transport
        self.rateLimiter = rateLimiter
        self.audit = audit
        auditParams = audit?.settings.params ?? .keys
        rulesBox = Mutex(GatewayRules(credentialSources: credentialSources, policy: policy, cache: cache, defaultRegion: defaultRegion))
        self.limits = limits
        self.upstream = upstream
        quota = RetryQuota(settings: upstream.retry)
        self.logger = logger
        self.metrics = metrics
        self.sleep = sleep
    }

    /// Calls being carried out now.
    public var callsInFlight: Int { inFlight.withLock { $0 } }

    /// Answers one request body (a call or a batch). Batches run their calls concurrently
    /// and answer in request order.
    public func handle(_ body: [UInt8], context: CallContext) async -> GatewayAnswer {
        switch RPCEnvelope.parse(body, limits: limits) {
        case .rejected(let error):
            let answer = RPCEnvelope.response(id: .null, error: error)
            writeRecord(CallTrace(), call: nil, context: context, outcome: .failure(error), bytesIn: body.count, bytesOut: answer.count,
                        started: Date())
            return GatewayAnswer(body: answer)
        case .single(let entry):
            let (bytes, code) = await answer(entry, context: context, bytesIn: body.count)
            return GatewayAnswer(body: bytes, retryAfterMs: code == RPCError.overloaded ? Gateway.overloadRetryAfterMs : nil)
        case .batch(let entries):
            let responses = await withTaskGroup(of: (Int, [UInt8]?).self) { group in
                for (index, entry) in entries.enumerated() {
                    group.addTask { (index, await self.answer(entry, context: context, bytesIn: nil).bytes) }
                }
                var collected = [[UInt8]?](repeating: nil, count: entries.count)
                for await (index, response) in group { collected[index] = response }
                return collected.compactMap { $0 }
            }
            guard !responses.isEmpty else { return GatewayAnswer(body: nil) }
            // The members are already serialized: join them into one array.
            var out: [UInt8] = [UInt8(ascii: "[")]
            for (i, response) in responses.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                out.append(contentsOf: response)
            }
            out.append(UInt8(ascii: "]"))
            return GatewayAnswer(body: out)
        }
    }

    /// How long an overloaded gateway asks callers to wait before trying again.
    public static let overloadRetryAfterMs = 100

    /// Carries out one entry, answers it (unless it is a notification) and records it.
    /// The answer is serialized here, once; `code` is its error code, nil on success.
    func answer(_ entry: RPCEntry, context: CallContext, bytesIn: Int?) async -> (bytes: [UInt8]?, code: Int?) {
        let started = Date()
        switch entry {
        case .invalid(let id, let error):
            let response = id.map { RPCEnvelope.response(id: $0, error: error) }
            writeRecord(CallTrace(), call: nil, context: context, outcome: .failure(error), bytesIn: bytesIn ?? 0,
                        bytesOut: response?.count ?? 0, started: started)
            return (response, error.code)
        case .call(let call):
            let trace = CallTrace()
            let outcome = await perform(call, context: context, trace: trace)
            var response: [UInt8]?
            if let id = call.id {
                switch outcome {
                case .success(let result): response = RPCEnvelope.response(id: id, result: .object(result))
                case .failure(let error): response = RPCEnvelope.response(id: id, error: error)
                }
            }
            if audit != nil {
                let inSize = bytesIn ?? (JSON.object(call.params).serialized().count + call.method.utf8.count + 40)
                writeRecord(trace, call: call, context: context, outcome: outcome, bytesIn: inSize,
                            bytesOut: response?.count ?? 0, started: started)
            }
            if case .failure(let error) = outcome { return (response, error.code) }
            return (response, nil)
        }
    }

    /// One audit record: who, what, what was decided, what AWS said. Never a secret: no
    /// credentials, signatures or tokens; params only as configured.
    private func writeRecord(_ trace: CallTrace, call: RPCCall?, context: CallContext, outcome: Result<JSONObject, RPCError>,
                             bytesIn: Int, bytesOut: Int, started: Date) {
        guard let audit else { return }
        let seconds = started.timeIntervalSince1970
        let time = Timestamp(seconds: Int64(seconds.rounded(.down)), microseconds: Int((seconds - seconds.rounded(.down)) * 1000) * 1000)
        var record = JSONObject()
        record.append("time", .string(time.iso8601Result))
        record.append("listener", .string(context.listener))
        record.append("identity", .string(trace.identity ?? Policy.describe(context.peer)))
        if let team = trace.team { record.append("team", .string(team)) }
        record.append("method", .string(trace.method ?? call?.method ?? "(invalid request)"))
        let code: Int?
        switch outcome {
        case .success: code = nil
        case .failure(let error): code = error.code
        }
        let decision: String
        switch code {
        case RPCError.policyDenied?: decision = "denied"
        case RPCError.rateLimited?: decision = "rate-limited"
        case RPCError.overloaded?: decision = "overloaded"
        case let c? where c <= -32600 && c >= -32700: decision = "invalid"
        default: decision = trace.allowed ? "allowed" : "invalid"
        }
        record.append("decision", .string(decision))
        record.append("cache", .string(trace.cache))
        if let code { record.append("code", .int(Int64(code))) }
        if let awsType = trace.awsType { record.append("awsType", .string(awsType)) }
        if let requestId = trace.awsRequestId { record.append("awsRequestId", .string(requestId)) }
        record.append("attempts", .int(Int64(trace.attempts)))
        record.append("latencyMs", .double((Date().timeIntervalSince(started) * 1_000_000).rounded() / 1000))
        record.append("bytesIn", .int(Int64(bytesIn)))
        record.append("bytesOut", .int(Int64(bytesOut)))
        if let call {
            let params = call.params.members.filter { $0.key != "$token" }
            switch auditParams {
            case .none: break
            case .keys: record.append("params", .array(params.map { .string($0.key) }))
            case .full:
                // Values the model marks sensitive are masked even in full mode.
                var full = JSON.object(JSONObject(params))
                if let input = trace.handle?.operation.input {
                    full = SensitiveRedaction.redact(full, shape: input)
                }
                record.append("params", full)
            }
        }
        if call?.isNotification == true { record.append("notification", true) }
        audit.record(.object(record))
    }

    /// Carries out one call and returns the operation's result or the JSON-RPC error.
    public func perform(_ call: RPCCall, context: CallContext, trace: CallTrace = CallTrace()) async -> Result<JSONObject, RPCError> {
        let admitted = inFlight.withLock { count -> Bool in
            guard count < limits.maxInFlightCalls else { return false }
            count += 1
            return true
        }
        guard admitted else {
            metrics.overloadedCalls.increment()
            return .failure(RPCError(code: RPCError.overloaded, message: "gateway overloaded: \(limits.maxInFlightCalls) calls in flight; retry later",
                                     data: .object(JSONObject([("retryAfterMs", .int(Int64(Gateway.overloadRetryAfterMs))),
                                                               ("limit", .int(Int64(limits.maxInFlightCalls)))]))))
        }
        metrics.inFlight.increment()
        let started = Date()
        defer {
            inFlight.withLock { $0 -= 1 }
            metrics.inFlight.decrement()
        }
        let outcome: Result<JSONObject, RPCError>
        do {
            outcome = .success(try await execute(call, context: context, trace: trace))
        } catch let error as RPCError {
            outcome = .failure(error)
        } catch let error as ClientError {
            outcome = .failure(error.rpcError)
        } catch {
            logger.error("internal fault", metadata: ["method": "\(call.method)", "error": "\(error)"])
            outcome = .failure(RPCError(code: RPCError.internalError, message: "internal error"))
        }
        let method = trace.method ?? "unknown"
        switch outcome {
        case .success: metrics.recordCall(method: method, outcome: "ok", seconds: Date().timeIntervalSince(started))
        case .failure(let error): metrics.recordCall(method: method, outcome: String(error.code), seconds: Date().timeIntervalSince(started))
        }
        return outcome
    }

    private func execute(_ call: RPCCall, context: CallContext, trace: CallTrace) async throws -> JSONObject {
        let handle = try builder.operation(call.method)
        trace.handle = handle
        let options = try CallOptions(call.params)
        let rules = self.rules
        let policy = rules.policy
        // Policy before any work: who is calling, and may their team call this?
        let (found, identity) = policy.team(for: context.peer, token: options.token ?? context.bearerToken)
        trace.identity = identity
        trace.team = found?.name
        guard let team = found else { throw denied(identity: identity, rule: "(no team's members match)") }
        let decision = policy.decide(team, service: handle.service.name, operation: handle.operation.name)
        guard decision.allowed else { throw denied(identity: identity, rule: decision.rule) }
        trace.allowed = true
        let service = handle.service.name, operation = handle.operation.name
        if let waitMs = rateLimiter.admit(team: team.name, service: service, operation: operation) {
            throw RPCError(code: RPCError.rateLimited, message: "over the rate limit; retry later",
                           data: .object(JSONObject([("retryAfterMs", .int(Int64(waitMs)))])))
        }
        // The idempotency token is filled here, once, and reused by every attempt.
        let params = try builder.prepareParams(call.params, for: handle)
        let region = options.region ?? team.region ?? rules.defaultRegion ?? ""
        guard let source = rules.credentialSources[team.credentials] else {
            logger.warning("team names a credential source that is not configured", metadata: ["team": "\(team.name)", "source": "\(team.credentials)"])
            throw noCredentials(source: team.credentials)
        }
        let forward: @Sendable () async throws -> JSONObject = {
            try await self.forward(handle, params: params, region: region, source: source, sourceName: team.credentials, team: team.name,
                                   timeoutMs: options.timeoutMs, trace: trace)
        }
        guard let cache = rules.cache, cache.settings.isCacheable(service: service, operation: operation, readOnly: handle.operation.isReadOnly),
              let ttl = cache.settings.ttl(service: service, operation: operation)
        else {
            metrics.recordCache("none")
            trace.cache = "none"
            let result = try await forward()
            // A call that may change things drops what was cached of its service for these credentials.
            rules.cache?.invalidate(scope: ResponseCache.scope(credentials: team.credentials, service: service))
            return result
        }
        if options.cache == "bypass" {
            metrics.recordCache("bypass")
            trace.cache = "bypass"
            return try await forward()
        }
        let key = ResponseCache.key(credentials: team.credentials, region: region, service: service, operation: operation, params: call.params)
        if options.cache == "use", let hit = cache.lookup(key) {
            metrics.recordCache("hit")
            trace.cache = "hit"
            return hit
        }
        metrics.recordCache(options.cache == "refresh" ? "refresh" : "miss")
        trace.cache = options.cache == "refresh" ? "refresh" : "miss"
        // Identical misses in flight together make one call to AWS.
        let (result, leader) = await cache.coalesce(key) {
            do {
                return .success(try await forward())
            } catch {
                return .failure(Gateway.rpcError(error))
            }
        }
        switch result {
        case .success(let value):
            if leader { cache.store(key, value, ttl: ttl, scope: ResponseCache.scope(credentials: team.credentials, service: service)) }
            return value
        case .failure(let error):
            throw error
        }
    }

    static func rpcError(_ error: Error) -> RPCError {
        switch error {
        case let error as RPCError: return error
        case let error as ClientError: return error.rpcError
        default: return RPCError(code: RPCError.internalError, message: "internal error")
        }
    }

    /// Signs and sends a call, with the standard retry mode, and parses the answer.
    private func forward(_ handle: OperationHandle, params: JSONObject, region: String, source: any CredentialProvider, sourceName: String,
                         team: String, timeoutMs: Int?, trace: CallTrace) async throws -> JSONObject {
        let service = handle.service.name, operation = handle.operation.name
        let keys: Credentials
        do {
            keys = try await source.credentials()
        } catch {
            // The cause (which may name a key id or a file) is for the operator's log only.
            logger.warning("no usable credentials", metadata: ["source": "\(sourceName)", "cause": "\(error.description)"])
            throw noCredentials(source: sourceName)
        }
        let start = Date()
        let deadline = timeoutMs.map { Double($0) / 1000 }
        var attempt = 0
        var lastRetryCost: Int?
        while true {
            attempt += 1
            let elapsed = Date().timeIntervalSince(start)
            var timeout = upstream.requestTimeoutSeconds
            if let deadline {
                guard deadline - elapsed > 0 else { throw unreachable(attempts: attempt - 1, cause: "timeout: $timeoutMs elapsed") }
                timeout = min(timeout, deadline - elapsed)
            }
            let request = try builder.buildRequest(handle, params: params, region: region, credentials: keys,
                                                   at: Timestamp(seconds: Int64(Date().timeIntervalSince1970)))
            let failure: FailureKind
            let retryAfterMs: Int?
            let finalError: Error
            do {
                metrics.recordAttempt()
                trace.attempts = attempt
                let response = try await transport.send(request, timeoutSeconds: timeout)
                trace.awsRequestId = response.header("x-amzn-RequestId") ?? response.header("x-amz-request-id")
                switch builder.parseResponse(response, for: handle) {
                case .success(let result):
                    quota.release(lastRetryCost: lastRetryCost)
                    rateLimiter.succeeded(team: team, service: service, operation: operation)
                    return result
                case .failure(let awsError):
                    trace.awsType = awsError.code
                    failure = RetryClassifier.classify(awsError)
                    if failure == .throttling { rateLimiter.throttled(team: team, service: service, operation: operation) }
                    retryAfterMs = response.header("x-amz-retry-after").flatMap { Int($0) }
                    finalError = awsError.rpcError(retryable: failure != .permanent)
                }
            } catch {
                // An answer over the size limit came from AWS and would come again: it is
                // final (a mutating call that succeeded must not be sent twice).
                if error.kind == .responseTooLarge { throw unreachable(attempts: attempt, cause: error.description) }
                failure = .transient
                retryAfterMs = nil
                finalError = unreachable(attempts: attempt, cause: error.description)
            }
            guard failure != .permanent, attempt < upstream.retry.maxAttempts, let cost = quota.acquire(for: failure) else {
                throw finalError
            }
            let delay = quota.backoff(kind: failure, attempt: attempt, retryAfterMs: retryAfterMs)
            if let deadline, Date().timeIntervalSince(start) + delay >= deadline { throw finalError }
            lastRetryCost = cost
            logger.debug("retrying", metadata: ["method": "\(handle.canonicalName)", "attempt": "\(attempt)", "delay": "\(delay)"])
            await sleep(delay)
        }
    }

    /// Puts new rules in force (a reload). Calls already running keep theirs.
    public func replaceRules(_ rules: GatewayRules, rateLimits: [String: RateLimiter.TeamLimits]) {
        rateLimiter.update(limits: rateLimits)
        rulesBox.withLock { $0 = rules }
    }

    private func denied(identity: String, rule: String) -> RPCError {
        RPCError(code: RPCError.policyDenied, message: "denied by the gateway's policy",
                 data: .object(JSONObject([("identity", .string(identity)), ("rule", .string(rule))])))
    }

    /// -32012 naming the source by its config name only: never a key id or a secret.
    private func noCredentials(source: String) -> RPCError {
        RPCError(code: RPCError.noCredentials, message: "no usable credentials for this caller (source \"\(source)\"; the gateway's log says why)",
                 data: .object(JSONObject([("source", .string(source))])))
    }

    private func unreachable(attempts: Int, cause: String) -> RPCError {
        RPCError(code: RPCError.awsUnreachable, message: "AWS could not be reached",
                 data: .object(JSONObject([("attempts", .int(Int64(attempts))), ("cause", .string(cause))])))
    }
}

/// What happened to one call, gathered on its way through the pipeline for its audit record.
/// A call's trace is touched only by the task carrying out that call.
public final class CallTrace: @unchecked Sendable {
    /// The resolved operation, once the method is known.
    public var handle: OperationHandle?
    public var method: String? { handle?.canonicalName }
    public var identity: String?
    public var team: String?
    public var allowed = false
    public var cache = "none"
    public var attempts = 0
    public var awsType: String?
    public var awsRequestId: String?
    public init() {}
}

/// What a configuration decides about calls, replaced whole on reload.
public struct GatewayRules: Sendable {
    /// Named credential sources; a team's calls are signed with its source.
    public var credentialSources: [String: any CredentialProvider]
    public var policy: Policy
    /// Cached reads; nil when the config has no `cache:`.
    public var cache: ResponseCache?
    public var defaultRegion: String?

    public init(credentialSources: [String: any CredentialProvider], policy: Policy, cache: ResponseCache?, defaultRegion: String?) {
        self.credentialSources = credentialSources
        self.policy = policy
        self.cache = cache
        self.defaultRegion = defaultRegion
    }
}

/// The gateway's own options in params (`$region`, `$cache`, `$timeoutMs`, `$token`).
struct CallOptions {
    var region: String?
    var cache = "use"
    var timeoutMs: Int?
    var token: String?

    init(_ params: JSONObject) throws {
        var problems: [ValidationProblem] = []
        func problem(_ key: String, _ text: String) { problems.append(ValidationProblem(path: "$." + key, problem: text)) }
        for member in params where member.key.hasPrefix("$") {
            switch member.key {
            case "$region":
                if case .string(let s) = member.value { region = s } else { problem(member.key, "expected string") }
            case "$cache":
                if case .string(let s) = member.value, ["use", "bypass", "refresh"].contains(s) { cache = s } else {
                    problem(member.key, "expected \"use\", \"bypass\" or \"refresh\"")
                }
            case "$timeoutMs":
                if case .int(let i) = member.value, i > 0 { timeoutMs = Int(i) } else { problem(member.key, "expected a positive integer") }
            case "$token":
                if case .string(let s) = member.value { token = s } else { problem(member.key, "expected string") }
            default:
                problem(member.key, "unknown gateway option (known: $region, $cache, $timeoutMs, $token)")
            }
        }
        if !problems.isEmpty { throw ClientError.invalidParams(problems) }
    }
}
