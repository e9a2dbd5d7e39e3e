import AWSClient
import Foundation

/// A problem in a configuration file, with the key path it is at.
public struct ConfigProblem: Error, Sendable, CustomStringConvertible, Equatable {
    public let path: String
    public let problem: String
    public var description: String { "\(path): \(problem)" }
}

public struct ConfigError: Error, Sendable, CustomStringConvertible {
    public let file: String
    public let problems: [ConfigProblem]
    public var description: String {
        "invalid configuration \(file):\n" + problems.map { "  - \($0.description)" }.joined(separator: "\n")
    }
}

/// A named source of AWS credentials (`credentials:` in the file).
public enum CredentialSourceConfig: Sendable, Equatable {
    case chain
    case environment
    case profile(String)
    /// Keys from the file; the secret and token are read from the named environment variables.
    case staticKeys(accessKeyId: String, secretEnv: String, tokenEnv: String?)
    /// `sts.AssumeRole` signed with another named source's credentials.
    case assumeRole(roleArn: String, sourceCredentials: String, externalId: String?, sessionName: String?, durationSeconds: Int?)
    case webIdentity(roleArn: String, tokenFile: String, sessionName: String?)
    /// ECS task roles and EKS Pod Identity, from the environment as the SDKs read it.
    case container
    /// EC2 instance metadata (IMDSv2).
    case imds
    case process(command: String)
}

/// TLS material for `tls:` listeners.
public struct TLSConfig: Sendable, Equatable {
    public var cert: String
    public var key: String
    public var clientCA: String?
    /// True while cert and key are the defaults (`certs/server.pem`, `certs/server.key`):
    /// only then may `serve` make a development pair where they are missing. Paths the
    /// operator named are never filled with a self-signed certificate.
    public var isDefaultPair: Bool

    public init(cert: String, key: String, clientCA: String?, isDefaultPair: Bool = false) {
        self.cert = cert
        self.key = key
        self.clientCA = clientCA
        self.isDefaultPair = isDefaultPair
    }

    public static let defaults = TLSConfig(cert: "certs/server.pem", key: "certs/server.key", clientCA: nil, isDefaultPair: true)
}

/// The gateway's configuration: INTERFACE.md's YAML file, or the secure defaults
/// when there is no file.
public struct GatewayConfig: Sendable {
    public var listen: [String] = []
    public var socketMode: UInt16 = 0o600
    public var tls = TLSConfig.defaults
    public var models: String?
    public var region: String?
    public var credentials: [String: CredentialSourceConfig] = ["default": .chain]
    /// Plaintext TCP on a non-loopback address must be asked for explicitly.
    public var allowPlaintextNonLoopback = false
    /// Host names that tcp:/tls: listeners accept in `Host` besides their own address and
    /// `localhost` (a DNS-rebinding defence).
    public var allowedHosts: [String] = []
    public var limits = GatewayLimits()
    public var upstream = UpstreamSettings()
    /// Teams in file order; nil when the file has none (then only the gateway's own user
    /// is admitted, allowed everything).
    public var teams: [Team]?
    /// Each team's rate limits (`rate:`), by team name.
    public var rateLimits: [String: RateLimiter.TeamLimits] = [:]
    /// Cached reads (`cache:`); nil when the file has none.
    public var cache: CacheSettings?
    /// State shared with other replicas (`shared:`); nil: this process alone.
    public var shared: SharedSettings?
    /// The audit log (`logs:`); nil when switched off with `enabled: false`.
    public var logs: AuditLogSettings? = AuditLogSettings()
    /// Operational logging: level (trace … critical) and format (text or json).
    public var logLevel: String?
    public var logFormat = "text"
    /// The longest an event loop keeps polling after work before it sleeps (`idle_poll`;
    /// 0: never). Adaptive: see IdlePollWindow. Read at start.
    public var idlePollMicroseconds = GatewayConfig.defaultIdlePollMicroseconds
    public static let defaultIdlePollMicroseconds = 100
    /// Polling longer than this would only burn a core.
    static let maxIdlePollMicroseconds = 10_000

    public init() {}

    /// What is valid but probably not meant: named environment variables that are unset,
    /// TCP listeners that nobody can use. `config check` and the start show them.
    public func warnings(environment: [String: String]) -> [String] {
        var out: [String] = []
        for name in credentials.keys.sorted() {
            guard case .staticKeys(_, let secretEnv, let tokenEnv)? = credentials[name] else { continue }
            if environment[secretEnv, default: ""].isEmpty {
                out.append("credentials.\(name): environment variable \(secretEnv) is not set; this source yields nothing until it is")
            }
            if let tokenEnv, environment[tokenEnv, default: ""].isEmpty {
                out.append("credentials.\(name): environment variable \(tokenEnv) is not set; calls are signed without a session token")
            }
        }
        for problem in GatewayKeys(teams: teams ?? [], environment: environment).problems {
            out.append(problem + "; callers cannot sign with this key until it is")
        }
        if let name = shared?.passwordEnv, environment[name, default: ""].isEmpty {
            out.append("shared.password_env: environment variable \(name) is not set; Redis is asked without a password")
        }
        if teams == nil {
            for address in listen where address.hasPrefix("tcp:") || address.hasPrefix("tls:") {
                out.append("\(address) admits nobody without teams: add a team with a \"token-sha256:<hex>\" (or, on tls:, \"cn:NAME\") member")
            }
        }
        return out
    }

    /// The policy the teams (or their absence) make.
    public var policy: Policy { teams.map(Policy.init(teams:)) ?? .ownUserOnly() }

    /// Every path the configuration holds, made absolute against `directory`: the one
    /// list of them, so that no path key is left relative to the working directory.
    mutating func resolvePaths(against directory: String) {
        func resolve(_ path: String) -> String {
            path.hasPrefix("/") || path.isEmpty ? path : ((directory + "/" + path) as NSString).standardizingPath
        }
        listen = listen.map { address in
            guard case .unix(let path)? = ListenAddress(address) else { return address }
            return "unix:" + resolve(path)
        }
        tls.cert = resolve(tls.cert)
        tls.key = resolve(tls.key)
        tls.clientCA = tls.clientCA.map(resolve)
        models = models.map(resolve)
        if let dir = logs?.dir { logs?.dir = resolve(dir) }
        if let caFile = shared?.caFile { shared?.caFile = resolve(caFile) }
        if var teams {
            for t in teams.indices {
                for k in teams[t].accessKeys.indices {
                    if case .file(let path) = teams[t].accessKeys[k].secret { teams[t].accessKeys[k].secret = .file(resolve(path)) }
                }
            }
            self.teams = teams
        }
        for (name, source) in credentials {
            if case .webIdentity(let roleArn, let tokenFile, let sessionName) = source {
                credentials[name] = .webIdentity(roleArn: roleArn, tokenFile: resolve(tokenFile), sessionName: sessionName)
            }
        }
    }
}
