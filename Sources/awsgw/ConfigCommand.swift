import AWSCredentials
import AWSJSON
import AWSSigning
import ArgumentParser
import Foundation
import GatewayCore

struct ConfigCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "config", abstract: "Configuration files.", subcommands: [Check.self])

    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Validates FILE; names each offending key or value.")
        @Argument(help: "The YAML configuration file.") var file: String
        @Option(help: "The botocore data folder serve would be given (default: the config's, AWSGW_MODELS or ./models).") var models: String?

        /// The file, then what `serve --config FILE` would open: the same checks, so that a
        /// valid file starts.
        func run() throws {
            do {
                let environment = ProcessInfo.processInfo.environment
                var config = try GatewayConfig.load(file: file, environment: environment)
                config.listen = StartupCheck.listeners(config: config, flags: [], environment: environment)
                let startup = StartupCheck(config: config, models: ModelsLocation.choose(flag: models, config: config.models, environment: environment),
                                           environment: environment)
                let problems = Self.profileProblems(config, environment: environment) + startup.problems
                guard problems.isEmpty else {
                    for problem in problems { printError("awsgw: \(file): \(problem)") }
                    throw ExitCode(1)
                }
                print("awsgw: \(file) is valid")
                for note in startup.notes { print("awsgw: note: \(note)") }
                for warning in config.warnings(environment: environment) { printError("awsgw: warning: \(warning)") }
            } catch let exit as ExitCode {
                throw exit
            } catch {
                printError("awsgw: \(error)")
                throw ExitCode(1)
            }
        }

        /// The profiles `profile` sources name, read as the gateway will read them (roles,
        /// source_profile chains and cycles, ARNs, MFA), without fetching anything.
        static func profileProblems(_ config: GatewayConfig, environment: [String: String]) -> [String] {
            let resolver = ProfileResolver(files: SharedConfigFiles(environment: environment), environment: environment,
                                           services: CredentialServices(caller: NotCalled(), http: NotCalled()))
            var problems: [String] = []
            let files = SharedConfigFiles(environment: environment)
            for name in config.credentials.keys.sorted() {
                guard case .profile(let profile)? = config.credentials[name] else { continue }
                // A profile not written yet is the deployment's business; a wrong one is an error.
                if files.profile(profile).isEmpty {
                    printError("awsgw: warning: credentials.\(name): profile \(profile) is not in \(files.configPath) or \(files.credentialsPath) (yet)")
                    continue
                }
                do {
                    _ = try resolver.provider(for: profile)
                } catch {
                    problems.append("credentials.\(name): \(error.source): \(error.reason)")
                }
            }
            return problems
        }
    }
}

/// Stands in for the engine and HTTP client while profiles are only read, not used.
struct NotCalled: AWSOperationCaller, CredentialHTTPClient {
    func call(_ method: String, params: JSONObject, region: String, credentials: Credentials?) async throws -> JSONObject { JSONObject() }
    func send(_ request: CredentialHTTPRequest) async throws(CredentialHTTPError) -> CredentialHTTPResponse {
        CredentialHTTPResponse(status: 500, body: [])
    }
}
