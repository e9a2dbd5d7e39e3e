import AWSClient
import AWSJSON
import AWSSigning
import AWSProtocols
import AWSCredentials
import AWSModels
import Foundation
import GatewayCore
import GatewayServer
import GatewaySharedState
import GatewayTransport
import Logging
import NIOCore
import NIOPosix
import NIOSSL
import ServiceLifecycle
import UnixSignals

/// Everything `awsgw serve` starts, wired together, and its orderly stop.
public final class GatewayRunner: @unchecked Sendable {
    public let gateway: Gateway
    public let server: GatewayServer
    package let transport: UpstreamClient
    /// The audit log, finished on stop.
    let audit: AuditLog?
    package let group: MultiThreadedEventLoopGroup
    let logger: Logger
    /// The file SIGHUP reloads, and the environment its sources read.
    let configFile: String?
    let environment: [String: String]
    let config: GatewayConfig
    /// What credential sources that fetch use: the engine for STS, the HTTP client.
    let credentialServices: CredentialServices
    /// The state replicas share (`shared:`), when configured.
    let shared: SharedStores?
    /// Why the shared store last failed, if it did.
    public var sharedStoreFailure: String? { shared.map { $0.health.lastFailure } }

    /// Builds the gateway from a configuration; nothing is bound until `start`.
    /// `overrides`: what a test or a benchmark changes in that wiring (`awsgw serve`: none).
    public init(config: GatewayConfig, configFile: String? = nil, models: ModelStore, environment: [String: String], logger: Logger,
                threads: Int? = nil, overrides: RunnerOverrides = RunnerOverrides()) throws {
        self.logger = logger
        self.configFile = configFile
        self.environment = environment
        self.config = config
        let count = threads ?? environment["AWSGW_THREADS"].flatMap(Int.init) ?? System.coreCount
        group = MultiThreadedEventLoopGroup(numberOfThreads: max(1, count))
        let callsInFlight = CallsInFlight()
        let tunings = try LoopTunings(group: group, idlePoll: .microseconds(Int64(config.idlePollMicroseconds)), flushCrowd: overrides.flushCrowd,
                                      callsInFlight: { callsInFlight.current })
        transport = try UpstreamClient(group: group, connectTimeoutSeconds: config.upstream.connectTimeoutSeconds,
                                       maxResponseBytes: config.limits.maxUpstreamResponseBytes, trustRoots: overrides.upstreamTrust,
                                       tunings: tunings)
        var codecOptions = CodecOptions()
        codecOptions.maxBlobBytes = config.limits.maxBlobBytes
        let engine = AWSEngine(models: models, environment: environment, codecOptions: codecOptions)
        let region = config.region ?? resolveRegion(environment: environment)
        credentialServices = CredentialServices(
            caller: AWSCaller(engine: engine, transport: transport, settings: config.upstream),
            http: TransportCredentialHTTP(transport: transport), region: region)
        let metrics = GatewayMetrics()
        let group = self.group
        let shared = try config.shared.map { try SharedStores(settings: $0, environment: environment, group: group, logger: logger, metrics: metrics) }
        self.shared = shared
        let rules = GatewayRunner.rules(for: config, environment: environment, services: credentialServices, shared: shared, previous: nil)
        audit = try config.logs.map { configured in
            var settings = configured
            if settings.dir.isEmpty { settings.dir = AuditLogSettings.defaultDirectory(environment: environment) }
            return try AuditLog(settings: settings, onDrop: { metrics.recordAuditDrop() })
        }
        var dependencies = GatewayDependencies(engine: engine, transport: transport,
                                               credentialSources: rules.credentialSources)
        dependencies.policy = rules.policy
        dependencies.rateLimiter = RateLimiter(limits: config.rateLimits, shared: shared.map { ($0.rates, $0.health) })
        dependencies.cache = rules.cache
        dependencies.defaultRegion = rules.defaultRegion
        dependencies.audit = audit
        dependencies.limits = config.limits
        dependencies.upstream = config.upstream
        dependencies.logger = logger
        dependencies.metrics = metrics
        dependencies.callsInFlight = callsInFlight
        overrides.gateway(&dependencies)
        gateway = Gateway(dependencies)
        server = GatewayServer(gateway: gateway, config: config, group: group, tunings: tunings, logger: logger)
    }

    public func start() async throws {
        // SIGHUP is trapped before the listeners are announced: one sent as soon as a
        // caller sees them (a deploy script, a test) must reload, not end the process
        // (its default action), and waits for `runUntilSignalled`.
        hangups = await UnixSignalsSequence(trapping: .sighup)
        try await server.start()
    }

    /// The SIGHUPs received since `start`: `runUntilSignalled` reloads on each.
    private var hangups: UnixSignalsSequence?

    /// What the gateway found at start, a line each, so that a region or credentials
    /// problem shows now rather than on the first call. Never a secret or a key id.
    public func startupSummary() async -> [(warning: Bool, text: String)] {
        var lines: [(Bool, String)] = []
        let rules = gateway.rules
        for warning in config.warnings(environment: environment) { lines.append((true, warning)) }
        lines.append((false, "config: " + (configFile ?? "none (only this user is admitted, over a Unix socket, allowed everything)")))
        lines.append((false, "models: \(gateway.engine.models.root) (\(gateway.engine.models.serviceNames.count) services)"))
        if let region = rules.defaultRegion {
            lines.append((false, "region: \(region)"))
        } else {
            lines.append((true, "region: none: calls must give \"$region\" (or set AWS_REGION, or region: in the config)"))
        }
        for name in rules.credentialSources.keys.sorted() {
            guard let source = rules.credentialSources[name] else { continue }
            let check = await GatewayRunner.check(source, caller: credentialServices.caller, region: credentialServices.region)
            lines.append((check.warning, "credentials \(name) (\(source.sourceName)): \(check.text)"))
        }
        if let shared {
            lines.append(await shared.check(cacheShared: rules.cache?.settings.store == .shared))
        }
        if let audit {
            lines.append((false, "audit log: \(audit.settings.dir) (params: \(audit.settings.params.rawValue))"))
        } else {
            lines.append((false, "audit log: off"))
        }
        return lines
    }

    /// Whether a source yields credentials now (within a second), of which kind, and who
    /// AWS says they are (`sts.GetCallerIdentity`, within two more). Never a key.
    static func check(_ source: any CredentialProvider, caller: (any AWSOperationCaller)?, region: String?) async -> (warning: Bool, text: String) {
        let fetched: Result<Credentials, CredentialsError>? = await within(seconds: 1) {
            do throws(CredentialsError) { return .success(try await source.credentials()) } catch { return .failure(error) }
        }
        guard let fetched else { return (true, "no answer within a second") }
        guard case .success(let keys) = fetched else {
            if case .failure(let error) = fetched { return (true, "yields nothing now: \(error.reason)") }
            return (true, "yields nothing now")
        }
        var text: String
        if let expiration = keys.expiration {
            text = "yields temporary keys until \(ISO8601DateFormatter().string(from: expiration))"
        } else {
            text = keys.sessionToken == nil ? "yields long-lived keys" : "yields temporary keys (with a session token)"
        }
        guard let caller else { return (false, text) }
        let identity: String? = await within(seconds: 2) {
            do {
                let answer = try await caller.call("sts.GetCallerIdentity", params: JSONObject(), region: region ?? "aws-global", credentials: keys)
                return "AWS says \(answer["Arn"]?.stringValue ?? "?")"
            } catch {
                return "who they are is unknown (sts.GetCallerIdentity: \(error))"
            }
        }
        return (false, text + "; " + (identity ?? "who they are is unknown (sts.GetCallerIdentity did not answer within two seconds)"))
    }

    /// `work`'s result, or nil if it takes longer than `seconds` (it is then cancelled).
    static func within<T: Sendable>(seconds: Double, _ work: @escaping @Sendable () async -> T) async -> T? {
        await withTaskGroup(of: T?.self) { group in
            group.addTask { await work() }
            group.addTask {
                try? await Task.sleep(nanoseconds: UInt64(seconds * 1e9))
                return nil
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first
        }
    }

    /// Graceful stop: listeners closed, calls in flight finished (within the grace
    /// period), connections closed, socket files removed, HTTP client shut down.
    public func stop() async {
        await server.shutdown()
        audit?.close()
        shared?.client.close()
        await transport.shutdown()
        try? await group.shutdownGracefully()
    }

    /// The rules a configuration makes. The cache is kept from `previous` when its
    /// settings did not change, so a reload does not throw its contents away.
    static func rules(for config: GatewayConfig, environment: [String: String], services: CredentialServices, shared: SharedStores?,
                      previous: GatewayRules?) -> GatewayRules {
        let sources = config.credentialProviders(environment: environment, services: services)
        var cache: ResponseCache?
        if let settings = config.cache {
            if let old = previous?.cache, old.settings.sameRules(as: settings) { cache = old } else {
                // `store: shared` needs the `shared:` the gateway started with (a reload cannot add one).
                let store = settings.store == .shared ? shared.map { (store: $0.cache as any SharedCacheStore, health: $0.health) } : nil
                cache = ResponseCache(settings: settings, shared: store)
            }
        }
        return GatewayRules(credentialSources: sources, policy: config.policy, cache: cache,
                            defaultRegion: config.region ?? resolveRegion(environment: environment))
    }

    /// Reads the config file again and puts its rules in force; an invalid file changes
    /// nothing and the reason is logged. Listeners, TLS and limits need a restart.
    @discardableResult
    public func reload() -> Bool {
        guard let configFile else {
            logger.warning("reload asked for, but the gateway runs without a config file")
            return false
        }
        do {
            let config = try GatewayConfig.load(file: configFile, environment: environment)
            var services = credentialServices
            services.region = config.region ?? resolveRegion(environment: environment)
            if config.shared != self.config.shared {
                logger.warning("shared: changed; the new settings take effect at the next restart")
            }
            gateway.replaceRules(GatewayRunner.rules(for: config, environment: environment, services: services, shared: shared, previous: gateway.rules),
                                 rateLimits: config.rateLimits)
            logger.info("configuration reloaded", metadata: ["file": "\(configFile)"])
            return true
        } catch {
            logger.error("configuration reload failed; the previous configuration stays in force", metadata: ["error": "\(error)"])
            return false
        }
    }

    /// Runs until SIGTERM or SIGINT, then stops gracefully; SIGHUP reloads the config file.
    public func runUntilSignalled() async throws {
        let serviceGroup = ServiceGroup(configuration: .init(
            services: [.init(service: SignalledStop(runner: self)), .init(service: ReloadOnHangup(runner: self, hangups: hangups))],
            gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await serviceGroup.run()
    }
}

/// What tests and benchmarks change in the wiring a configuration makes.
public struct RunnerOverrides: Sendable {
    /// The trust roots of the HTTP client to AWS (a stand-in's development certificate).
    public var upstreamTrust: NIOSSLTrustRoots = .default
    /// Calls in flight above which flushes are gathered (nil: two per event loop, as
    /// `awsgw serve` does).
    public var flushCrowd: Int?
    /// The gateway's parts made by hand (a policy, a cache, an audit log, credential
    /// sources, the wait between retries), after the configuration made them.
    public var gateway: @Sendable (inout GatewayDependencies) -> Void = { _ in }

    public init() {}
}

/// Reloads the configuration on each SIGHUP until shutdown.
struct ReloadOnHangup: Service {
    let runner: GatewayRunner
    /// The signals trapped since start, if it trapped them.
    let hangups: UnixSignalsSequence?

    func run() async throws {
        let signals = if let hangups { hangups } else { await UnixSignalsSequence(trapping: .sighup) }
        for await _ in signals.cancelOnGracefulShutdown() {
            runner.reload()
        }
    }
}

/// A service that waits for the shutdown signal and then stops the gateway.
struct SignalledStop: Service {
    let runner: GatewayRunner

    func run() async throws {
        try? await gracefulShutdown()
        runner.logger.info("stopping: finishing calls in flight")
        await runner.stop()
        runner.logger.info("stopped")
    }
}
