import GatewayCore
import TestSupport
import Foundation
import Testing

@Suite("Configuration file")
struct GatewayConfigTests {
    @Test("a full file of what this version supports")
    func full() throws {
        let config = try GatewayConfig.parse("""
        listen: [ "unix:/run/awsgw/awsgw.sock", "tls:127.0.0.1:8443", "tcp:[::1]:9000" ]
        socket_mode: "0660"
        tls: { cert: certs/server.pem, key: certs/server.key, client_ca: certs/clients-ca.pem }
        models: models/
        region: us-west-2
        credentials:
          default: { source: chain }
          netops:  { source: profile, profile: netops }
          ci:      { source: static, access_key_id: AKIAEXAMPLE, secret_access_key_env: CI_SECRET, session_token_env: CI_TOKEN }
        limits: { max_body: 512KiB, max_batch: 10, header_timeout: 500ms, idle_timeout: 5m, max_connections: 64, max_pages: 7 }
        upstream: { connect_timeout: 2s, request_timeout: 1m, max_attempts: 5 }
        """)
        #expect(config.listen.count == 3)
        #expect(ListenAddress(config.listen[2]) == .tcp(host: "::1", port: 9000))
        #expect(config.socketMode == 0o660)
        #expect(config.tls.clientCA == "certs/clients-ca.pem")
        #expect(config.region == "us-west-2")
        #expect(config.credentials["netops"] == .profile("netops"))
        #expect(config.credentials["ci"] == .staticKeys(accessKeyId: "AKIAEXAMPLE", secretEnv: "CI_SECRET", tokenEnv: "CI_TOKEN"))
        #expect(config.limits.maxBodyBytes == 512 * 1024)
        #expect(config.limits.headerTimeoutSeconds == 0.5)
        #expect(config.limits.idleTimeoutSeconds == 300)
        #expect(config.limits.maxPages == 7)
        #expect(config.upstream.requestTimeoutSeconds == 60)
        #expect(config.upstream.retry.maxAttempts == 5)
    }

    @Test("an empty file gives the defaults")
    func empty() throws {
        let config = try GatewayConfig.parse("")
        #expect(config.listen.isEmpty)
        #expect(config.socketMode == 0o600)
        #expect(config.credentials["default"] == .chain)
    }

    @Test("every offending key or value is named")
    func problems() {
        do {
            _ = try GatewayConfig.parse("""
            listne: [ "unix:/x" ]
            listen: [ "udp:1.2.3.4:5", 7 ]
            socket_mode: "0999"
            tls: { cert: a, certificate: b }
            credentials:
              default: { source: static, access_key_id: A, secret_access_key: SHOULD-NOT-BE-HERE, secret_access_key_env: X }
            limits: { max_body: lots, header_timeout: 10, max_pages: 0 }
            logs: { params: everything, dir: 5 }
            log_format: xml
            teams:
              ops: { members: [ "uid:x", "token-sha256:abc" ], credentials: nope, allow: [ "networkmanager" ], rate: { "*": "1/d", "bad": "1/s" } }
            """, file: "bad.yaml")
            Issue.record("expected problems")
        } catch {
            let paths = error.problems.map(\.path)
            for expected in ["listne", "listen[0]", "listen[1]", "socket_mode", "tls.certificate", "credentials.default.secret_access_key",
                             "limits.max_body", "limits.header_timeout", "limits.max_pages", "logs.params", "logs.dir", "log_format", "teams.ops.members[0]", "teams.ops.members[1]",
                             "teams.ops.credentials", "teams.ops.allow[0]", "teams.ops.rate.*", "teams.ops.rate.bad"] {
                #expect(paths.contains(expected), "\(expected) in \(paths)")
            }
            #expect(error.description.contains("bad.yaml"))
            #expect(error.description.contains("did you mean listen"))
            #expect(!error.description.contains("SHOULD-NOT-BE-HERE"))
        }
    }

    @Test("shared: Redis for replicas; its problems named; the password never in the file")
    func shared() throws {
        let config = try GatewayConfig.parse("""
            shared: { redis: "rediss://gw@redis.internal:6380/2", password_env: REDIS_PW, key_prefix: "team-a:", timeout: 20ms, on_failure: deny }
            cache: { store: shared, shared_max_entry: 256KiB, ttl: { "*": 5s } }
            """)
        let shared = try #require(config.shared)
        #expect(shared.redis == "rediss://gw@redis.internal:6380/2" && shared.passwordEnv == "REDIS_PW" && shared.keyPrefix == "team-a:")
        #expect(shared.timeoutSeconds == 0.02 && shared.onFailure == .deny)
        #expect(config.cache?.store == .shared && config.cache?.sharedMaxEntryBytes == 256 << 10)
        #expect(config.warnings(environment: [:]).contains { $0.contains("REDIS_PW is not set") })
        #expect(try GatewayConfig.parse("shared: { redis: \"redis://127.0.0.1\" }").shared?.onFailure == .local)
        #expect(try GatewayConfig.parse("cache: { ttl: { \"*\": 5s } }").cache?.store == .memory)

        let bad: [(String, String, String)] = [
            ("shared: { redis: \"redis://:hunter2@h:6379\" }", "shared.redis", "password_env"),
            ("shared: { redis: \"http://h\" }", "shared.redis", "redis://"),
            ("shared: { redis: \"redis://h:99999\" }", "shared.redis", "port"),
            ("shared: { redis: \"redis://h/x\" }", "shared.redis", "database"),
            ("shared: { password_env: X }", "shared.redis", "required"),
            ("shared: { redis: \"redis://h\", on_failure: retry }", "shared.on_failure", "local or deny"),
            ("shared: { redis: \"redis://h\", timeout: 30s }", "shared.timeout", "10s"),
            ("shared: { redis: \"redis://h\", key_prefix: \"a{b\" }", "shared.key_prefix", "{"),
            ("shared: { redis: \"redis://h\", pasword_env: X }", "shared.pasword_env", "unknown key"),
            ("cache: { store: shared }", "cache.store", "shared:"),
            ("cache: { store: disk }", "cache.store", "memory or shared"),
        ]
        Self.expectRefused(bad)
    }

    @Test("access_keys: gateway keys by id, their secrets by environment variable or file (relative to the config), never in the file; ids unique across teams")
    func accessKeys() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("awsgw-keys-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: dir + "/secrets", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try "file-secret-0123456789\n".write(toFile: dir + "/secrets/ops.key", atomically: true, encoding: .utf8)
        try """
        teams:
          data: { members: any, allow: ["s3:*"], access_keys: [ { id: AKGWDATA00000001, secret_env: AWSGW_KEY_DATA } ] }
          ops: { members: any, allow: ["*:*"], access_keys: [ { id: AKGWOPS000000001, secret_file: secrets/ops.key } ] }
        """.write(toFile: dir + "/awsgw.yaml", atomically: true, encoding: .utf8)
        let environment = ["AWSGW_KEY_DATA": "env-secret-abcdefghij"]
        let config = try GatewayConfig.load(file: dir + "/awsgw.yaml", environment: environment)
        #expect(config.teams?[1].accessKeys == [GatewayKey(id: "AKGWOPS000000001", secret: .file(dir + "/secrets/ops.key"))])
        let keys = GatewayKeys(teams: config.teams ?? [], environment: environment)
        #expect(keys.secret(for: "AKGWDATA00000001") == "env-secret-abcdefghij" && keys.team(for: "AKGWDATA00000001") == "data")
        #expect(keys.secret(for: "AKGWOPS000000001") == "file-secret-0123456789" && keys.team(for: "AKGWOPS000000001") == "ops")
        #expect(keys.secret(for: "AKIDEXAMPLE") == nil && keys.problems.isEmpty)
        // An unset variable: said at start and by config check, never fatal, never the secret.
        let warnings = config.warnings(environment: [:])
        #expect(warnings.contains("teams.data.access_keys AKGWDATA00000001: environment variable AWSGW_KEY_DATA is not set; callers cannot sign with this key until it is"))

        let team = "teams: { a: { members: any, allow: [\"*:*\"], access_keys: "
        let bad: [(String, String, String)] = [
            (team + "[ { id: AKGWDATA00000001, secret: hunter2 } ] } }", "teams.a.access_keys[0]", "not written in the file"),
            (team + "[ { id: akgw-lower, secret_env: X } ] } }", "teams.a.access_keys[0].id", "upper-case letters and digits"),
            (team + "[ { id: AKGWDATA00000001 } ] } }", "teams.a.access_keys[0]", "one of secret_env and secret_file"),
            (team + "[ { id: AKGWDATA00000001, secret_env: X, secret_file: f } ] } }", "teams.a.access_keys[0]", "one of secret_env and secret_file"),
            (team + "[ { secret_env: X } ] } }", "teams.a.access_keys[0].id", "required"),
            (team + "AKGWDATA00000001 } }", "teams.a.access_keys", "expected a list"),
            (team + "[ { id: AKGWDATA00000001, secret_env: X } ] }, b: { members: any, allow: [\"*:*\"], "
                + "access_keys: [ { id: AKGWDATA00000001, secret_env: Y } ] } }", "teams.b.access_keys", "teams.a's already"),
        ]
        Self.expectRefused(bad)
    }

    /// Each text is refused with a problem at `path` whose words contain `words`, and no
    /// problem repeats a secret.
    static func expectRefused(_ bad: [(text: String, path: String, words: String)]) {
        for (text, path, words) in bad {
            do {
                _ = try GatewayConfig.parse(text)
                Issue.record("accepted: \(text)")
            } catch {
                let problem = error.problems.first { $0.path == path }
                #expect(problem?.problem.contains(words) == true, "\(text): \(error.problems)")
                #expect(!error.description.contains("hunter2"))
            }
        }
    }

    @Test("broken YAML is an error, not a crash")
    func brokenYAML() {
        #expect(throws: ConfigError.self) { try GatewayConfig.parse("listen: [unclosed") }
        #expect(throws: ConfigError.self) { try GatewayConfig.parse("- just\n- a list") }
    }

    /// Found by `make fuzz`: Yams traps on a key that is a list (`[\xED]:`), and keeps the
    /// last of two equal keys silently. Both are refused before Yams sees them.
    @Test("hostile YAML: keys that are lists or mappings, keys given twice, alias bombs",
          arguments: ["[\u{ED}]:", "[a]: 1", "region: 2:2:2:2:1:21:21:21:21:21:21:21:2\nbogus: 1", "limits: {max_batch: 2:2:2:2:1:21:21:21:21:21:21:21:2}",
                      "limits: {max_batch: 99999999999999999999999}", "{a: 1}: 2", "teams: {}\nteams: {}", "limits: {max_body: 1KiB, max_body: 1GiB}",
                      "a: &a [x,x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]\n"
                        + "d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d,*d]\nf: [*e,*e,*e,*e,*e,*e,*e,*e,*e,*e]"])
    func hostileYAML(_ text: String) {
        do {
            _ = try GatewayConfig.parse(text)
            Issue.record("accepted \(text.debugDescription)")
        } catch {
            #expect(!error.description.isEmpty)
        }
    }

    @Test("scalars: quoted ones are text, plain numbers decimal, unquoted file modes read as octal")
    func scalars() throws {
        let config = try GatewayConfig.parse("socket_mode: 0660\nregion: \"123\"\nlimits: {max_batch: 7}\nallow_plaintext_non_loopback: false\n")
        #expect(config.socketMode == 0o660)
        #expect(config.region == "123")
        #expect(config.limits.maxBatchSize == 7)
        #expect(throws: ConfigError.self) { try GatewayConfig.parse("region: 12\n") }
    }

    @Test("idle_poll: a duration up to 10ms, or off; 100us unless set")
    func idlePoll() throws {
        #expect(try GatewayConfig.parse("").idlePollMicroseconds == 100)
        #expect(try GatewayConfig.parse("idle_poll: 50us").idlePollMicroseconds == 50)
        #expect(try GatewayConfig.parse("idle_poll: 50µs").idlePollMicroseconds == 50)
        #expect(try GatewayConfig.parse("idle_poll: 2ms").idlePollMicroseconds == 2000)
        #expect(try GatewayConfig.parse("idle_poll: 10ms").idlePollMicroseconds == 10_000)
        for off in ["off", "0", "\"0\"", "false"] {
            #expect(try GatewayConfig.parse("idle_poll: \(off)").idlePollMicroseconds == 0, "\(off)")
        }
        for bad in ["1s", "11ms", "-5us", "soon", "[1]"] {
            #expect(throws: ConfigError.self, "\(bad)") { try GatewayConfig.parse("idle_poll: \(bad)") }
            do { _ = try GatewayConfig.parse("idle_poll: \(bad)") } catch { #expect(error.problems.map(\.path) == ["idle_poll"]) }
        }
    }

    @Test("a key given twice is named")
    func duplicateKey() {
        do {
            _ = try GatewayConfig.parse("limits:\n  max_body: 1KiB\n  max_body: 1GiB\n")
        } catch {
            #expect(error.problems.first?.path == "limits.max_body" || error.description.contains("max_body"), "\(error)")
        }
    }

    @Test("listen addresses")
    func addresses() {
        #expect(ListenAddress("unix:/tmp/a.sock") == .unix(path: "/tmp/a.sock"))
        #expect(ListenAddress("tcp:127.0.0.1:80") == .tcp(host: "127.0.0.1", port: 80))
        #expect(ListenAddress("tls:localhost:8443") == .tls(host: "localhost", port: 8443))
        #expect(ListenAddress("tcp:127.0.0.1") == nil)
        #expect(ListenAddress("tcp:127.0.0.1:99999") == nil)
        #expect(ListenAddress("unix:") == nil)
        #expect(ListenAddress.isLoopback(ipv4: [127, 0, 0, 1]) && ListenAddress.isLoopback(ipv4: [127, 9, 8, 7]))
        #expect(!ListenAddress.isLoopback(ipv4: [0, 0, 0, 0]) && !ListenAddress.isLoopback(ipv4: [10, 127, 0, 1]))
        #expect(ListenAddress.isLoopback(ipv6: [UInt8](repeating: 0, count: 15) + [1]))
        #expect(ListenAddress.isLoopback(ipv6: [UInt8](repeating: 0, count: 10) + [0xFF, 0xFF, 127, 0, 0, 1]))
        #expect(!ListenAddress.isLoopback(ipv6: [UInt8](repeating: 0, count: 10) + [0xFF, 0xFF, 10, 0, 0, 1]))
        #expect(!ListenAddress.isLoopback(ipv6: [UInt8](repeating: 0, count: 16)))
    }
}

@Suite("The example configuration")
struct ExampleConfigTests {
    @Test("relative paths lead into the file's folder; absolute ones and addresses stay as written")
    func pathsRelativeToFile() throws {
        let config = try GatewayConfig.parse("""
        listen: [ "unix:run/gw.sock", "unix:/run/awsgw/awsgw.sock", "tcp:127.0.0.1:8080", "tls:localhost:8443" ]
        tls: { cert: certs/a.pem, key: ../keys/a.key, client_ca: /etc/ssl/ca.pem }
        models: models/
        logs: { dir: logs }
        shared: { redis: "redis://127.0.0.1:6379", ca_file: redis-ca.pem }
        credentials:
          default: { source: chain }
          irsa: { source: web_identity, role_arn: "arn:aws:iam::123456789012:role/x", token_file: token }
        """, directory: "/etc/awsgw")
        #expect(config.listen == ["unix:/etc/awsgw/run/gw.sock", "unix:/run/awsgw/awsgw.sock", "tcp:127.0.0.1:8080", "tls:localhost:8443"])
        #expect(config.tls == TLSConfig(cert: "/etc/awsgw/certs/a.pem", key: "/etc/keys/a.key", clientCA: "/etc/ssl/ca.pem", isDefaultPair: false))
        #expect(config.models == "/etc/awsgw/models")
        #expect(config.logs?.dir == "/etc/awsgw/logs")
        #expect(config.shared?.caFile == "/etc/awsgw/redis-ca.pem")
        #expect(config.credentials["irsa"] == .webIdentity(roleArn: "arn:aws:iam::123456789012:role/x", tokenFile: "/etc/awsgw/token", sessionName: nil))

        // Unnamed: the default pair beside the file (a development one may be made there), the
        // audit log in the per-user folder (empty: decided at start).
        let defaults = try GatewayConfig.parse("region: us-east-1\n", directory: "/srv/gw")
        #expect(defaults.tls == TLSConfig(cert: "/srv/gw/certs/server.pem", key: "/srv/gw/certs/server.key", clientCA: nil, isDefaultPair: true))
        #expect(defaults.logs?.dir == "" && defaults.models == nil)
    }

    @Test("a secret written in the file is one problem that says where it goes, not three")
    func inlineSecret() {
        for (text, path) in [("secret_access_key: S3CR3T-IN-FILE", "credentials.default.secret_access_key"),
                             ("secret_access_key_env: X, session_token: S3CR3T-IN-FILE", "credentials.default.session_token")] {
            do {
                _ = try GatewayConfig.parse("credentials:\n  default: { source: static, access_key_id: AKIDEXAMPLE, \(text) }\n")
                Issue.record("expected a problem")
            } catch {
                #expect(error.problems.map(\.path) == [path], "\(error.problems)")
                #expect(error.description.contains("_env"))
                #expect(!error.description.contains("S3CR3T-IN-FILE"))
            }
        }
    }

    @Test("config/awsgw.example.yaml is valid and says what it documents")
    func exampleIsValid() throws {
        let config = try GatewayConfig.load(file: Fixtures.repoRoot + "/config/awsgw.example.yaml")
        #expect(config.listen.count == 3)
        #expect(config.limits.maxBodyBytes == 1 << 20)
        #expect(config.limits.shutdownGraceSeconds == 10)
        #expect(config.limits.maxPages == 1000)
        #expect(config.credentials.count == 3)
        #expect(config.teams?.map(\.name) == ["operator", "netops", "ci"])
        #expect(config.teams?.first?.members == [.uid(UInt32(getuid()))])
        #expect(config.warnings(environment: [:]).contains { $0.contains("CI_SECRET is not set") })
        #expect(config.warnings(environment: ["CI_SECRET": "x", "CI_TOKEN": "y"]).isEmpty)
        #expect(config.rateLimits["netops"]?.team?.burst == 40)
        let cache = try #require(config.cache)
        #expect(cache.maxBytes == 64 << 20)
        #expect(cache.ttl.map(\.0.text) == ["lambda-core:GetNetworkConnector", "*:*"])
        #expect(cache.ttl(service: "lambda-core", operation: "GetNetworkConnector") == 2)
        #expect(cache.ttl(service: "networkmanager", operation: "GetLinks") == 10)
        #expect(!cache.isCacheable(service: "secretsmanager", operation: "GetSecretValue", readOnly: true))
        #expect(config.idlePollMicroseconds == GatewayConfig.defaultIdlePollMicroseconds)
    }
}

@Suite("Teams and policy")
struct PolicyTests {
    static let file = """
    credentials:
      default: { source: chain }
      netops: { source: profile, profile: netops }
    teams:
      zeta:
        members: [ "uid:1001", "gid:2000" ]
        credentials: netops
        region: eu-west-1
        allow: [ "networkmanager:*", "lambda-core:Get*" ]
        deny: [ "networkmanager:Delete*" ]
      alpha:
        members: [ "cn:netops-app", "token-sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08" ]
        allow: [ "*:Describe*", "s3:*Object" ]
      everyone:
        members: any
        allow: [ "sts:GetCallerIdentity" ]
    """

    @Test("teams keep the file's order, with their credentials, region and rules")
    func parse() throws {
        let config = try GatewayConfig.parse(Self.file)
        let teams = try #require(config.teams)
        #expect(teams.map(\.name) == ["zeta", "alpha", "everyone"])
        #expect(teams[0].credentials == "netops" && teams[0].region == "eu-west-1")
        #expect(teams[1].credentials == "default")
        #expect(teams[2].members == [.any])
    }

    @Test("the first team whose members match is the caller's; tokens match by their hash")
    func membership() throws {
        let policy = try GatewayConfig.parse(Self.file).policy
        #expect(policy.team(for: PeerIdentity(uid: 1001, gid: 5), token: nil).0?.name == "zeta")
        #expect(policy.team(for: PeerIdentity(uid: 7, gid: 2000), token: nil).0?.name == "zeta")
        #expect(policy.team(for: PeerIdentity(commonName: "netops-app"), token: nil).0?.name == "alpha")
        let (byToken, identity) = policy.team(for: PeerIdentity(), token: "test")
        #expect(byToken?.name == "alpha")
        #expect(identity.hasPrefix("token-sha256:9f86d0") && !identity.contains("test"))
        #expect(policy.team(for: PeerIdentity(), token: "wrong").0?.name == "everyone")
        #expect(policy.team(for: PeerIdentity(uid: 7), token: nil).1 == "uid:7")
    }

    @Test("deny wins; nothing is allowed unless a rule allows it; the deciding rule is named as written")
    func decisions() throws {
        let policy = try GatewayConfig.parse(Self.file).policy
        let zeta = policy.teams[0], alpha = policy.teams[1]
        #expect(policy.decide(zeta, service: "networkmanager", operation: "AssociateConnectPeer") == (true, "networkmanager:*"))
        #expect(policy.decide(zeta, service: "networkmanager", operation: "DeleteConnection") == (false, "networkmanager:Delete*"))
        #expect(policy.decide(zeta, service: "lambda-core", operation: "GetNetworkConnector") == (true, "lambda-core:Get*"))
        #expect(policy.decide(zeta, service: "lambda-core", operation: "DeleteNetworkConnector").allowed == false)
        #expect(policy.decide(alpha, service: "ec2", operation: "DescribeInstances") == (true, "*:Describe*"))
        #expect(policy.decide(alpha, service: "s3", operation: "GetObject").allowed)
        #expect(!policy.decide(alpha, service: "s3", operation: "GetObjectAcl").allowed)
    }

    @Test("no teams: only the gateway's own user, allowed everything")
    func ownUser() {
        let policy = Policy.ownUserOnly(uid: 1234)
        #expect(policy.team(for: PeerIdentity(uid: 1234), token: nil).0 != nil)
        #expect(policy.team(for: PeerIdentity(uid: 99), token: nil).0 == nil)
        #expect(policy.team(for: PeerIdentity(), token: "x").0 == nil)
    }

    @Test("glob patterns", arguments: [
        ("*:*", "a", "B", true), ("net*:Get*", "networkmanager", "GetLinks", true), ("net*:Get*", "networkmanager", "ListLinks", false),
        ("*manager:*Peer", "networkmanager", "AssociateConnectPeer", true), ("s3:*Object*", "s3", "GetObjectAcl", true),
        ("s3:Get*Acl", "s3", "GetObjectAcl", true), ("s3:Get*Acl", "s3", "GetAcl", true), ("s3:Get*Acl", "s3", "GetAc", false),
        ("sts:GetCallerIdentity", "sts", "GetCallerIdentity", true), ("sts:GetCallerIdentity", "sts", "GetCallerIdentityX", false),
    ])
    func globs(_ c: (String, String, String, Bool)) throws {
        #expect(try #require(OperationPattern(c.0)).matches(service: c.1, operation: c.2) == c.3)
    }
}
