import Foundation
import GatewayCore
import Logging
import NIOCore
import NIOSSL
import RedisClient

/// What `shared:` makes: one Redis client (a connection per event loop) behind the rate
/// and cache stores, and the health both report to.
package final class SharedStores: Sendable {
    package let settings: SharedSettings
    package let client: RedisClient
    package let rates: RedisRateLimitStore
    package let cache: RedisCacheStore
    package let health: SharedStoreHealth

    package init(settings: SharedSettings, environment: [String: String], group: EventLoopGroup, logger: Logger, metrics: GatewayMetrics) throws {
        guard let url = RedisURL(settings.redis) else { throw SharedStoreError("shared.redis: not a Redis URL: \(settings.redis)") }
        var tls: NIOSSLContext?
        if url.tls {
            var configuration = TLSConfiguration.makeClientConfiguration()
            if let ca = settings.caFile { configuration.trustRoots = .file(ca) }
            tls = try NIOSSLContext(configuration: configuration)
        }
        let password = settings.passwordEnv.flatMap { environment[$0] }.flatMap { $0.isEmpty ? nil : $0 }
        self.settings = settings
        client = RedisClient(url: url, password: password, group: group, tls: tls,
                             commandTimeout: .nanoseconds(Int64(settings.timeoutSeconds * 1e9)), connectTimeout: .seconds(1))
        rates = RedisRateLimitStore(client: client, prefix: settings.keyPrefix)
        cache = RedisCacheStore(client: client, prefix: settings.keyPrefix)
        health = SharedStoreHealth(onFailure: settings.onFailure, logger: logger, metrics: metrics)
    }

    /// The start summary's line: whether Redis answers a PING (within a second). Never the
    /// password (the URL holds none).
    package func check(cacheShared: Bool) async -> (warning: Bool, text: String) {
        let what = "rate limits" + (cacheShared ? " and cache" : "") + " shared through \(settings.redis)"
        let started = Date()
        var lastError = "no answer"
        while Date().timeIntervalSince(started) < 1 {
            do throws(RedisError) {
                _ = try await client.command(["PING"])
                let ms = Int(Date().timeIntervalSince(started) * 1000)
                return (false, "shared store: \(what); Redis answered in \(ms) ms")
            } catch {
                lastError = error.description
                try? await Task.sleep(nanoseconds: 100_000_000)
            }
        }
        let fallback = settings.onFailure == .local ? "each replica limits alone until it does" : "calls are refused until it does"
        return (true, "shared store: \(what); Redis does not answer (\(lastError)): \(fallback)")
    }
}

/// Redis commands as the shared stores send them: any failure (no connection, a timeout,
/// a malformed or error reply) is the store's `SharedStoreError`.
extension RedisClient {
    @discardableResult
    package func storeCommand(_ arguments: [RESPArgument]) async throws(SharedStoreError) -> RESPValue {
        do throws(RedisError) {
            return try await command(arguments)
        } catch {
            throw SharedStoreError(error.description)
        }
    }

    @discardableResult
    package func storeRun(_ script: RedisScript, keys: [RESPArgument], arguments: [RESPArgument]) async throws(SharedStoreError) -> RESPValue {
        do throws(RedisError) {
            let reply = try await run(script, keys: keys, arguments: arguments)
            if case .error(let message) = reply { throw .server(message) }
            return reply
        } catch {
            throw SharedStoreError(error.description)
        }
    }
}
