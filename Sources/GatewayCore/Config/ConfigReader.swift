import AWSCredentials
import Foundation
import Yams

/// Collects problems while reading typed values out of YAML.
struct ConfigReader {
    var problems: [ConfigProblem] = []
    /// The YAML document, for the order of mappings' keys (plain values lose it).
    let document: Node?

    init(document: Node? = nil) { self.document = document }

    /// The keys of the mapping at `path`, in the file's order.
    func keyOrder(_ path: String...) -> [String]? {
        var node = document
        for key in path { node = node?.mapping?[key] }
        return node?.mapping?.keys.compactMap(\.string)
    }

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
        unknownKeys(map, allowed: ["members", "credentials", "region", "allow", "deny", "rate", "access_keys"], at: path)
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
                    allow: patterns("allow"), deny: patterns("deny"), accessKeys: accessKeys(map["access_keys"], at: path + ".access_keys"))
    }

    /// `access_keys: [ { id: AKGW..., secret_env: NAME } | { id, secret_file: PATH } ]`.
    mutating func accessKeys(_ value: Any?, at path: String) -> [GatewayKey] {
        guard let value else { return [] }
        guard let list = value as? [Any] else {
            fail(path, "expected a list of { id, secret_env } or { id, secret_file }")
            return []
        }
        var keys: [GatewayKey] = []
        for (i, item) in list.enumerated() {
            let at = "\(path)[\(i)]"
            guard let map = item as? [String: Any] else {
                fail(at, "expected { id: AKGW..., secret_env: NAME } or { id, secret_file: PATH }")
                continue
            }
            if map["secret"] != nil || map["secret_access_key"] != nil {
                fail(at, "secrets are not written in the file; name the environment variable (secret_env) or the file (secret_file) that holds it")
                continue
            }
            unknownKeys(map, allowed: ["id", "secret_env", "secret_file"], at: at)
            guard let id = string(map["id"], at + ".id") else {
                if map["id"] == nil { fail(at + ".id", "required: the key's id (awsgw keys generate makes one)") }
                continue
            }
            guard GatewayKey.isValidID(id) else {
                fail(at + ".id", "expected 16 to 128 upper-case letters and digits, as AWS's access key ids")
                continue
            }
            let env = string(map["secret_env"], at + ".secret_env"), file = string(map["secret_file"], at + ".secret_file")
            switch (env, file) {
            case (let name?, nil): keys.append(GatewayKey(id: id, secret: .environment(name)))
            case (nil, let file?): keys.append(GatewayKey(id: id, secret: .file(file)))
            default: fail(at, "expected one of secret_env and secret_file")
            }
        }
        return keys
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

