import AWSSigning
import Foundation

/// What sources that call out need: AWS through the gateway's engine (STS), and plain
/// HTTP to local endpoints (container agent, instance metadata). Without them, the
/// sources that need them say so.
public struct CredentialServices: Sendable {
    public var caller: (any AWSOperationCaller)?
    public var http: (any CredentialHTTPClient)?
    /// The region STS is asked in (botocore: the calling client's); nil is the global endpoint.
    public var region: String?

    public init(caller: (any AWSOperationCaller)? = nil, http: (any CredentialHTTPClient)? = nil, region: String? = nil) {
        self.caller = caller
        self.http = http
        self.region = region
    }
}

/// Turns a profile into the source it describes, as botocore's `AssumeRoleProvider` and
/// `ProfileProviderBuilder` do: roles (chains of `source_profile`, with cycles refused),
/// web identity, `credential_process` and keys. Each problem names the profile.
public struct ProfileResolver: Sendable {
    /// The default chain asks for a profile's role apart from its other kinds.
    public enum Kinds: Sendable { case all, roleOnly, allButRole }

    let files: SharedConfigFiles
    let environment: [String: String]
    let services: CredentialServices

    public init(files: SharedConfigFiles, environment: [String: String], services: CredentialServices) {
        self.files = files
        self.environment = environment
        self.services = services
    }

    public func provider(for name: String, kinds: Kinds = .all) throws(CredentialsError) -> any CredentialProvider {
        let (config, credentialsFile) = files.sections(name)
        let settings = config.merging(credentialsFile) { _, fromCredentials in fromCredentials }
        let isRole = settings["role_arn"] != nil && settings["web_identity_token_file"] == nil
        if kinds == .roleOnly && !isRole { throw problem(name, "no role_arn") }
        guard !settings.isEmpty else { throw problem(name, "the profile is not in \(files.configPath) or \(files.credentialsPath)") }
        switch kinds {
        case .roleOnly:
            return try assumeRole(name, settings, visited: [name])
        case .all where isRole:
            return try assumeRole(name, settings, visited: [name])
        case .all, .allButRole:
            return try nonRole(name, settings, config: config, credentialsFile: credentialsFile)
        }
    }

    /// botocore's profile providers after the role: web identity, SSO, keys in the
    /// credentials file, the process, keys in the config file.
    func nonRole(_ name: String, _ settings: [String: String], config: [String: String], credentialsFile: [String: String]) throws(CredentialsError)
        -> any CredentialProvider
    {
        if let tokenFile = settings["web_identity_token_file"] {
            guard let roleArn = settings["role_arn"] else { throw problem(name, "web_identity_token_file is set but role_arn is not") }
            return try webIdentity(roleArn: roleArn, tokenFile: tokenFile, sessionName: settings["role_session_name"], sourceName: "profile \(name) (web identity)")
        }
        if settings["sso_account_id"] != nil || settings["sso_role_name"] != nil {
            guard let caller = services.caller else { throw problem(name, "SSO needs the gateway's engine (use it through `awsgw serve`)") }
            return try SSOCredentialProvider(profile: name, settings: settings, files: files, home: files.home, caller: caller)
        }
        if let keys = Self.keys(credentialsFile) { return StaticCredentialProvider(keys, sourceName: "profile \(name)") }
        if let command = settings["credential_process"] {
            return ProcessCredentialProvider(command: command, sourceName: "profile \(name) (credential_process)")
        }
        if let keys = Self.keys(config) { return StaticCredentialProvider(keys, sourceName: "profile \(name)") }
        if settings["login_session"] != nil { throw problem(name, "`aws login` sessions (login_session) are not supported") }
        throw problem(name, "the profile has no credentials (keys, role_arn, web_identity_token_file or credential_process)")
    }

    func assumeRole(_ name: String, _ settings: [String: String], visited: [String]) throws(CredentialsError) -> any CredentialProvider {
        guard let roleArn = settings["role_arn"] else { throw problem(name, "the profile names no role") }
        guard isValidRoleArn(roleArn) else { throw problem(name, "role_arn \(roleArn) is not an IAM role ARN (arn:aws:iam::123456789012:role/name)") }
        if let serial = settings["mfa_serial"] {
            throw problem(name, "the role needs an MFA code (mfa_serial \(serial)); a gateway cannot prompt for one")
        }
        let sourceProfile = settings["source_profile"], credentialSource = settings["credential_source"]
        if sourceProfile != nil && credentialSource != nil { throw problem(name, "the profile has both source_profile and credential_source") }
        let source: any CredentialProvider
        if let credentialSource {
            source = try self.credentialSource(credentialSource, profile: name)
        } else if let sourceProfile {
            source = try self.sourceProfile(sourceProfile, of: name, visited: visited)
        } else {
            throw problem(name, "role_arn needs source_profile or credential_source")
        }
        guard let caller = services.caller else { throw problem(name, "assuming a role needs the gateway's engine (use it through `awsgw serve`)") }
        return AssumeRoleCredentialProvider(
            roleArn: roleArn, sessionName: settings["role_session_name"], externalId: settings["external_id"],
            durationSeconds: settings["duration_seconds"].flatMap { Int($0) }, source: source, caller: caller, region: services.region,
            sourceName: "profile \(name) (role \(roleArn))")
    }

    /// The credentials a role is assumed with: the source profile's keys if it has them,
    /// its own role (a chain) if it names one, else its other kinds.
    func sourceProfile(_ source: String, of name: String, visited: [String]) throws(CredentialsError) -> any CredentialProvider {
        let (config, credentialsFile) = files.sections(source)
        let settings = config.merging(credentialsFile) { _, fromCredentials in fromCredentials }
        guard !settings.isEmpty else { throw problem(name, "its source_profile \(source) does not exist") }
        let hasKeys = settings["aws_access_key_id"] != nil || settings["aws_secret_access_key"] != nil
        if visited.contains(source) && (source != name || !hasKeys) {
            throw problem(name, "source_profile makes a cycle: \((visited + [source]).joined(separator: " → "))")
        }
        if hasKeys {
            guard let keys = Self.keys(settings) else { throw problem(source, "the profile has only one of aws_access_key_id and aws_secret_access_key") }
            return StaticCredentialProvider(keys, sourceName: "profile \(source)")
        }
        if settings["role_arn"] != nil && settings["web_identity_token_file"] == nil {
            return try assumeRole(source, settings, visited: visited + [source])
        }
        return try nonRole(source, settings, config: config, credentialsFile: credentialsFile)
    }

    func credentialSource(_ value: String, profile: String) throws(CredentialsError) -> any CredentialProvider {
        switch value {
        case "Environment": return EnvironmentCredentialProvider(environment: environment)
        case "Ec2InstanceMetadata", "EcsContainer":
            guard let http = services.http else { throw problem(profile, "credential_source \(value) needs the gateway's HTTP client") }
            return value == "EcsContainer" ? ContainerCredentialProvider(environment: environment, http: http)
                : InstanceMetadataCredentialProvider(environment: environment, http: http)
        default:
            throw problem(profile, "credential_source \(value) is not one of Environment, Ec2InstanceMetadata, EcsContainer")
        }
    }

    func webIdentity(roleArn: String, tokenFile: String, sessionName: String?, sourceName: String) throws(CredentialsError) -> any CredentialProvider {
        guard let caller = services.caller else {
            throw CredentialsError(source: sourceName, reason: "web identity needs the gateway's engine (use it through `awsgw serve`)")
        }
        return WebIdentityCredentialProvider(roleArn: roleArn, tokenFile: tokenFile, sessionName: sessionName, caller: caller,
                                             region: services.region, sourceName: sourceName)
    }

    /// `AWS_WEB_IDENTITY_TOKEN_FILE` with `AWS_ROLE_ARN` (and `AWS_ROLE_SESSION_NAME`).
    public static func webIdentityFromEnvironment(_ environment: [String: String], caller: any AWSOperationCaller, region: String?)
        -> (any CredentialProvider)?
    {
        guard let tokenFile = environment["AWS_WEB_IDENTITY_TOKEN_FILE"], !tokenFile.isEmpty else { return nil }
        guard let roleArn = environment["AWS_ROLE_ARN"], !roleArn.isEmpty else {
            return FailingCredentialProvider(sourceName: "web identity (AWS_WEB_IDENTITY_TOKEN_FILE)", reason: "AWS_ROLE_ARN is not set")
        }
        return WebIdentityCredentialProvider(roleArn: roleArn, tokenFile: tokenFile, sessionName: environment["AWS_ROLE_SESSION_NAME"],
                                             caller: caller, region: region, sourceName: "web identity (AWS_WEB_IDENTITY_TOKEN_FILE)")
    }

    static func keys(_ settings: [String: String]) -> Credentials? {
        guard let id = settings["aws_access_key_id"], let secret = settings["aws_secret_access_key"] else { return nil }
        return Credentials(accessKeyId: id, secretAccessKey: secret, sessionToken: settings["aws_session_token"])
    }

    func problem(_ profile: String, _ reason: String) -> CredentialsError {
        CredentialsError(source: "profile \(profile)", reason: reason)
    }
}

/// A source known to be unusable, with the reason (a misconfiguration found up front).
public struct FailingCredentialProvider: CredentialProvider {
    public let sourceName: String
    let reason: String
    public init(sourceName: String, reason: String) {
        self.sourceName = sourceName
        self.reason = reason
    }
    public func credentials() async throws(CredentialsError) -> Credentials { throw CredentialsError(source: sourceName, reason: reason) }
}
