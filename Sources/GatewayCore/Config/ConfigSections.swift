import AWSClient
import Foundation

/// The top-level keys of a configuration file, each read into its setting.
extension ConfigReader {
    mutating func read(_ top: [String: Any], into config: inout GatewayConfig) {
        for key in top.keys.sorted() where !GatewayConfig.topLevelKeys.contains(key) {
            fail(key, "unknown key" + GatewayConfig.suggestion(key, among: GatewayConfig.topLevelKeys))
        }
        if let logs = top["logs"] { config.logs = auditLog(logs) }
        logging(top, into: &config)
        listeners(top, into: &config)
        config.models = string(top["models"], "models")
        config.region = string(top["region"], "region")
        if let poll = top["idle_poll"], let micros = idlePoll(poll) { config.idlePollMicroseconds = micros }
        if let credentials = top["credentials"], let sources = credentialSources(credentials) { config.credentials = sources }
        if let limits = top["limits"] { self.limits(limits, into: &config.limits) }
        if let upstream = top["upstream"] { self.upstream(upstream, into: &config.upstream) }
        if let teams = top["teams"] { self.teams(teams, into: &config) }
        if let cache = top["cache"] { config.cache = self.cache(cache, ttlOrder: keyOrder("cache", "ttl")) }
        if let shared = top["shared"] { config.shared = self.shared(shared) }
        if config.cache?.store == .shared && config.shared == nil && top["shared"] == nil {
            fail("cache.store", "shared needs a shared: block (where Redis is)")
        }
    }

    /// `log_level`, `log_format`.
    mutating func logging(_ top: [String: Any], into config: inout GatewayConfig) {
        if let level = string(top["log_level"], "log_level") {
            if ["trace", "debug", "info", "notice", "warning", "error", "critical"].contains(level) { config.logLevel = level } else {
                fail("log_level", "expected trace, debug, info, notice, warning, error or critical")
            }
        }
        if let format = string(top["log_format"], "log_format") {
            if ["text", "json"].contains(format) { config.logFormat = format } else { fail("log_format", "expected text or json") }
        }
    }

    /// `listen`, `socket_mode`, `tls`, `allow_plaintext_non_loopback`, `allowed_hosts`.
    mutating func listeners(_ top: [String: Any], into config: inout GatewayConfig) {
        if let listen = top["listen"] {
            if let list = listen as? [Any] {
                for (i, item) in list.enumerated() {
                    guard let address = item as? String else { fail("listen[\(i)]", "expected a string"); continue }
                    if let problem = ListenAddress.validate(address) { fail("listen[\(i)]", problem) }
                    config.listen.append(address)
                }
            } else { fail("listen", "expected a list of addresses") }
        }
        if let mode = top["socket_mode"] {
            let text = (mode as? String) ?? (mode as? Int).map { String($0) }
            if let text, let value = UInt16(text, radix: 8), value <= 0o777 { config.socketMode = value } else {
                fail("socket_mode", "expected an octal file mode such as \"0600\"")
            }
        }
        if let tls = top["tls"] {
            if let map = tls as? [String: Any] {
                unknownKeys(map, allowed: ["cert", "key", "client_ca"], at: "tls")
                config.tls.cert = string(map["cert"], "tls.cert") ?? config.tls.cert
                config.tls.key = string(map["key"], "tls.key") ?? config.tls.key
                if map["cert"] != nil || map["key"] != nil { config.tls.isDefaultPair = false }
                config.tls.clientCA = string(map["client_ca"], "tls.client_ca")
            } else { fail("tls", "expected a mapping") }
        }
        if let allow = top["allow_plaintext_non_loopback"] {
            if let flag = allow as? Bool { config.allowPlaintextNonLoopback = flag } else { fail("allow_plaintext_non_loopback", "expected true or false") }
        }
        if let hosts = top["allowed_hosts"] {
            if let list = hosts as? [Any], list.allSatisfy({ ($0 as? String).map { !$0.isEmpty && !$0.contains(" ") } ?? false }) {
                config.allowedHosts = list.compactMap { ($0 as? String)?.lowercased() }
            } else { fail("allowed_hosts", "expected a list of host names") }
        }
    }

    /// `idle_poll`: microseconds, 0 when off.
    mutating func idlePoll(_ value: Any) -> Int? {
        if value as? Int == 0 || value as? Bool == false || value as? String == "off" || value as? String == "0" { return 0 }
        if let s = value as? String, let seconds = ConfigReader.parseDuration(s),
           case let micros = Int((seconds * 1e6).rounded()), micros <= GatewayConfig.maxIdlePollMicroseconds {
            return micros
        }
        fail("idle_poll", "expected a duration of at most 10ms such as 100us, or off")
        return nil
    }

    /// `credentials`: the named sources, one of them `default`, none in a cycle.
    mutating func credentialSources(_ value: Any) -> [String: CredentialSourceConfig]? {
        guard let map = value as? [String: Any] else {
            fail("credentials", "expected a mapping of named sources")
            return nil
        }
        var sources: [String: CredentialSourceConfig] = [:]
        for name in map.keys.sorted() {
            if let source = credentialSource(map[name], at: "credentials.\(name)") { sources[name] = source }
        }
        if sources["default"] == nil && !map.isEmpty && problems.isEmpty {
            fail("credentials", "a source named \"default\" is needed")
        }
        checkSourceReferences(sources)
        return sources
    }

    /// `limits`.
    mutating func limits(_ value: Any, into limits: inout GatewayLimits) {
        guard let map = value as? [String: Any] else { return fail("limits", "expected a mapping") }
        unknownKeys(map, allowed: ["max_body", "max_batch", "max_json_depth", "header_timeout", "idle_timeout", "max_connections",
                                   "max_connections_per_peer", "max_in_flight", "max_upstream_response", "max_blob", "shutdown_grace", "max_pages"], at: "limits")
        if let v = size(map["max_body"], "limits.max_body") { limits.maxBodyBytes = v }
        if let v = positiveInt(map["max_batch"], "limits.max_batch") { limits.maxBatchSize = v }
        if let v = positiveInt(map["max_json_depth"], "limits.max_json_depth") {
            // Parsing and validation recurse once per level: bound the stack they need.
            if v > GatewayLimits.maxJSONDepthCeiling {
                fail("limits.max_json_depth", "at most \(GatewayLimits.maxJSONDepthCeiling)")
            } else { limits.maxJSONDepth = v }
        }
        if let v = duration(map["header_timeout"], "limits.header_timeout") { limits.headerTimeoutSeconds = v }
        if let v = duration(map["idle_timeout"], "limits.idle_timeout") { limits.idleTimeoutSeconds = v }
        if let v = positiveInt(map["max_connections"], "limits.max_connections") { limits.maxConnections = v }
        if let v = positiveInt(map["max_connections_per_peer"], "limits.max_connections_per_peer") { limits.maxConnectionsPerPeer = v }
        if let v = positiveInt(map["max_in_flight"], "limits.max_in_flight") { limits.maxInFlightCalls = v }
        if let v = size(map["max_upstream_response"], "limits.max_upstream_response") { limits.maxUpstreamResponseBytes = v }
        if let v = size(map["max_blob"], "limits.max_blob") { limits.maxBlobBytes = v }
        if let v = duration(map["shutdown_grace"], "limits.shutdown_grace") { limits.shutdownGraceSeconds = v }
        if let v = positiveInt(map["max_pages"], "limits.max_pages") { limits.maxPages = v }
    }

    /// `upstream`.
    mutating func upstream(_ value: Any, into upstream: inout UpstreamSettings) {
        guard let map = value as? [String: Any] else { return fail("upstream", "expected a mapping") }
        unknownKeys(map, allowed: ["connect_timeout", "request_timeout", "max_attempts"], at: "upstream")
        if let v = duration(map["connect_timeout"], "upstream.connect_timeout") { upstream.connectTimeoutSeconds = v }
        if let v = duration(map["request_timeout"], "upstream.request_timeout") { upstream.requestTimeoutSeconds = v }
        if let v = positiveInt(map["max_attempts"], "upstream.max_attempts") { upstream.retry.maxAttempts = v }
    }

    /// `teams`, in the file's order (which decides the team of a caller several admit),
    /// with their rate limits.
    mutating func teams(_ value: Any, into config: inout GatewayConfig) {
        guard let map = value as? [String: Any] else { return fail("teams", "expected a mapping of team names to teams") }
        let order = keyOrder("teams") ?? map.keys.sorted()
        config.teams = order.compactMap { name in team(name, map[name], credentials: config.credentials) }
        // A key id names one team: a caller signing with it must not be two teams' at once.
        var owners: [String: String] = [:]
        for team in config.teams ?? [] {
            for key in team.accessKeys {
                if let owner = owners[key.id] {
                    fail("teams.\(team.name).access_keys", "the key id \(key.id) is teams.\(owner)'s already")
                }
                owners[key.id] = team.name
            }
        }
        for name in order {
            if let limits = rateLimits(name, (map[name] as? [String: Any])?["rate"]) { config.rateLimits[name] = limits }
        }
    }
}
