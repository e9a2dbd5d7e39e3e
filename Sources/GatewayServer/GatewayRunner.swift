import AWSClient
import AWSCredentials
import AWSModels
import Foundation
import GatewayCore
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle

/// Everything `awsgw serve` starts, wired together, and its orderly stop.
public final class GatewayRunner: @unchecked Sendable {
    public let gateway: Gateway
    public let server: GatewayServer
    let transport: UpstreamClient
    let group: MultiThreadedEventLoopGroup
    let logger: Logger

    /// Builds the gateway from a configuration; nothing is bound until `start`.
    public init(config: GatewayConfig, models: ModelStore, environment: [String: String], logger: Logger,
                threads: Int? = nil) throws {
        self.logger = logger
        let count = threads ?? environment["AWSGW_THREADS"].flatMap(Int.init) ?? System.coreCount
        group = MultiThreadedEventLoopGroup(numberOfThreads: max(1, count))
        transport = try UpstreamClient(group: group, connectTimeoutSeconds: config.upstream.connectTimeoutSeconds,
                                       maxResponseBytes: config.limits.maxUpstreamResponseBytes)
        var sources: [String: any CredentialProvider] = [:]
        for name in config.credentials.keys {
            sources[name] = config.credentialProvider(named: name, environment: environment)
        }
        let region = config.region ?? resolveRegion(environment: environment)
        gateway = Gateway(builder: RequestBuilder(models: models, environment: environment), transport: transport, credentialSources: sources,
                          policy: config.policy, rateLimiter: RateLimiter(limits: config.rateLimits),
                          cache: config.cache.map { ResponseCache(settings: $0) }, defaultRegion: region, limits: config.limits, upstream: config.upstream, logger: logger)
        server = GatewayServer(gateway: gateway, config: config, group: group, logger: logger)
    }

    public func start() async throws {
        try await server.start()
    }

    /// Graceful stop: listeners closed, calls in flight finished (within the grace
    /// period), connections closed, socket files removed, HTTP client shut down.
    public func stop() async {
        await server.shutdown()
        await transport.shutdown()
        try? await group.shutdownGracefully()
    }

    /// Runs until SIGTERM or SIGINT, then stops gracefully.
    public func runUntilSignalled() async throws {
        let service = SignalledStop(runner: self)
        let serviceGroup = ServiceGroup(configuration: .init(
            services: [.init(service: service)], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await serviceGroup.run()
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
