import AWSClient
import AWSCredentials
import AWSJSON
import AWSModels
import AWSSigning
import ArgumentParser
import Foundation
import GatewayCore
import GatewayServer
import GatewayTransport
import NIOPosix

struct CredentialsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "credentials", abstract: "The configured credential sources.", subcommands: [Check.self])

    struct Check: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "For each source (or those named): whether it yields credentials, their kind and expiry, and the identity AWS reports. Never a key.")
        @Argument(help: "Source names from the config's credentials: (default: all).") var sources: [String] = []
        @Option(help: "The configuration file (default: AWSGW_CONFIG; none: the SDK default chain as \"default\").") var config: String?
        @Option(help: "The botocore data folder (default: the config's, AWSGW_MODELS or ./models).") var models: String?

        func run() async throws {
            let environment = ProcessInfo.processInfo.environment
            var settings = GatewayConfig()
            if let file = config ?? environment["AWSGW_CONFIG"].flatMap({ $0.isEmpty ? nil : $0 }) {
                do {
                    settings = try GatewayConfig.load(file: file, environment: environment)
                } catch {
                    printError("awsgw: \(error)")
                    throw ExitCode(1)
                }
            }
            let unknown = sources.filter { settings.credentials[$0] == nil }
            guard unknown.isEmpty else {
                printError("awsgw: no credential source named \(unknown.joined(separator: ", ")) (configured: \(settings.credentials.keys.sorted().joined(separator: ", ")))")
                throw ExitCode(1)
            }
            let store: ModelStore
            do {
                store = try ModelsLocation.open(models, config: settings.models)
            } catch {
                printError("awsgw: \(error)")
                throw ExitCode(1)
            }
            let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
            let transport = try UpstreamClient(group: group, connectTimeoutSeconds: settings.upstream.connectTimeoutSeconds,
                                               maxResponseBytes: settings.limits.maxUpstreamResponseBytes)
            let engine = AWSEngine(models: store, environment: environment)
            let region = settings.region ?? resolveRegion(environment: environment)
            let caller = AWSCaller(engine: engine, transport: transport, settings: settings.upstream)
            let services = CredentialServices(caller: caller, http: TransportCredentialHTTP(transport: transport), region: region)
            let providers = settings.credentialProviders(environment: environment, services: services)
            var failed = false
            for name in sources.isEmpty ? providers.keys.sorted() : sources {
                guard let provider = providers[name] else { continue }
                let line = await Self.check(name, provider, caller: caller, region: region)
                if line.failed { failed = true }
                if line.failed { printError(line.text) } else { print(line.text) }
            }
            await transport.shutdown()
            try? await group.shutdownGracefully()
            if failed { throw ExitCode(1) }
        }

        /// One source's line: its kind and expiry, and `sts.GetCallerIdentity`'s answer.
        static func check(_ name: String, _ provider: any CredentialProvider, caller: AWSCaller, region: String?) async
            -> (failed: Bool, text: String)
        {
            let prefix = "\(name) (\(provider.sourceName)): "
            let keys: Credentials
            do {
                keys = try await provider.credentials()
            } catch {
                return (true, prefix + "no credentials: \(error.reason)")
            }
            let kind: String
            if let expiration = keys.expiration {
                kind = "temporary keys until \(ISO8601DateFormatter().string(from: expiration))"
            } else {
                kind = keys.sessionToken == nil ? "long-lived keys" : "temporary keys (no expiry given)"
            }
            do {
                let identity = try await caller.call("sts.GetCallerIdentity", params: JSONObject(), region: region ?? "aws-global", credentials: keys)
                let arn = identity["Arn"]?.stringValue ?? "?", account = identity["Account"]?.stringValue ?? "?"
                return (false, prefix + "\(kind); AWS says: \(arn) (account \(account))")
            } catch {
                return (true, prefix + "\(kind); sts.GetCallerIdentity failed: \(error)")
            }
        }
    }
}
