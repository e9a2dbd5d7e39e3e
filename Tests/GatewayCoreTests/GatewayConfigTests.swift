import GatewayCore
import TestSupport
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
        limits: { max_body: 512KiB, max_batch: 10, header_timeout: 500ms, idle_timeout: 5m, max_connections: 64 }
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
            limits: { max_body: lots, header_timeout: 10 }
            teams: {}
            """, file: "bad.yaml")
            Issue.record("expected problems")
        } catch {
            let paths = error.problems.map(\.path)
            for expected in ["listne", "listen[0]", "listen[1]", "socket_mode", "tls.certificate", "credentials.default.secret_access_key",
                             "limits.max_body", "limits.header_timeout", "teams"] {
                #expect(paths.contains(expected), "\(expected) in \(paths)")
            }
            #expect(error.description.contains("bad.yaml"))
            #expect(error.description.contains("did you mean listen"))
            #expect(!error.description.contains("SHOULD-NOT-BE-HERE"))
        }
    }

    @Test("broken YAML is an error, not a crash")
    func brokenYAML() {
        #expect(throws: ConfigError.self) { try GatewayConfig.parse("listen: [unclosed") }
        #expect(throws: ConfigError.self) { try GatewayConfig.parse("- just\n- a list") }
    }

    @Test("listen addresses")
    func addresses() {
        #expect(ListenAddress("unix:/tmp/a.sock") == .unix(path: "/tmp/a.sock"))
        #expect(ListenAddress("tcp:127.0.0.1:80") == .tcp(host: "127.0.0.1", port: 80))
        #expect(ListenAddress("tls:localhost:8443") == .tls(host: "localhost", port: 8443))
        #expect(ListenAddress("tcp:127.0.0.1") == nil)
        #expect(ListenAddress("tcp:127.0.0.1:99999") == nil)
        #expect(ListenAddress("unix:") == nil)
        #expect(ListenAddress.isLoopback("127.0.0.1") && ListenAddress.isLoopback("::1") && !ListenAddress.isLoopback("0.0.0.0"))
    }
}

@Suite("The example configuration")
struct ExampleConfigTests {
    @Test("config/awsgw.example.yaml is valid and says what it documents")
    func exampleIsValid() throws {
        let config = try GatewayConfig.load(file: Fixtures.repoRoot + "/config/awsgw.example.yaml")
        #expect(config.listen.count == 3)
        #expect(config.limits.maxBodyBytes == 1 << 20)
        #expect(config.limits.shutdownGraceSeconds == 10)
        #expect(config.credentials.count == 3)
    }
}
