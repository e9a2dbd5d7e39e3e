import AWSClient
import AWSCredentials
import AWSJSON
import AWSProtocols
import AWSSigning
import Foundation
import Logging
import Synchronization

/// Everything a gateway is made of, so that it is built from one value.
public struct GatewayDependencies: Sendable {
    public var engine: AWSEngine
    /// The only way to AWS: a real HTTP client, or an in-memory one in tests.
    public var transport: any HTTPTransport
    /// Named credential sources; each team's calls are signed with its source.
    public var credentialSources: [String: any CredentialProvider]
    public var policy: Policy = .ownUserOnly()
    public var rateLimiter = RateLimiter(limits: [:])
    public var cache: ResponseCache?
    public var defaultRegion: String?
    /// Where each call's record goes; nil when audit logging is off.
    public var audit: AuditLog?
    public var limits = GatewayLimits()
    public var upstream = UpstreamSettings()
    public var logger = Logger(label: "awsgw")
    public var metrics = GatewayMetrics()
    /// Counts the calls in flight (shared with the event loops' tuning).
    public var callsInFlight = CallsInFlight()
    /// Sleeps between attempts; tests may shorten it.
    public var sleep: @Sendable (Double) async -> Void = { seconds in try? await Task.sleep(nanoseconds: UInt64(seconds * 1e9)) }

    public init(engine: AWSEngine, transport: any HTTPTransport, credentialSources: [String: any CredentialProvider]) {
        self.engine = engine
        self.transport = transport
        self.credentialSources = credentialSources
    }
}

/// The gateway's pipeline. A call from any door (`GatewayCall`) goes through these
/// steps, in this order (`execute`):
///
///     identify → resolve → authorize → rate-limit → prepare → cache (single flight) → forward
///                                                              (the client: sign → send → parse, retried)
///
/// and every call, answered or not, leaves one audit record (`run`). No sockets and no
/// wire formats here: doors turn their bytes into calls and outcomes into their bytes.
public final class Gateway: Sendable {
    public let engine: AWSEngine
    public let rateLimiter: RateLimiter
    public let audit: AuditLog?
    public let metrics: GatewayMetrics
    /// The rules a reload may replace; each call works with the rules it started with.
    private let rulesBox: Mutex<GatewayRules>
    public var rules: GatewayRules { rulesBox.withLock { $0 } }
    let limits: GatewayLimits
    /// The client's send: retries, S3's redirect, the blob bound.
    let caller: AWSCaller
    let logger: Logger
    /// Calls admitted and not yet answered.
    private let inFlight: CallsInFlight
    /// Waits between a waiter's polls (tests shorten it).
    let sleep: @Sendable (Double) async -> Void

    /// How long an overloaded gateway asks callers to wait before trying again.
    public static let overloadRetryAfterMs = 100

    public init(_ dependencies: GatewayDependencies) {
        engine = dependencies.engine
        rateLimiter = dependencies.rateLimiter
        audit = dependencies.audit
        metrics = dependencies.metrics
        rulesBox = Mutex(GatewayRules(credentialSources: dependencies.credentialSources, policy: dependencies.policy,
                                      cache: dependencies.cache, defaultRegion: dependencies.defaultRegion))
        limits = dependencies.limits
        inFlight = dependencies.callsInFlight
        sleep = dependencies.sleep
        logger = dependencies.logger
        caller = AWSCaller(engine: dependencies.engine, transport: dependencies.transport, settings: dependencies.upstream,
                           sleep: dependencies.sleep)
    }

    /// `GET /metrics`: the registry's metrics, then each refreshing credential source's.
    public func metricsText() -> [UInt8] {
        let sources = rules.credentialSources.compactMap { entry in
            (entry.value as? RefreshingCredentialProvider).map { (name: entry.key, status: $0.currentStatus) }
        }.sorted { $0.name < $1.name }
        return metrics.text() + GatewayMetrics.credentialText(sources, now: Date())
    }

    /// Calls being carried out now.
    public var callsInFlight: Int { inFlight.current }

    // MARK: Calls from the doors

    /// Carries out one call from a door and records it. `answer` writes the outcome in
    /// the door's own form and gives its size for the record: every call a door takes is
    /// decided, carried out and audited here, never by the door.
    public func run<Answer>(_ call: GatewayCall, context: CallContext, bytesIn: Int?,
                            answer: (Result<JSONObject, RPCError>) -> (Answer, bytesOut: Int)) async -> Answer {
        if CallOptions.asksToWait(call.params) { return await runRepeated(call, context: context, bytesIn: bytesIn, answer: answer) { try await self.waitOut($0) } }
        if CallOptions.asksForPages(call.params) { return await runRepeated(call, context: context, bytesIn: bytesIn, answer: answer) { try await self.paginate($0) } }
        let started = Date()
        let trace = CallTrace()
        let outcome = await perform(call, context: context, trace: trace)
        let (written, bytesOut) = answer(outcome)
        if audit != nil {
            let code: Int? = if case .failure(let error) = outcome { error.code } else { nil }
            let inSize = bytesIn ?? (JSON.object(call.params).serialized().count + call.method.utf8.count + 40)
            record(trace, call: call, context: context, code: code, bytesIn: inSize, bytesOut: bytesOut, started: started)
        }
        return written
    }

    /// A request a door could not read as a call (malformed, over a limit): recorded, as
    /// every request is, with the error it was answered.
    public func recordUnreadable(_ error: RPCError, context: CallContext, bytesIn: Int, bytesOut: Int) {
        record(CallTrace(), call: nil, context: context, code: error.code, bytesIn: bytesIn, bytesOut: bytesOut, started: Date())
    }

    func record(_ trace: CallTrace, call: GatewayCall?, context: CallContext, code: Int?, bytesIn: Int, bytesOut: Int, started: Date) {
        guard let audit else { return }
        let record = AuditRecord(
            started: started, listener: context.listener, door: context.door, identity: trace.identity ?? Policy.describe(context.peer),
            team: trace.team, method: trace.method ?? call?.method ?? "(invalid request)", decision: AuditDecision(code: code, allowed: trace.allowed),
            cache: trace.cache, limiter: trace.limiter, code: code, awsType: trace.awsType, awsRequestId: trace.awsRequestId, attempts: trace.attempts,
            latencySeconds: Date().timeIntervalSince(started), bytesIn: bytesIn, bytesOut: bytesOut, params: call?.params,
            inputShape: trace.handle?.operation.input, notification: call?.isNotification == true)
        audit.record(line: record.line(params: audit.settings.params))
    }

    // MARK: One call

    /// Carries out one call within the in-flight limit and returns the operation's result
    /// or the refusal or failure (unrecorded: doors call `run`).
    public func perform(_ call: GatewayCall, context: CallContext, trace: CallTrace = CallTrace()) async -> Result<JSONObject, RPCError> {
        await inFlightLimited(call, trace: trace) { try await self.execute(call, context: context, trace: trace) }
    }

    /// Carries out `body` as one of the calls in flight, unless `max_in_flight` are
    /// already: its failure as the caller's error, its outcome counted in the metrics.
    func inFlightLimited(_ call: GatewayCall, trace: CallTrace, _ body: () async throws -> JSONObject) async -> Result<JSONObject, RPCError> {
        guard inFlight.admit(limit: limits.maxInFlightCalls) else {
            metrics.overloadedCalls.increment()
            return .failure(RPCError(code: RPCError.overloaded, message: "gateway overloaded: \(limits.maxInFlightCalls) calls in flight; retry later",
                                     data: .object(JSONObject([("retryAfterMs", .int(Int64(Gateway.overloadRetryAfterMs))),
                                                               ("limit", .int(Int64(limits.maxInFlightCalls)))]))))
        }
        metrics.inFlight.increment()
        let started = Date()
        defer {
            inFlight.release()
            metrics.inFlight.decrement()
        }
        let outcome: Result<JSONObject, RPCError>
        do {
            outcome = .success(try await body())
        } catch {
            outcome = .failure(Gateway.rpcError(error, logger: logger, method: call.method))
        }
        let method = trace.method ?? "unknown"
        switch outcome {
        case .success: metrics.recordCall(method: method, outcome: "ok", seconds: Date().timeIntervalSince(started))
        case .failure(let error): metrics.recordCall(method: method, outcome: String(error.code), seconds: Date().timeIntervalSince(started))
        }
        return outcome
    }

    /// The call path, step by step.
    private func execute(_ call: GatewayCall, context: CallContext, trace: CallTrace) async throws -> JSONObject {
        let admitted = try admit(call, context: context, trace: trace)
        return try await carryOut(admitted, params: admitted.params, trace: trace)
    }

    /// Identify → resolve → authorize: who calls which operation, and may they? Decided
    /// before any work is done for the call.
    func admit(_ call: GatewayCall, context: CallContext, trace: CallTrace) throws -> AdmittedCall {
        let rules = self.rules
        let (options, params) = try CallOptions.split(call.params)
        // Who is calling, before the method is resolved: resolving loads the service's
        // model (megabytes), which a caller no team admits must not be able to make happen.
        let team: Team, identity: String
        do {
            (team, identity) = try identify(context: context, token: options.token, policy: rules.policy, trace: trace)
        } catch {
            // The record names the method canonically, and hides what its model marks
            // sensitive, when it was resolved before (nothing is loaded for this caller).
            trace.handle = engine.resolvedOperation(call.method)
            throw error
        }
        let handle = try resolve(call.method, team: team, identity: identity, policy: rules.policy, trace: trace)
        try authorize(handle, team: team, identity: identity, policy: rules.policy, trace: trace)
        return AdmittedCall(handle: handle, params: params, options: options, team: team, rules: rules, caller: call.caller)
    }

    /// Rate-limit → prepare → cache → forward (or presign): one request to AWS for an
    /// admitted call, with `params` (a page's, when paging).
    func carryOut(_ admitted: AdmittedCall, params: JSONObject, trace: CallTrace) async throws -> JSONObject {
        let (handle, options, team, rules) = (admitted.handle, admitted.options, admitted.team, admitted.rules)
        try await rateLimit(team: team.name, handle, trace: trace)
        let prepared = try prepare(handle, params: params, options: options, team: team, rules: rules)
        if let seconds = options.presign {
            // After the same policy and rate checks, a URL instead of the call.
            do { return try await caller.presign(prepared.call, seconds: seconds) } catch { throw rpcError(error, prepared) }
        }
        if let caller = admitted.caller, handle.answersWithEvents {
            // Events go to the caller as they arrive: nothing to cache, nothing from the cache.
            note(.none, trace)
            return try await forward(prepared, trace: trace, events: caller.events)
        }
        return try await cached(prepared, mode: options.cache, credentialsName: team.credentials, cache: rules.cache, trace: trace) {
            try await self.forward(prepared, trace: trace)
        }
    }

    /// Forward: the client sends the call (retrying as the SDKs do); what happens on the way
    /// goes into the trace, the metrics and the team's rate-limit holds.
    func forward(_ prepared: PreparedCall, trace: CallTrace, events: EventSink? = nil) async throws -> JSONObject {
        let observer = PipelineObserver(trace: trace, team: prepared.team, handle: prepared.call.handle, rateLimiter: rateLimiter, metrics: metrics)
        do {
            return try await caller.send(prepared.call, observer: observer, events: events)
        } catch {
            throw rpcError(error, prepared)
        }
    }

    /// A send's failure as the caller's JSON-RPC error. A credentials failure names the
    /// source by its config name only; its cause (which may name a key id or a file) goes
    /// to the operator's log.
    private func rpcError(_ error: SendError, _ prepared: PreparedCall) -> RPCError {
        switch error {
        case .aws(let awsError, _) where awsError.inStream && awsError.code == AWSErrorResponse.brokenStreamCode:
            return Gateway.unreachable(attempts: 1, cause: "the event stream broke: " + awsError.message)
        case .aws(let awsError, let retryable):
            return awsError.rpcError(retryable: retryable)
        case .unreachable(let attempts, let cause):
            return Gateway.unreachable(attempts: attempts, cause: cause)
        case .blobTooLarge(let member, let bytes, let limit):
            return RPCError(code: RPCError.awsUnreachable,
                            message: "the answer's \(member) is larger than limits.max_blob (\(limit) bytes); for large S3 objects use a presigned URL ($presign)",
                            data: .object(JSONObject([("cause", "blob too large"), ("bytes", .int(Int64(bytes)))])))
        case .credentials(let cause):
            logger.warning("no usable credentials", metadata: ["source": "\(prepared.sourceName)", "cause": "\(cause.description)"])
            return Gateway.noCredentials(source: prepared.sourceName)
        case .request(let clientError):
            return clientError.rpcError
        }
    }

    /// Resolve: which operation the method names. One not resolved before loads its
    /// service's model, so a service none of the team's rules names is refused first, with
    /// the answer `authorize` would give: a team allowed one service must not be able to
    /// make the gateway load every other (megabytes each).
    func resolve(_ method: String, team: Team, identity: String, policy: Policy, trace: CallTrace) throws -> OperationHandle {
        let handle: OperationHandle
        if let resolved = engine.resolvedOperation(method) {
            handle = resolved
        } else {
            if let parts = AWSEngine.methodParts(method), let service = engine.models.canonicalServiceName(parts.service),
               policy.namesNoRule(team, service: service) {
                throw Gateway.denied(identity: identity, rule: Policy.noAllowRule)
            }
            handle = try engine.operation(method)
        }
        trace.handle = handle
        return handle
    }

    /// Identify: who is calling, and which team admits them? Before any work is done.
    func identify(context: CallContext, token: String?, policy: Policy, trace: CallTrace) throws -> (Team, identity: String) {
        let (found, identity) = policy.team(for: context.peer, token: token ?? context.bearerToken)
        trace.identity = identity
        trace.team = found?.name
        guard let team = found else {
            let hint = context.peer.uid == nil && context.peer.commonName == nil && (token ?? context.bearerToken) == nil
                ? "(no team's members match; a TCP caller is admitted by a bearer token (token-sha256:) or, on TLS, a client certificate (cn:))"
                : "(no team's members match)"
            throw Gateway.denied(identity: identity, rule: hint)
        }
        return (team, identity)
    }

    /// Authorize: may the caller's team call this operation?
    func authorize(_ handle: OperationHandle, team: Team, identity: String, policy: Policy, trace: CallTrace) throws {
        let decision = policy.decide(team, service: handle.service.name, operation: handle.operation.name)
        guard decision.allowed else { throw Gateway.denied(identity: identity, rule: decision.rule) }
        trace.allowed = true
    }

    /// Rate-limit: the team's buckets, and any hold after AWS throttled this operation.
    func rateLimit(team: String, _ handle: OperationHandle, trace: CallTrace) async throws {
        let decision = await rateLimiter.decide(team: team, service: handle.service.name, operation: handle.operation.name)
        if rateLimiter.shared != nil { trace.limiter = decision.limiter }
        if let waitMs = decision.waitMs {
            var data = JSONObject([("retryAfterMs", .int(Int64(waitMs)))])
            if let cause = decision.cause { data.append("cause", .string(cause)) }
            throw RPCError(code: RPCError.rateLimited, message: decision.cause == nil ? "over the rate limit; retry later"
                               : "the shared rate limiter is unavailable; retry later", data: .object(data))
        }
    }

    /// Prepare: validate params (filling the idempotency token once), pick the region
    /// and the team's credential source.
    func prepare(_ handle: OperationHandle, params: JSONObject, options: CallOptions, team: Team, rules: GatewayRules) throws -> PreparedCall {
        let validated = try engine.prepareParams(params, for: handle, forPresigning: options.presign != nil)
        guard let source = rules.credentialSources[team.credentials] else {
            logger.warning("team names a credential source that is not configured", metadata: ["team": "\(team.name)", "source": "\(team.credentials)"])
            throw Gateway.noCredentials(source: team.credentials)
        }
        let call = ClientCall(handle: handle, params: validated, region: options.region ?? team.region ?? rules.defaultRegion ?? "",
                              credentials: source, deadlineSeconds: options.timeoutMs.map { Double($0) / 1000 },
                              responseContext: engine.responseContext(for: handle, callerParams: params))
        return PreparedCall(call: call, sourceName: team.credentials, team: team.name)
    }

    /// Cache: a read-only call may be answered from the cache; identical misses in flight
    /// together make one call to AWS. A call that may change things drops its service's
    /// entries for the same credentials.
    func cached(_ prepared: PreparedCall, mode: CacheMode, credentialsName: String, cache: ResponseCache?, trace: CallTrace,
                        forward: @escaping @Sendable () async throws -> JSONObject) async throws -> JSONObject {
        let handle = prepared.call.handle
        let service = handle.service.name, operation = handle.operation.name
        guard let cache, cache.settings.isCacheable(service: service, operation: operation, readOnly: handle.operation.isReadOnly),
              let ttl = cache.settings.ttl(service: service, operation: operation)
        else {
            note(.none, trace)
            let result = try await forward()
            // A call that may change things hides its scope's entries (a read left
            // uncached, e.g. excluded, leaves them alone).
            if let cache, !cache.settings.isRead(service: service, operation: operation, readOnly: handle.operation.isReadOnly) {
                await cache.invalidateEverywhere(scope: ResponseCache.scope(credentials: credentialsName, service: service))
            }
            return result
        }
        let scope = ResponseCache.scope(credentials: credentialsName, service: service)
        if mode == .bypass {
            note(.bypass, trace)
            return try await forward()
        }
        let key = ResponseCache.key(credentials: credentialsName, region: prepared.call.region, service: service, operation: operation,
                                    params: prepared.call.params)
        if cache.shared != nil {
            // A follower waits for another replica's fetch no longer than the call may last.
            let lockSeconds = prepared.call.deadlineSeconds ?? caller.settings.requestTimeoutSeconds
            let fetched = await cache.sharedFetch(key: key, scope: scope, ttl: ttl, mode: mode, lockSeconds: lockSeconds) {
                do {
                    return .success(try await forward())
                } catch {
                    return .failure(Gateway.rpcError(error, logger: self.logger, method: handle.canonicalName))
                }
            }
            switch fetched {
            case .answered(let value, let outcome):
                note(outcome, trace)
                return value
            case .failed(let error):
                note(mode == .refresh ? .refresh : .miss, trace)
                throw error
            case .unavailable:
                break  // this replica's memory, until the store answers again
            }
        }
        if mode == .use, let hit = cache.lookup(key) {
            note(.hit, trace)
            return hit
        }
        note(mode == .refresh ? .refresh : .miss, trace)
        let (result, leader) = await cache.coalesce(key) {
            do {
                return .success(try await forward())
            } catch {
                return .failure(Gateway.rpcError(error, logger: self.logger, method: handle.canonicalName))
            }
        }
        switch result {
        case .success(let value):
            if leader { cache.store(key, value, ttl: ttl, scope: scope) }
            return value
        case .failure(let error):
            throw error
        }
    }

    private func note(_ outcome: CacheOutcome, _ trace: CallTrace) {
        metrics.recordCache(outcome.rawValue)
        trace.cache = outcome
    }

    // MARK: Rules and errors

    /// Puts new rules in force (a reload). Calls already running keep theirs.
    public func replaceRules(_ rules: GatewayRules, rateLimits: [String: RateLimiter.TeamLimits]) {
        rateLimiter.update(limits: rateLimits)
        rulesBox.withLock { $0 = rules }
    }

    /// Any error of the pipeline as the JSON-RPC error the caller gets.
    static func rpcError(_ error: Error, logger: Logger, method: String) -> RPCError {
        switch error {
        case let error as RPCError: return error
        case let error as ClientError: return error.rpcError
        default:
            logger.error("internal fault", metadata: ["method": "\(method)", "error": "\(error)"])
            return RPCError(code: RPCError.internalError, message: "internal error")
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

    static func denied(identity: String, rule: String) -> RPCError {
        RPCError(code: RPCError.policyDenied, message: "denied by the gateway's policy",
                 data: .object(JSONObject([("identity", .string(identity)), ("rule", .string(rule))])))
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
    public var cache = CacheOutcome.none
    public var attempts = 0
    public var awsType: String?
    public var awsRequestId: String?
    /// The HTTP status of AWS's last answer (a waiter's `status` acceptor reads it).
    public var httpStatus: Int?
    /// Which limiter admitted or refused the call, when replicas share one.
    public var limiter: RateLimiter.Limiter?
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

/// A call its caller may make: the operation, its params and options, the team and
/// the rules it was admitted under.
struct AdmittedCall: Sendable {
    let handle: OperationHandle
    let params: JSONObject
    var options: CallOptions
    let team: Team
    let rules: GatewayRules
    /// The caller, when its framing takes events before the answer.
    let caller: CallerLink?
}

/// A call that passed every check, ready for the client, with the team it is made for.
struct PreparedCall: Sendable {
    let call: ClientCall
    /// The credential source's name in the config: the only name callers ever see.
    let sourceName: String
    let team: String
}

/// What the client's send tells the pipeline: attempts and request ids for the audit
/// record, attempts for the metrics, AWS's throttles and successes for the team's holds.
struct PipelineObserver: SendObserver {
    let trace: CallTrace
    let team: String
    let handle: OperationHandle
    let rateLimiter: RateLimiter
    let metrics: GatewayMetrics

    func attempting(_ attempt: Int) {
        metrics.recordAttempt()
        trace.attempts = attempt
    }

    func probing() { metrics.recordAttempt() }

    func answered(requestId: String?, status: Int) {
        trace.awsRequestId = requestId
        trace.httpStatus = status
    }

    func failed(awsType: String, kind: FailureKind) async {
        trace.awsType = awsType
        if kind == .throttling { await rateLimiter.throttled(team: team, service: handle.service.name, operation: handle.operation.name) }
    }

    func succeeded() async {
        await rateLimiter.succeeded(team: team, service: handle.service.name, operation: handle.operation.name)
    }
}
