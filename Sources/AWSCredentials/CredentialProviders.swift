import AWSPrimitives
import AWSSigning
import Foundation

/// No credentials could be found. Names the sources that were tried; never a secret.
public struct CredentialsError: Error, Sendable, CustomStringConvertible {
    public let source: String
    public let reason: String
    public init(source: String, reason: String) {
        self.source = source
        self.reason = reason
    }
    public var description: String { "no usable credentials from \(source): \(reason)" }
}

/// Where credentials come from. Async: some sources call out (STS, SSO, the container
/// agent, instance metadata, a process).
public protocol CredentialProvider: Sendable {
    /// A short name for errors and logs (`environment`, `profile netops`).
    var sourceName: String { get }
    func credentials() async throws(CredentialsError) -> Credentials
}

/// Fixed keys, e.g. from the gateway's config file.
public struct StaticCredentialProvider: CredentialProvider {
    let value: Credentials
    public let sourceName: String
    public init(_ credentials: Credentials, sourceName: String = "static") {
        value = credentials
        self.sourceName = sourceName
    }
    public func credentials() async throws(CredentialsError) -> Credentials { value }
}

/// `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY` and optionally `AWS_SESSION_TOKEN`.
public struct EnvironmentCredentialProvider: CredentialProvider {
    /// Read once: the environment given cannot change, and a call should not look it up.
    let found: Result<Credentials, CredentialsError>
    public var sourceName: String { EnvironmentCredentialProvider.name }
    static let name = "environment (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY)"

    public init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        found = EnvironmentCredentialProvider.read(environment)
    }

    public func credentials() async throws(CredentialsError) -> Credentials { try found.get() }

    static func read(_ environment: [String: String]) -> Result<Credentials, CredentialsError> {
        guard let id = environment["AWS_ACCESS_KEY_ID"], !id.isEmpty else {
            return .failure(CredentialsError(source: name, reason: "AWS_ACCESS_KEY_ID is not set"))
        }
        guard let secret = environment["AWS_SECRET_ACCESS_KEY"], !secret.isEmpty else {
            return .failure(CredentialsError(source: name, reason: "AWS_SECRET_ACCESS_KEY is not set"))
        }
        let token = environment["AWS_SESSION_TOKEN"].flatMap { $0.isEmpty ? nil : $0 }
        return .success(Credentials(accessKeyId: id, secretAccessKey: secret, sessionToken: token))
    }
}

/// A profile of the shared `credentials` and `config` files, of any kind botocore reads:
/// a role (`role_arn` with `source_profile` or `credential_source`), web identity,
/// `credential_process`, or keys (`[name]` in the credentials file, `[profile name]` or
/// `[default]` in the config file). The profile is read again on each fetch.
public struct ProfileCredentialProvider: CredentialProvider {
    public let profile: String
    let environment: [String: String]
    let services: CredentialServices
    let kinds: ProfileResolver.Kinds
    /// The default chain asks a profile twice (its role early, its other kinds later):
    /// the names tell the two apart.
    public var sourceName: String {
        switch kinds {
        case .all: return "profile \(profile)"
        case .roleOnly: return "profile \(profile)'s role"
        case .allButRole: return "profile \(profile)'s keys, SSO or process"
        }
    }

    public init(profile: String? = nil, environment: [String: String] = ProcessInfo.processInfo.environment,
                services: CredentialServices = CredentialServices(), kinds: ProfileResolver.Kinds = .all) {
        self.profile = profile ?? environment["AWS_PROFILE"] ?? "default"
        self.environment = environment
        self.services = services
        self.kinds = kinds
    }

    public func credentials() async throws(CredentialsError) -> Credentials {
        let resolver = ProfileResolver(files: SharedConfigFiles(environment: environment), environment: environment, services: services)
        return try await resolver.provider(for: profile, kinds: kinds).credentials()
    }
}

/// A list of sources tried in order: the first that yields credentials wins.
public struct ChainCredentialProvider: CredentialProvider {
    let providers: [any CredentialProvider]
    public var sourceName: String { "chain of " + providers.map(\.sourceName).joined(separator: ", ") }

    public init(_ providers: [any CredentialProvider]) { self.providers = providers }

    /// botocore 1.44.5's default chain, in its order: environment keys; the profile's role;
    /// web identity (environment, then profile); the profile's other kinds (keys in the
    /// credentials file, `credential_process`, keys in the config file); the original EC2
    /// tools' file; boto2's config; container credentials; instance metadata. (botocore's
    /// `login` profiles need its CRT extension and are refused with a reason.)
    public static func sdkDefault(environment: [String: String] = ProcessInfo.processInfo.environment,
                                  services: CredentialServices = CredentialServices()) -> ChainCredentialProvider {
        var providers: [any CredentialProvider] = [
            EnvironmentCredentialProvider(environment: environment),
            ProfileCredentialProvider(environment: environment, services: services, kinds: .roleOnly),
        ]
        if let caller = services.caller, let web = ProfileResolver.webIdentityFromEnvironment(environment, caller: caller, region: services.region) {
            providers.append(web)
        }
        providers.append(ProfileCredentialProvider(environment: environment, services: services, kinds: .allButRole))
        providers.append(EC2CredentialFileProvider(environment: environment))
        providers.append(BotoConfigProvider(environment: environment))
        if let http = services.http {
            if ContainerCredentialProvider.isConfigured(environment) { providers.append(ContainerCredentialProvider(environment: environment, http: http)) }
            providers.append(InstanceMetadataCredentialProvider(environment: environment, http: http))
        }
        return ChainCredentialProvider(providers)
    }

    public func credentials() async throws(CredentialsError) -> Credentials {
        var tried: [String] = []
        for provider in providers {
            do {
                return try await provider.credentials()
            } catch {
                tried.append("\(error.source): \(error.reason)")
            }
        }
        throw CredentialsError(source: "default chain", reason: "tried " + tried.joined(separator: "; "))
    }
}

/// The shared `config` and `credentials` files (INI), located as the SDKs locate them.
public struct SharedConfigFiles: Sendable {
    public let configPath: String
    public let credentialsPath: String
    /// The home folder (`~`), where the SSO token cache is.
    public let home: String

    public init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        let home = UserHome.path(environment: environment)
        self.home = home
        configPath = SharedConfigFiles.expand(environment["AWS_CONFIG_FILE"] ?? "~/.aws/config", home: home)
        credentialsPath = SharedConfigFiles.expand(environment["AWS_SHARED_CREDENTIALS_FILE"] ?? "~/.aws/credentials", home: home)
    }

    static func expand(_ path: String, home: String) -> String {
        path.hasPrefix("~/") ? home + path.dropFirst(1) : path
    }

    /// A profile's settings: the config file's section overlaid by the credentials file's.
    public func profile(_ name: String) -> [String: String] {
        let (config, credentials) = sections(name)
        return config.merging(credentials) { _, fromCredentials in fromCredentials }
    }

    /// A `[sso-session NAME]` section of the config file.
    public func ssoSession(_ name: String) -> [String: String]? {
        SharedConfigFiles.parseINI(atPath: configPath)["sso-session " + name]
    }

    /// A profile's section in each file (empty where the file has none).
    public func sections(_ name: String) -> (config: [String: String], credentials: [String: String]) {
        let config = SharedConfigFiles.parseINI(atPath: configPath)
        let configSection = name == "default" ? (config["default"] ?? config["profile default"]) : config["profile " + name]
        return (configSection ?? [:], SharedConfigFiles.parseINI(atPath: credentialsPath)[name] ?? [:])
    }

    /// Sections and `key = value` lines; `#` and `;` start comments; indented lines
    /// (nested settings such as `s3 =`) are skipped.
    static func parseINI(atPath path: String) -> [String: [String: String]] {
        guard let data = FileManager.default.contents(atPath: path) else { return [:] }
        var sections: [String: [String: String]] = [:]
        var current: String?
        for rawLine in String(decoding: data, as: UTF8.self).split(whereSeparator: \.isNewline) {
            if rawLine.first == " " || rawLine.first == "\t" { continue }
            let line = rawLine.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") || line.hasPrefix(";") { continue }
            if line.hasPrefix("[") && line.hasSuffix("]") {
                let name = line.dropFirst().dropLast().trimmingCharacters(in: .whitespaces)
                current = name.split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ")
                if sections[current!] == nil { sections[current!] = [:] }
                continue
            }
            guard let current, let eq = line.firstIndex(of: "=") else { continue }
            let key = line[..<eq].trimmingCharacters(in: .whitespaces).lowercased()
            var value = line[line.index(after: eq)...].trimmingCharacters(in: .whitespaces)
            // An inline comment needs whitespace before it.
            if let hash = value.range(of: " #") ?? value.range(of: " ;") { value = value[..<hash.lowerBound].trimmingCharacters(in: .whitespaces) }
            sections[current]?[key] = value
        }
        return sections
    }
}

/// The region as the SDKs find it: `AWS_REGION`, `AWS_DEFAULT_REGION`, then the profile's.
public func resolveRegion(environment: [String: String] = ProcessInfo.processInfo.environment) -> String? {
    if let region = environment["AWS_REGION"], !region.isEmpty { return region }
    if let region = environment["AWS_DEFAULT_REGION"], !region.isEmpty { return region }
    let profile = environment["AWS_PROFILE"] ?? "default"
    return SharedConfigFiles(environment: environment).profile(profile)["region"]
}
