import AWSCredentials
import AWSSigning
import Foundation

extension GatewayConfig {
    /// Every named source's provider, each built once (a source others assume roles with is
    /// shared, with its cache). Sources that fetch are kept and refreshed ahead of expiry.
    public func credentialProviders(environment: [String: String], services: CredentialServices) -> [String: any CredentialProvider] {
        var built: [String: any CredentialProvider] = [:]
        func provider(_ name: String, depth: Int) -> any CredentialProvider {
            if let done = built[name] { return done }
            guard let source = credentials[name], depth < 16 else {
                return FailingCredentialProvider(sourceName: name, reason: "no such source (or a cycle)")
            }
            let made: any CredentialProvider
            switch source {
            case .chain: made = RefreshingCredentialProvider(ChainCredentialProvider.sdkDefault(environment: environment, services: services))
            case .environment: made = EnvironmentCredentialProvider(environment: environment)
            case .profile(let profile):
                made = RefreshingCredentialProvider(ProfileCredentialProvider(profile: profile, environment: environment, services: services))
            case .staticKeys(let id, let secretEnv, let tokenEnv):
                made = StaticEnvironmentKeysProvider(accessKeyId: id, secretEnv: secretEnv, tokenEnv: tokenEnv, environment: environment)
            case .assumeRole(let roleArn, let sourceName, let externalId, let sessionName, let durationSeconds):
                if let caller = services.caller {
                    made = RefreshingCredentialProvider(AssumeRoleCredentialProvider(
                        roleArn: roleArn, sessionName: sessionName, externalId: externalId, durationSeconds: durationSeconds,
                        source: provider(sourceName, depth: depth + 1), caller: caller, region: services.region, sourceName: "assume_role \(roleArn)"))
                } else {
                    made = FailingCredentialProvider(sourceName: "assume_role \(roleArn)", reason: "assuming a role needs the gateway's engine")
                }
            case .webIdentity(let roleArn, let tokenFile, let sessionName):
                if let caller = services.caller {
                    made = RefreshingCredentialProvider(WebIdentityCredentialProvider(
                        roleArn: roleArn, tokenFile: tokenFile, sessionName: sessionName, caller: caller, region: services.region,
                        sourceName: "web_identity \(roleArn)"))
                } else {
                    made = FailingCredentialProvider(sourceName: "web_identity \(roleArn)", reason: "web identity needs the gateway's engine")
                }
            case .container, .imds:
                let kind = source == .container ? "container" : "imds"
                if let http = services.http {
                    made = RefreshingCredentialProvider(source == .container ? ContainerCredentialProvider(environment: environment, http: http)
                        : InstanceMetadataCredentialProvider(environment: environment, http: http))
                } else {
                    made = FailingCredentialProvider(sourceName: kind, reason: "needs the gateway's HTTP client")
                }
            case .process(let command):
                made = RefreshingCredentialProvider(ProcessCredentialProvider(command: command, sourceName: "process (credentials.\(name))"))
            }
            built[name] = made
            return made
        }
        for name in credentials.keys.sorted() { _ = provider(name, depth: 0) }
        return built
    }
}

/// Keys named in the config file whose secret (and token) come from environment variables,
/// so that no secret is ever written in the file.
struct StaticEnvironmentKeysProvider: CredentialProvider {
    let accessKeyId: String
    let secretEnv: String
    let tokenEnv: String?
    let environment: [String: String]
    /// Names the variables, never the key id: the name reaches error messages.
    var sourceName: String { "static keys (secret from $\(secretEnv))" }

    func credentials() async throws(CredentialsError) -> Credentials {
        guard let secret = environment[secretEnv], !secret.isEmpty else {
            throw CredentialsError(source: sourceName, reason: "environment variable \(secretEnv) is not set")
        }
        let token = tokenEnv.flatMap { environment[$0] }.flatMap { $0.isEmpty ? nil : $0 }
        return Credentials(accessKeyId: accessKeyId, secretAccessKey: secret, sessionToken: token)
    }
}

