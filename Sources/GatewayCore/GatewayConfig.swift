import AWSCredentials
import AWSJSON
import AWSSigning
import Foundation
import Yams

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

    /// The most YAML nodes a file may hold, aliases counted each time they are used (an
    /// alias bomb is refused rather than expanded).
    static let maxYAMLNodes = 100_000

    /// A YAML node as the plain values the reader expects ([String: Any], [Any], String,
    /// Int, Double, Bool, NSNull): every mapping key a plain value, none twice; quoted
    /// scalars always strings; integers in decimal only; the file bounded once aliases are
    /// expanded.
    static func plainValue(_ node: Node, path: String, budget: inout Int) throws(ConfigProblem) -> Any {
        budget -= 1
        if budget < 0 { throw ConfigProblem(path: "(file)", problem: "too large: more than \(maxYAMLNodes) values, aliases expanded") }
        switch node {
        case .mapping(let mapping):
            var out: [String: Any] = [:]
            for (key, value) in mapping {
                guard case .scalar(let scalar) = key else {
                    throw ConfigProblem(path: path.isEmpty ? "(file)" : path, problem: "a key must be a plain value, not a list or mapping")
                }
                let name = scalar.string
                let childPath = path.isEmpty ? name : path + "." + name
                guard out[name] == nil else {
                    throw ConfigProblem(path: childPath, problem: "given twice; a second value would silently replace the first")
                }
                out[name] = try plainValue(value, path: childPath, budget: &budget)
            }
            return out
        case .sequence(let sequence):
            var out: [Any] = []
            for (i, item) in sequence.enumerated() { out.append(try plainValue(item, path: "\(path)[\(i)]", budget: &budget)) }
            return out
        case .scalar(let scalar):
            let text = scalar.string
            guard scalar.style == .plain || scalar.style == .any else { return text }
            switch text {
            case "", "~", "null", "Null", "NULL": return NSNull()
            case "true", "True", "TRUE": return true
            case "false", "False", "FALSE": return false
            default: break
            }
            let body = text.hasPrefix("-") || text.hasPrefix("+") ? text.dropFirst() : Substring(text)
            if !body.isEmpty, body.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), let int = Int(text) { return int }
            if body.contains(where: { $0 == "." || $0 == "e" || $0 == "E" }), body.first?.isNumber == true, let double = Double(text), double.isFinite {
                return double
            }
            return text
        case .alias:
            throw ConfigProblem(path: path.isEmpty ? "(file)" : path, problem: "an alias that names no anchor")
        }
    }

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

    /// Keys the file may hold. Anything else is an error: a typo must never silently
    /// weaken policy.
    static let topLevelKeys: Set<String> = [
        "listen", "socket_mode", "tls", "models", "region", "credentials", "allow_plaintext_non_loopback", "allowed_hosts", "limits",
        "upstream", "teams", "cache", "logs", "log_level", "log_format", "shared", "idle_poll",
    ]

    /// Reads a file. Relative paths in it (listeners' sockets, TLS files, models, logs, CA
    /// and token files) are relative to the file's folder, so it means the same from any
    /// working directory.
    public static func load(file: String, environment: [String: String] = ProcessInfo.processInfo.environment) throws(ConfigError) -> GatewayConfig {
        guard let data = FileManager.default.contents(atPath: file) else {
            throw ConfigError(file: file, problems: [ConfigProblem(path: "(file)", problem: "cannot read the file")])
        }
        return try parse(String(decoding: data, as: UTF8.self), file: file, environment: environment,
                         directory: (absolutePath(file) as NSString).deletingLastPathComponent)
    }

    /// `path` made absolute against the working directory, `.` and `..` removed.
    public static func absolutePath(_ path: String) -> String {
        let absolute = path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
        return (absolute as NSString).standardizingPath
    }

    /// `directory`: where relative paths in the text lead (the file's folder); nil keeps
    /// them as written.
    public static func parse(_ text: String, file: String = "(config)", environment: [String: String] = [:],
                             directory: String? = nil) throws(ConfigError) -> GatewayConfig {
        let root: Any?
        do {
            // The document is turned into values here, not by Yams's constructor: it traps on
            // a key that is a list, on base-60 integers that overflow (`2:2:2:…:21`), and
            // keeps the last of two equal keys without a word (all found by make fuzz).
            var budget = GatewayConfig.maxYAMLNodes
            root = try Yams.compose(yaml: text).map { node throws(ConfigProblem) in try GatewayConfig.plainValue(node, path: "", budget: &budget) }
        } catch let problem as ConfigProblem {
            throw ConfigError(file: file, problems: [problem])
        } catch let error as ConfigError {
            throw error
        } catch {
            throw ConfigError(file: file, problems: [ConfigProblem(path: "(file)", problem: "not valid YAML: \(error)")])
        }
        var config = GatewayConfig()
        config.upstream.retry = RetrySettings.fromEnvironment(environment)
        guard let root else { return config }
        guard let top = root as? [String: Any] else {
            throw ConfigError(file: file, problems: [ConfigProblem(path: "(file)", problem: "the top level must be a mapping")])
        }
        var reader = ConfigReader()
        for key in top.keys.sorted() where !topLevelKeys.contains(key) {
            reader.fail(key, "unknown key" + suggestion(key, among: topLevelKeys))
        }
        if let logs = top["logs"] { config.logs = reader.auditLog(logs) }
        if let level = reader.string(top["log_level"], "log_level") {
            if ["trace", "debug", "info", "notice", "warning", "error", "critical"].contains(level) { config.logLevel = level } else {
                reader.fail("log_level", "expected trace, debug, info, notice, warning, error or critical")
            }
        }
        if let format = reader.string(top["log_format"], "log_format") {
            if ["text", "json"].contains(format) { config.logFormat = format } else { reader.fail("log_format", "expected text or json") }
        }
        if let listen = top["listen"] {
            if let list = listen as? [Any] {
                for (i, item) in list.enumerated() {
                    guard let address = item as? String else { reader.fail("listen[\(i)]", "expected a string"); continue }
                    if let problem = ListenAddress.validate(address) { reader.fail("listen[\(i)]", problem) }
                    config.listen.append(address)
                }
            } else { reader.fail("listen", "expected a list of addresses") }
        }
        if let mode = top["socket_mode"] {
            let text = (mode as? String) ?? (mode as? Int).map { String($0) }
            if let text, let value = UInt16(text, radix: 8), value <= 0o777 { config.socketMode = value } else {
                reader.fail("socket_mode", "expected an octal file mode such as \"0600\"")
            }
        }
        if let tls = top["tls"] {
            if let map = tls as? [String: Any] {
                reader.unknownKeys(map, allowed: ["cert", "key", "client_ca"], at: "tls")
                config.tls.cert = reader.string(map["cert"], "tls.cert") ?? config.tls.cert
                config.tls.key = reader.string(map["key"], "tls.key") ?? config.tls.key
                if map["cert"] != nil || map["key"] != nil { config.tls.isDefaultPair = false }
                config.tls.clientCA = reader.string(map["client_ca"], "tls.client_ca")
            } else { reader.fail("tls", "expected a mapping") }
        }
        config.models = reader.string(top["models"], "models")
        config.region = reader.string(top["region"], "region")
        if let allow = top["allow_plaintext_non_loopback"] {
            if let flag = allow as? Bool { config.allowPlaintextNonLoopback = flag } else { reader.fail("allow_plaintext_non_loopback", "expected true or false") }
        }
        if let poll = top["idle_poll"] {
            if poll as? Int == 0 || poll as? Bool == false || poll as? String == "off" || poll as? String == "0" {
                config.idlePollMicroseconds = 0
            } else if let s = poll as? String, let seconds = ConfigReader.parseDuration(s),
                      case let micros = Int((seconds * 1e6).rounded()), micros <= GatewayConfig.maxIdlePollMicroseconds {
                config.idlePollMicroseconds = micros
            } else {
                reader.fail("idle_poll", "expected a duration of at most 10ms such as 100us, or off")
            }
        }
        if let hosts = top["allowed_hosts"] {
            if let list = hosts as? [Any], list.allSatisfy({ ($0 as? String).map { !$0.isEmpty && !$0.contains(" ") } ?? false }) {
                config.allowedHosts = list.compactMap { ($0 as? String)?.lowercased() }
            } else { reader.fail("allowed_hosts", "expected a list of host names") }
        }
        if let credentials = top["credentials"] {
            if let map = credentials as? [String: Any] {
                config.credentials = [:]
                for name in map.keys.sorted() {
                    if let source = reader.credentialSource(map[name], at: "credentials.\(name)") { config.credentials[name] = source }
                }
                if config.credentials["default"] == nil && !map.isEmpty && reader.problems.isEmpty {
                    reader.fail("credentials", "a source named \"default\" is needed")
                }
                reader.checkSourceReferences(config.credentials)
            } else { reader.fail("credentials", "expected a mapping of named sources") }
        }
        if let limits = top["limits"] {
            if let map = limits as? [String: Any] {
                reader.unknownKeys(map, allowed: ["max_body", "max_batch", "max_json_depth", "header_timeout", "idle_timeout", "max_connections",
                                                   "max_connections_per_peer", "max_in_flight", "max_upstream_response", "max_blob", "shutdown_grace"], at: "limits")
                if let v = reader.size(map["max_body"], "limits.max_body") { config.limits.maxBodyBytes = v }
                if let v = reader.positiveInt(map["max_batch"], "limits.max_batch") { config.limits.maxBatchSize = v }
                if let v = reader.positiveInt(map["max_json_depth"], "limits.max_json_depth") {
                    // Parsing and validation recurse once per level: bound the stack they need.
                    if v > GatewayLimits.maxJSONDepthCeiling {
                        reader.fail("limits.max_json_depth", "at most \(GatewayLimits.maxJSONDepthCeiling)")
                    } else { config.limits.maxJSONDepth = v }
                }
                if let v = reader.duration(map["header_timeout"], "limits.header_timeout") { config.limits.headerTimeoutSeconds = v }
                if let v = reader.duration(map["idle_timeout"], "limits.idle_timeout") { config.limits.idleTimeoutSeconds = v }
                if let v = reader.positiveInt(map["max_connections"], "limits.max_connections") { config.limits.maxConnections = v }
                if let v = reader.positiveInt(map["max_connections_per_peer"], "limits.max_connections_per_peer") { config.limits.maxConnectionsPerPeer = v }
                if let v = reader.positiveInt(map["max_in_flight"], "limits.max_in_flight") { config.limits.maxInFlightCalls = v }
                if let v = reader.size(map["max_upstream_response"], "limits.max_upstream_response") { config.limits.maxUpstreamResponseBytes = v }
                if let v = reader.size(map["max_blob"], "limits.max_blob") { config.limits.maxBlobBytes = v }
                if let v = reader.duration(map["shutdown_grace"], "limits.shutdown_grace") { config.limits.shutdownGraceSeconds = v }
            } else { reader.fail("limits", "expected a mapping") }
        }
        if let upstream = top["upstream"] {
            if let map = upstream as? [String: Any] {
                reader.unknownKeys(map, allowed: ["connect_timeout", "request_timeout", "max_attempts"], at: "upstream")
                if let v = reader.duration(map["connect_timeout"], "upstream.connect_timeout") { config.upstream.connectTimeoutSeconds = v }
                if let v = reader.duration(map["request_timeout"], "upstream.request_timeout") { config.upstream.requestTimeoutSeconds = v }
                if let v = reader.positiveInt(map["max_attempts"], "upstream.max_attempts") { config.upstream.retry.maxAttempts = v }
            } else { reader.fail("upstream", "expected a mapping") }
        }
        if let teams = top["teams"] {
            if let map = teams as? [String: Any] {
                // YAML mappings lose their order when loaded; the file's order decides
                // which team a caller belongs to, so read it from the document itself.
                let order = (try? Yams.compose(yaml: text))?.mapping?["teams"]?.mapping?.keys.compactMap(\.string) ?? map.keys.sorted()
                config.teams = order.compactMap { name in reader.team(name, map[name], credentials: config.credentials) }
                for name in order {
                    if let limits = reader.rateLimits(name, (map[name] as? [String: Any])?["rate"]) { config.rateLimits[name] = limits }
                }
            } else { reader.fail("teams", "expected a mapping of team names to teams") }
        }
        if let cache = top["cache"] {
            var ttlOrder: [String]?
            if let keys = (try? Yams.compose(yaml: text))?.mapping?["cache"]?.mapping?["ttl"]?.mapping?.keys {
                ttlOrder = keys.compactMap(\.string)
            }
            config.cache = reader.cache(cache, ttlOrder: ttlOrder)
        }
        if let shared = top["shared"] { config.shared = reader.shared(shared) }
        if config.cache?.store == .shared && config.shared == nil && top["shared"] == nil {
            reader.fail("cache.store", "shared needs a shared: block (where Redis is)")
        }
        if !reader.problems.isEmpty { throw ConfigError(file: file, problems: reader.problems) }
        if let directory { config.resolvePaths(against: directory) }
        return config
    }

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
        for (name, source) in credentials {
            if case .webIdentity(let roleArn, let tokenFile, let sessionName) = source {
                credentials[name] = .webIdentity(roleArn: roleArn, tokenFile: resolve(tokenFile), sessionName: sessionName)
            }
        }
    }

    static func suggestion(_ key: String, among known: Set<String>) -> String {
        let close = known.filter { k in
            let a = Array(k), b = Array(key)
            return abs(a.count - b.count) <= 2 && (k.hasPrefix(String(key.prefix(3))) || k.hasSuffix(String(key.suffix(3))))
        }.sorted()
        return close.isEmpty ? "" : " (did you mean \(close.joined(separator: ", "))?)"
    }

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

/// Collects problems while reading typed values out of YAML.
struct ConfigReader {
    var problems: [ConfigProblem] = []

    mutating func fail(_ path: String, _ problem: String) { problems.append(ConfigProblem(path: path, problem: problem)) }

    mutating func unknownKeys(_ map: [String: Any], allowed: Set<String>, at path: String) {
        for key in map.keys.sorted() where !allowed.contains(key) {
            fail(path + "." + key, "unknown key" + GatewayConfig.suggestion(key, among: allowed))
        }
    }

    mutating func string(_ value: Any?, _ path: String) -> String? {
        guard let value else { return nil }
        if let s = value as? String { return s }
        fail(path, "expected a string")
        return nil
    }

    mutating func positiveInt(_ value: Any?, _ path: String) -> Int? {
        guard let value else { return nil }
        if let i = value as? Int, i > 0 { return i }
        fail(path, "expected a positive integer")
        return nil
    }

    /// Bytes, or with a `KiB`/`MiB`/`GiB` suffix.
    mutating func size(_ value: Any?, _ path: String) -> Int? {
        guard let value else { return nil }
        if let i = value as? Int, i > 0 { return i }
        if let s = value as? String, let size = ConfigReader.parseSize(s) { return size }
        fail(path, "expected a size such as 1048576, 512KiB or 64MiB")
        return nil
    }

    static func parseSize(_ text: String) -> Int? {
        let s = text.trimmingCharacters(in: .whitespaces)
        for (suffix, factor) in [("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10), ("B", 1)] where s.hasSuffix(suffix) {
            guard let n = Int(s.dropLast(suffix.count).trimmingCharacters(in: .whitespaces)), n > 0 else { return nil }
            let (bytes, overflow) = n.multipliedReportingOverflow(by: factor)
            return overflow ? nil : bytes
        }
        return Int(s).flatMap { $0 > 0 ? $0 : nil }
    }

    /// The longest duration accepted anywhere (a year): timers are kept in 64-bit
    /// nanoseconds, and nothing the gateway waits for is longer.
    static let maxDurationSeconds = 366.0 * 86400

    /// `500ms`, `10s`, `5m`, `1h` (and `100us` or `100µs`).
    mutating func duration(_ value: Any?, _ path: String) -> Double? {
        guard let value else { return nil }
        if let s = value as? String, let seconds = ConfigReader.parseDuration(s) { return seconds }
        fail(path, "expected a duration such as 500ms, 10s, 5m or 1h")
        return nil
    }

    static func parseDuration(_ text: String) -> Double? {
        let s = text.trimmingCharacters(in: .whitespaces)
        for (suffix, factor) in [("ms", 0.001), ("us", 0.000_001), ("µs", 0.000_001), ("s", 1.0), ("m", 60.0), ("h", 3600.0)] where s.hasSuffix(suffix) {
            guard let n = Double(s.dropLast(suffix.count)), n > 0, n.isFinite, n * factor <= maxDurationSeconds else { return nil }
            return n * factor
        }
        return nil
    }

    mutating func team(_ name: String, _ value: Any?, credentials: [String: CredentialSourceConfig]) -> Team? {
        let path = "teams." + name
        guard let map = value as? [String: Any] else {
            fail(path, "expected a mapping with members, allow and the rest")
            return nil
        }
        unknownKeys(map, allowed: ["members", "credentials", "region", "allow", "deny", "rate"], at: path)
        var members: [MemberPattern] = []
        if let list = map["members"] as? [Any] {
            for (i, item) in list.enumerated() {
                guard let text = item as? String, let member = MemberPattern(text) else {
                    fail("\(path).members[\(i)]", "expected any, uid:N, gid:N, cn:NAME or token-sha256:<64 hex digits>")
                    continue
                }
                members.append(member)
            }
        } else if let single = map["members"] as? String, single == "any" {
            members = [.any]
        } else {
            fail(path + ".members", "expected a list of members, or any")
        }
        let source = string(map["credentials"], path + ".credentials") ?? "default"
        if credentials[source] == nil { fail(path + ".credentials", "no credential source named \(source)") }
        func patterns(_ key: String) -> [OperationPattern] {
            guard let raw = map[key] else { return [] }
            guard let list = raw as? [Any] else {
                fail("\(path).\(key)", "expected a list of service:Operation patterns")
                return []
            }
            var result: [OperationPattern] = []
            for (i, item) in list.enumerated() {
                guard let text = item as? String, let pattern = OperationPattern(text) else {
                    fail("\(path).\(key)[\(i)]", "expected service:Operation with * wildcards, e.g. networkmanager:Get*")
                    continue
                }
                result.append(pattern)
            }
            return result
        }
        return Team(name: name, members: members, credentials: source, region: string(map["region"], path + ".region"),
                    allow: patterns("allow"), deny: patterns("deny"))
    }

    /// `logs: { dir: logs/, rotate_bytes: 64MiB, rotate_age: 1h, keep: 20, params: keys, queue: 65536, enabled: true }`.
    mutating func auditLog(_ value: Any) -> AuditLogSettings? {
        guard let map = value as? [String: Any] else {
            fail("logs", "expected a mapping")
            return nil
        }
        unknownKeys(map, allowed: ["dir", "rotate_bytes", "rotate_age", "keep", "params", "queue", "enabled"], at: "logs")
        var settings = AuditLogSettings()
        if let enabled = map["enabled"] {
            guard let flag = enabled as? Bool else { fail("logs.enabled", "expected true or false"); return nil }
            if !flag { return nil }
        }
        if let dir = string(map["dir"], "logs.dir") { settings.dir = dir.hasSuffix("/") && dir.count > 1 ? String(dir.dropLast()) : dir }
        if let v = size(map["rotate_bytes"], "logs.rotate_bytes") { settings.rotateBytes = v }
        if let v = duration(map["rotate_age"], "logs.rotate_age") { settings.rotateAgeSeconds = v }
        if let v = positiveInt(map["keep"], "logs.keep") { settings.keep = v }
        if let v = positiveInt(map["queue"], "logs.queue") { settings.queueLimit = v }
        if let text = string(map["params"], "logs.params") {
            if let mode = AuditLogSettings.ParamsMode(rawValue: text) { settings.params = mode } else { fail("logs.params", "expected none, keys or full") }
        }
        return settings
    }

    /// `cache: { max_bytes: 64MiB, ttl: { "*": 10s, "lambda-core:Get*": 2s }, include: [...], exclude: [...] }`.
    mutating func cache(_ value: Any, ttlOrder: [String]?) -> CacheSettings? {
        guard let map = value as? [String: Any] else {
            fail("cache", "expected a mapping")
            return nil
        }
        unknownKeys(map, allowed: ["max_bytes", "ttl", "include", "exclude", "store", "shared_max_entry"], at: "cache")
        var settings = CacheSettings()
        if let size = size(map["max_bytes"], "cache.max_bytes") { settings.maxBytes = size }
        if let text = string(map["store"], "cache.store") {
            if let store = CacheSettings.Store(rawValue: text) { settings.store = store } else { fail("cache.store", "expected memory or shared") }
        }
        if let size = size(map["shared_max_entry"], "cache.shared_max_entry") { settings.sharedMaxEntryBytes = size }
        if let ttl = map["ttl"] {
            if let ttlMap = ttl as? [String: Any] {
                // Specific patterns first, in file order; "*" last, as the default.
                let keys = (ttlOrder ?? ttlMap.keys.sorted()).filter { $0 != "*" } + (ttlMap["*"] != nil ? ["*"] : [])
                for key in keys {
                    guard let seconds = duration(ttlMap[key], "cache.ttl.\(key)") else { continue }
                    guard let pattern = OperationPattern(key == "*" ? "*:*" : key) else {
                        fail("cache.ttl.\(key)", "expected \"*\" or a service:Operation pattern")
                        continue
                    }
                    settings.ttl.append((pattern, seconds))
                }
            } else { fail("cache.ttl", "expected a mapping of patterns to durations") }
        }
        for key in ["include", "exclude"] {
            guard let raw = map[key] else { continue }
            guard let list = raw as? [Any] else { fail("cache.\(key)", "expected a list of service:Operation patterns"); continue }
            for (i, item) in list.enumerated() {
                guard let text = item as? String, let pattern = OperationPattern(text) else {
                    fail("cache.\(key)[\(i)]", "expected a service:Operation pattern")
                    continue
                }
                if key == "include" { settings.include.append(pattern) } else { settings.exclude.append(pattern) }
            }
        }
        return settings
    }

    /// `shared: { redis: "redis://host:6379/0", password_env: NAME, ca_file: PEM, key_prefix: "awsgw:", timeout: 50ms, on_failure: local }`.
    mutating func shared(_ value: Any) -> SharedSettings? {
        guard let map = value as? [String: Any] else {
            fail("shared", "expected a mapping")
            return nil
        }
        unknownKeys(map, allowed: ["redis", "password_env", "ca_file", "key_prefix", "timeout", "on_failure"], at: "shared")
        guard let url = string(map["redis"], "shared.redis") else {
            if map["redis"] == nil { fail("shared.redis", "required: where Redis is (redis://host:6379/0 or rediss://...)") }
            return nil
        }
        if let problem = SharedSettings.problem(redisURL: url) { fail("shared.redis", problem) }
        var settings = SharedSettings(redis: url)
        if let name = string(map["password_env"], "shared.password_env") {
            settings.passwordEnv = name
        }
        settings.caFile = string(map["ca_file"], "shared.ca_file")
        if let prefix = string(map["key_prefix"], "shared.key_prefix") {
            // Braces would end the hash tags that keep a team's keys on one Cluster shard.
            if prefix.contains("{") || prefix.contains("}") { fail("shared.key_prefix", "must not contain { or }") } else { settings.keyPrefix = prefix }
        }
        if let seconds = duration(map["timeout"], "shared.timeout") {
            if seconds < 0.001 || seconds > 10 { fail("shared.timeout", "expected between 1ms and 10s") } else { settings.timeoutSeconds = seconds }
        }
        if let text = string(map["on_failure"], "shared.on_failure") {
            if let mode = SharedFailureMode(rawValue: text) { settings.onFailure = mode } else { fail("shared.on_failure", "expected local or deny") }
        }
        return settings
    }

    /// `rate: { "*": "20/s burst 40", "networkmanager:CreateConnection": "1/s" }`.
    mutating func rateLimits(_ team: String, _ value: Any?) -> RateLimiter.TeamLimits? {
        guard let value else { return nil }
        let path = "teams.\(team).rate"
        guard let map = value as? [String: Any] else {
            fail(path, "expected a mapping of \"*\" or service:Operation patterns to rates")
            return nil
        }
        var limits = RateLimiter.TeamLimits(team: nil, operations: [])
        for key in map.keys.sorted() {
            guard let text = map[key] as? String, let rate = Rate(text) else {
                fail("\(path).\(key)", "expected a rate such as 20/s, 600/m or 5/s burst 10")
                continue
            }
            if key == "*" {
                limits.team = rate
            } else if let pattern = OperationPattern(key) {
                limits.operations.append((pattern, rate))
            } else {
                fail("\(path).\(key)", "expected \"*\" or a service:Operation pattern")
            }
        }
        return limits
    }

    mutating func roleArn(_ value: Any?, _ path: String) -> String? {
        guard let arn = string(value, path) else {
            fail(path, "a role ARN is needed (arn:aws:iam::123456789012:role/name)")
            return nil
        }
        guard isValidRoleArn(arn) else {
            fail(path, "\(arn) is not an IAM role ARN (arn:aws:iam::123456789012:role/name)")
            return nil
        }
        return arn
    }

    /// Every `source_credentials` names a source, and following them never comes back.
    mutating func checkSourceReferences(_ sources: [String: CredentialSourceConfig]) {
        for name in sources.keys.sorted() {
            var path = [name]
            var current = name
            while case .assumeRole(_, let next, _, _, _)? = sources[current] {
                guard sources[next] != nil else {
                    if current == name { fail("credentials.\(name).source_credentials", "no credential source named \(next)") }
                    break
                }
                if path.contains(next) {
                    if next == name { fail("credentials.\(name).source_credentials", "a cycle: \((path + [next]).joined(separator: " → "))") }
                    break
                }
                path.append(next)
                current = next
            }
        }
    }

    mutating func credentialSource(_ value: Any?, at path: String) -> CredentialSourceConfig? {
        guard let map = value as? [String: Any] else {
            fail(path, "expected a mapping with a source")
            return nil
        }
        switch map["source"] as? String {
        case "chain":
            unknownKeys(map, allowed: ["source"], at: path)
            return .chain
        case "env", "environment":
            unknownKeys(map, allowed: ["source"], at: path)
            return .environment
        case "profile":
            unknownKeys(map, allowed: ["source", "profile"], at: path)
            guard let profile = string(map["profile"], path + ".profile") else {
                fail(path + ".profile", "a profile source needs a profile name")
                return nil
            }
            return .profile(profile)
        case "static":
            // A secret written in the file gets one message saying where it goes instead.
            let inlineSecrets = ["secret_access_key", "session_token"].filter { map[$0] != nil }
            unknownKeys(map, allowed: Set(["source", "access_key_id", "secret_access_key_env", "session_token_env"] + inlineSecrets), at: path)
            for key in inlineSecrets {
                fail(path + "." + key, "secrets are not written in the file; name the environment variable that holds it with \(key)_env")
            }
            let id = string(map["access_key_id"], path + ".access_key_id")
            if map["access_key_id"] == nil { fail(path + ".access_key_id", "a static source needs access_key_id") }
            let secretEnv = string(map["secret_access_key_env"], path + ".secret_access_key_env")
            if map["secret_access_key_env"] == nil && !inlineSecrets.contains("secret_access_key") {
                fail(path + ".secret_access_key_env", "a static source needs secret_access_key_env: the environment variable holding the secret")
            }
            let tokenEnv = string(map["session_token_env"], path + ".session_token_env")
            guard let id, let secretEnv, inlineSecrets.isEmpty else { return nil }
            return .staticKeys(accessKeyId: id, secretEnv: secretEnv, tokenEnv: tokenEnv)
        case "assume_role":
            unknownKeys(map, allowed: ["source", "role_arn", "source_credentials", "external_id", "session_name", "duration"], at: path)
            guard let roleArn = roleArn(map["role_arn"], path + ".role_arn") else { return nil }
            guard let source = string(map["source_credentials"], path + ".source_credentials") else {
                fail(path + ".source_credentials", "an assume_role source needs source_credentials: the named source that signs sts.AssumeRole")
                return nil
            }
            var durationSeconds: Int?
            if map["duration"] != nil, let seconds = duration(map["duration"], path + ".duration") {
                if (900...43200).contains(seconds) { durationSeconds = Int(seconds) } else { fail(path + ".duration", "STS allows 15m to 12h") }
            }
            return .assumeRole(roleArn: roleArn, sourceCredentials: source, externalId: string(map["external_id"], path + ".external_id"),
                               sessionName: string(map["session_name"], path + ".session_name"), durationSeconds: durationSeconds)
        case "web_identity":
            unknownKeys(map, allowed: ["source", "role_arn", "token_file", "session_name"], at: path)
            guard let roleArn = roleArn(map["role_arn"], path + ".role_arn") else { return nil }
            guard let tokenFile = string(map["token_file"], path + ".token_file") else {
                fail(path + ".token_file", "a web_identity source needs token_file")
                return nil
            }
            return .webIdentity(roleArn: roleArn, tokenFile: tokenFile, sessionName: string(map["session_name"], path + ".session_name"))
        case "container":
            unknownKeys(map, allowed: ["source"], at: path)
            return .container
        case "imds":
            unknownKeys(map, allowed: ["source"], at: path)
            return .imds
        case "process":
            unknownKeys(map, allowed: ["source", "command"], at: path)
            guard let command = string(map["command"], path + ".command"), !command.trimmingCharacters(in: .whitespaces).isEmpty else {
                fail(path + ".command", "a process source needs a command")
                return nil
            }
            return .process(command: command)
        default:
            fail(path + ".source", "expected chain, env, profile, static, assume_role, web_identity, container, imds or process")
            return nil
        }
    }
}

/// A listener address: `unix:PATH`, `tcp:HOST:PORT` or `tls:HOST:PORT`.
public enum ListenAddress: Sendable, Equatable, CustomStringConvertible {
    case unix(path: String)
    case tcp(host: String, port: Int)
    case tls(host: String, port: Int)

    public init?(_ text: String) {
        if text.hasPrefix("unix:") {
            let path = String(text.dropFirst(5))
            guard !path.isEmpty else { return nil }
            self = .unix(path: path)
            return
        }
        let isTLS = text.hasPrefix("tls:")
        guard isTLS || text.hasPrefix("tcp:") else { return nil }
        let rest = text.dropFirst(4)
        guard let colon = rest.lastIndex(of: ":"), let port = Int(rest[rest.index(after: colon)...]), (0...65535).contains(port) else { return nil }
        var host = String(rest[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty else { return nil }
        self = isTLS ? .tls(host: host, port: port) : .tcp(host: host, port: port)
    }

    static func validate(_ text: String) -> String? {
        ListenAddress(text) == nil ? "expected unix:PATH, tcp:HOST:PORT or tls:HOST:PORT" : nil
    }

    public var description: String {
        switch self {
        case .unix(let path): return "unix:\(path)"
        case .tcp(let host, let port): return "tcp:\(host.contains(":") ? "[\(host)]" : host):\(port)"
        case .tls(let host, let port): return "tls:\(host.contains(":") ? "[\(host)]" : host):\(port)"
        }
    }

    /// True for 127.0.0.0/8, ::1 and localhost.
    /// Whether a bound IP address is a loopback one: 127.0.0.0/8, ::1, or an IPv4-mapped
    /// loopback address (::ffff:127.x.y.z). Decided on the resolved address, never on
    /// the text a user wrote (a name starting with "127." may resolve anywhere).
    public static func isLoopback(ipv4 bytes: [UInt8]) -> Bool { bytes.count == 4 && bytes[0] == 127 }

    public static func isLoopback(ipv6 bytes: [UInt8]) -> Bool {
        guard bytes.count == 16 else { return false }
        if bytes[0..<15].allSatisfy({ $0 == 0 }) && bytes[15] == 1 { return true }
        return bytes[0..<10].allSatisfy({ $0 == 0 }) && bytes[10] == 0xFF && bytes[11] == 0xFF && bytes[12] == 127
    }
}
