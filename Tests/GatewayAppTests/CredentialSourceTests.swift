import AWSClient
import AWSCredentials
import AWSJSON
import AWSSigning
import Foundation
import GatewayCore
import GatewayServer
import GatewayApp
import GatewayTesting
import GatewayTransport
import NIOConcurrencyHelpers
import NIOPosix
import Testing
import TestSupport

/// A real loopback server playing the credential endpoint (or STS), the gateway's own HTTP
/// client and engine in front of it.
final class CredentialWorld: @unchecked Sendable {
    let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    let fake: FakeAWS
    let transport: UpstreamClient
    let dir: String

    init(script: @escaping FakeAWS.Script) async throws {
        fake = try await FakeAWS(group: group, script: script)
        transport = try UpstreamClient(group: group, connectTimeoutSeconds: 1, maxResponseBytes: 1 << 20)
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("awsgw-cred-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }

    var http: TransportCredentialHTTP { TransportCredentialHTTP(transport: transport) }

    /// STS through the client, at the fake (`AWS_ENDPOINT_URL_STS`), without real backoff waits.
    func caller() -> AWSCaller {
        AWSCaller(engine: AWSEngine(models: sharedModels, environment: ["AWS_ENDPOINT_URL_STS": fake.url]), transport: transport,
                  sleep: { _ in })
    }

    func write(_ name: String, _ text: String, mode: Int = 0o600) throws -> String {
        let path = dir + "/" + name
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: path)
        return path
    }

    func stop() async {
        await fake.stop()
        await transport.shutdown()
        try? await group.shutdownGracefully()
        try? FileManager.default.removeItem(atPath: dir)
    }
}

let inAnHour = ISO8601DateFormatter().string(from: Date().addingTimeInterval(3600))

func temporaryJSON(_ id: String, token: String = "SESSIONTOKEN") -> String {
    #"{"AccessKeyId":"\#(id)","SecretAccessKey":"SECRET-\#(id)","Token":"\#(token)","Expiration":"\#(inAnHour)"}"#
}

func stsAnswer(_ action: String, id: String) -> String {
    """
    <\(action)Response xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><\(action)Result><Credentials>\
    <AccessKeyId>\(id)</AccessKeyId><SecretAccessKey>SECRET-\(id)</SecretAccessKey><SessionToken>TOKEN-\(id)</SessionToken>\
    <Expiration>\(inAnHour)</Expiration></Credentials></\(action)Result>\
    <ResponseMetadata><RequestId>req-1</RequestId></ResponseMetadata></\(action)Response>
    """
}

/// Whether a request that arrived carries a valid SigV4 signature by `credentials`:
/// recomputed from what arrived (signed headers, path, query, body, date, scope).
func hasValidSignature(_ request: FakeAWS.Request, _ credentials: Credentials) -> Bool {
    guard let authorization = request.header("Authorization"), let amzDate = request.header("X-Amz-Date"),
          let scope = authorization.components(separatedBy: "Credential=").last?.components(separatedBy: ",").first?.split(separator: "/"),
          scope.count == 5,
          let signed = authorization.components(separatedBy: "SignedHeaders=").last?.components(separatedBy: ",").first
    else { return false }
    let names = Set(signed.split(separator: ";").map(String.init))
    let headers = request.headers.filter { names.contains($0.0.lowercased()) && !["x-amz-date", "x-amz-security-token"].contains($0.0.lowercased()) }
    let parts = request.uri.split(separator: "?", maxSplits: 1)
    var signable = SignableRequest(method: request.method, path: String(parts[0]), query: parts.count > 1 ? String(parts[1]) : "",
                                   headers: headers.map { (name: $0.0, value: $0.1) }, body: request.body)
    let formatter = DateFormatter()
    formatter.locale = Locale(identifier: "en_US_POSIX")
    formatter.timeZone = TimeZone(identifier: "UTC")
    formatter.dateFormat = "yyyyMMdd'T'HHmmss'Z'"
    guard let date = formatter.date(from: amzDate) else { return false }
    SigV4Signer(credentials: credentials, region: String(scope[2]), service: String(scope[3]))
        .sign(&signable, at: Timestamp(seconds: Int64(date.timeIntervalSince1970)))
    return signable.header("Authorization") == authorization
}

@Suite("Credential sources against real local endpoints")
struct CredentialSourceTests {
    @Test("container: FULL_URI on loopback, the token file read on every fetch and sent as Authorization; forbidden hosts refused")
    func container() async throws {
        let world = try await CredentialWorld { request, _ in
            guard request.method == "GET", request.uri == "/v2/credentials/abc", let auth = request.header("Authorization") else {
                return .respond(status: 401, headers: [], body: "no")
            }
            return .respond(status: 200, headers: [("Content-Type", "application/json")], body: temporaryJSON("ASIA" + auth.uppercased()))
        }
        defer { Task { await world.stop() } }
        let tokenFile = try world.write("token", "first")
        let env = ["AWS_CONTAINER_CREDENTIALS_FULL_URI": world.fake.url + "/v2/credentials/abc", "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE": tokenFile,
                   "AWS_CONTAINER_AUTHORIZATION_TOKEN": "ignored"]
        let provider = ContainerCredentialProvider(environment: env, http: world.http)
        let first = try await provider.credentials()
        #expect(first.accessKeyId == "ASIAFIRST" && first.sessionToken == "SESSIONTOKEN" && first.expiration != nil)
        _ = try world.write("token", "second")
        #expect(try await provider.credentials().accessKeyId == "ASIASECOND")
        #expect(world.fake.requests.allSatisfy { $0.header("Accept") == "application/json" })

        for url in ["http://10.1.2.3/creds", "http://169.254.169.254/latest", "ftp://127.0.0.1/x"] {
            let refused = ContainerCredentialProvider(environment: ["AWS_CONTAINER_CREDENTIALS_FULL_URI": url], http: world.http)
            await #expect(throws: CredentialsError.self) { try await refused.credentials() }
        }
        _ = try world.write("token", "line\n")
        do {
            _ = try await provider.credentials()
            Issue.record("a token with a line break was sent")
        } catch {
            #expect(error.reason.contains("line break"))
        }
        #expect(ContainerCredentialProvider.isAllowedPlainHost("127.0.0.9") && ContainerCredentialProvider.isAllowedPlainHost("fd00:ec2::23"))
        #expect(!ContainerCredentialProvider.isAllowedPlainHost("127.0.0.1.evil.com"))
    }

    @Test("IMDSv2: a token from PUT with its TTL, then role and credentials with the token; IMDSv1 only where botocore falls back")
    func imds() async throws {
        let refuseToken = NIOLockedValueBox(false)
        let world = try await CredentialWorld { request, _ in
            if request.method == "PUT" && request.uri == "/latest/api/token" {
                if refuseToken.withLockedValue({ $0 }) { return .respond(status: 403, headers: [], body: "") }
                guard request.header("x-aws-ec2-metadata-token-ttl-seconds") == "21600" else { return .respond(status: 400, headers: [], body: "") }
                return .respond(status: 200, headers: [], body: "IMDS-TOKEN")
            }
            let v2 = request.header("x-aws-ec2-metadata-token") == "IMDS-TOKEN"
            if !v2 && !refuseToken.withLockedValue({ $0 }) { return .respond(status: 401, headers: [], body: "") }
            switch request.uri {
            case "/latest/meta-data/iam/security-credentials/": return .respond(status: 200, headers: [], body: "node-role")
            case "/latest/meta-data/iam/security-credentials/node-role": return .respond(status: 200, headers: [], body: temporaryJSON(v2 ? "ASIAV2" : "ASIAV1"))
            default: return .respond(status: 404, headers: [], body: "")
            }
        }
        defer { Task { await world.stop() } }
        let env = ["AWS_EC2_METADATA_SERVICE_ENDPOINT": world.fake.url]
        let keys = try await InstanceMetadataCredentialProvider(environment: env, http: world.http).credentials()
        #expect(keys.accessKeyId == "ASIAV2" && keys.secretAccessKey == "SECRET-ASIAV2")
        #expect(world.fake.requests.map { "\($0.method) \($0.uri)" } == [
            "PUT /latest/api/token", "GET /latest/meta-data/iam/security-credentials/", "GET /latest/meta-data/iam/security-credentials/node-role",
        ])
        refuseToken.withLockedValue { $0 = true }
        #expect(try await InstanceMetadataCredentialProvider(environment: env, http: world.http).credentials().accessKeyId == "ASIAV1")
        var v1Off = env
        v1Off["AWS_EC2_METADATA_V1_DISABLED"] = "true"
        await #expect(throws: CredentialsError.self) { try await InstanceMetadataCredentialProvider(environment: v1Off, http: world.http).credentials() }
        await #expect(throws: CredentialsError.self) {
            try await InstanceMetadataCredentialProvider(environment: ["AWS_EC2_METADATA_DISABLED": "true"], http: world.http).credentials()
        }
    }

    @Test("a profile's role: sts.AssumeRole through the engine, signed with the source profile's keys, every parameter sent")
    func assumeRoleProfile() async throws {
        let world = try await CredentialWorld { request, _ in
            let body = request.bodyText
            guard body.contains("Action=AssumeRole&"), let auth = request.header("Authorization"),
                  auth.contains("Credential=AKIDBASE/"), auth.contains("/us-west-2/sts/aws4_request")
            else { return .respond(status: 403, headers: [], body: "<ErrorResponse><Error><Code>AccessDenied</Code><Message>no</Message></Error></ErrorResponse>") }
            return .respond(status: 200, headers: [("Content-Type", "text/xml")], body: stsAnswer("AssumeRole", id: "ASIAROLE"))
        }
        defer { Task { await world.stop() } }
        let config = try world.write("config", """
            [profile app]
            role_arn = arn:aws:iam::123456789012:role/app
            source_profile = base
            external_id = ext-1
            role_session_name = awsgw-test
            duration_seconds = 1800
            [profile base]
            region = us-west-2
            """)
        let credentials = try world.write("credentials", "[base]\naws_access_key_id = AKIDBASE\naws_secret_access_key = base-secret\n")
        let env = ["AWS_CONFIG_FILE": config, "AWS_SHARED_CREDENTIALS_FILE": credentials, "HOME": world.dir]
        let services = CredentialServices(caller: world.caller(), http: world.http, region: "us-west-2")
        let keys = try await ProfileCredentialProvider(profile: "app", environment: env, services: services).credentials()
        #expect(keys.accessKeyId == "ASIAROLE" && keys.sessionToken == "TOKEN-ASIAROLE" && keys.expiration != nil)
        let sent = try #require(world.fake.requests.last)
        #expect(sent.method == "POST" && sent.uri == "/")
        #expect(sent.bodyText == "Action=AssumeRole&Version=2011-06-15&RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Fapp"
            + "&RoleSessionName=awsgw-test&ExternalId=ext-1&DurationSeconds=1800")
        #expect(sent.header("X-Amz-Security-Token") == nil)
        #expect(hasValidSignature(sent, Credentials(accessKeyId: "AKIDBASE", secretAccessKey: "base-secret")))
        #expect(!hasValidSignature(sent, Credentials(accessKeyId: "AKIDBASE", secretAccessKey: "another-secret")))

        // The default chain finds the same role for AWS_PROFILE.
        var chainEnv = env
        chainEnv["AWS_PROFILE"] = "app"
        chainEnv["AWS_EC2_METADATA_DISABLED"] = "true"
        #expect(try await ChainCredentialProvider.sdkDefault(environment: chainEnv, services: services).credentials().accessKeyId == "ASIAROLE")
    }

    @Test("profile problems name the profile: a cycle, a missing source_profile, a bad ARN, mfa_serial, both sources")
    func profileProblems() async throws {
        let world = try await CredentialWorld { _, _ in .respond(status: 500, headers: [], body: "") }
        defer { Task { await world.stop() } }
        let config = try world.write("config", """
            [profile a]
            role_arn = arn:aws:iam::123456789012:role/a
            source_profile = b
            [profile b]
            role_arn = arn:aws:iam::123456789012:role/b
            source_profile = a
            [profile lost]
            role_arn = arn:aws:iam::123456789012:role/lost
            source_profile = nowhere
            [profile badarn]
            role_arn = arn:aws:iam::12345:role/x
            source_profile = a
            [profile mfa]
            role_arn = arn:aws:iam::123456789012:role/m
            source_profile = a
            mfa_serial = arn:aws:iam::123456789012:mfa/me
            [profile both]
            role_arn = arn:aws:iam::123456789012:role/m
            source_profile = a
            credential_source = Environment
            [profile weird]
            role_arn = arn:aws:iam::123456789012:role/m
            credential_source = Somewhere
            """)
        let env = ["AWS_CONFIG_FILE": config, "AWS_SHARED_CREDENTIALS_FILE": world.dir + "/none", "HOME": world.dir]
        let services = CredentialServices(caller: world.caller(), http: world.http, region: "us-east-1")
        let expected = ["a": "cycle: a → b → a", "lost": "source_profile nowhere does not exist", "badarn": "not an IAM role ARN",
                        "mfa": "cannot prompt", "both": "both source_profile and credential_source", "weird": "credential_source Somewhere"]
        for (profile, reason) in expected {
            do {
                _ = try await ProfileCredentialProvider(profile: profile, environment: env, services: services).credentials()
                Issue.record("profile \(profile) yielded credentials")
            } catch {
                #expect(error.source.hasPrefix("profile "), "\(error)")
                #expect(error.reason.contains(reason), "\(profile): \(error.reason)")
            }
        }
        #expect(world.fake.requests.isEmpty)
    }

    @Test("web identity: AssumeRoleWithWebIdentity unsigned, the rotated token file read again on refresh")
    func webIdentity() async throws {
        let world = try await CredentialWorld { request, _ in
            guard request.header("Authorization") == nil, request.bodyText.contains("Action=AssumeRoleWithWebIdentity&") else {
                return .respond(status: 400, headers: [], body: "")
            }
            let token = request.bodyText.components(separatedBy: "WebIdentityToken=").last ?? ""
            return .respond(status: 200, headers: [], body: stsAnswer("AssumeRoleWithWebIdentity", id: "ASIA" + token.uppercased()))
        }
        defer { Task { await world.stop() } }
        let tokenFile = try world.write("token", "token-one")
        let env = ["AWS_WEB_IDENTITY_TOKEN_FILE": tokenFile, "AWS_ROLE_ARN": "arn:aws:iam::123456789012:role/irsa", "AWS_ROLE_SESSION_NAME": "pod",
                   "AWS_CONFIG_FILE": world.dir + "/none", "AWS_SHARED_CREDENTIALS_FILE": world.dir + "/none", "AWS_EC2_METADATA_DISABLED": "true"]
        let services = CredentialServices(caller: world.caller(), http: world.http, region: "eu-west-1")
        let chain = ChainCredentialProvider.sdkDefault(environment: env, services: services)
        #expect(try await chain.credentials().accessKeyId == "ASIATOKEN-ONE")
        _ = try world.write("token", "token-two")
        #expect(try await chain.credentials().accessKeyId == "ASIATOKEN-TWO")
        try FileManager.default.removeItem(atPath: tokenFile)
        do {
            _ = try await WebIdentityCredentialProvider(roleArn: "arn:aws:iam::123456789012:role/irsa", tokenFile: tokenFile, sessionName: nil,
                                                        caller: world.caller(), region: nil, sourceName: "web_identity irsa").credentials()
            Issue.record("no token file, yet credentials")
        } catch {
            #expect(error.source == "web_identity irsa" && error.reason == "cannot read the web identity token file \(tokenFile)")
        }
        #expect(world.fake.requests.first?.bodyText.hasPrefix(
            "Action=AssumeRoleWithWebIdentity&Version=2011-06-15&RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Firsa&RoleSessionName=pod&WebIdentityToken=") == true)
    }

    @Test("SSO: the cached token (file named by the SHA-1 of the session name or start URL) exchanged by sso.GetRoleCredentials; expired says to log in")
    func sso() async throws {
        let world = try await CredentialWorld { request, _ in
            if request.method == "POST", request.uri == "/token" {
                guard request.header("Authorization") == nil,
                      request.bodyText == #"{"grantType": "refresh_token", "clientId": "cid", "clientSecret": "csecret", "refreshToken": "r1"}"#
                else { return .respond(status: 400, headers: [], body: #"{"error":"invalid_request"}"#) }
                return .respond(status: 200, headers: [], body: #"{"accessToken":"tok-refreshed","expiresIn":3600,"refreshToken":"r2","tokenType":"Bearer"}"#)
            }
            guard request.method == "GET", request.uri == "/federation/credentials?role_name=ReadOnly&account_id=111122223333",
                  request.header("Authorization") == nil, let token = request.header("x-amz-sso_bearer_token")
            else { return .respond(status: 401, headers: [], body: "{\"message\":\"\(request.uri)\"}") }
            return .respond(status: 200, headers: [("Content-Type", "application/json")], body: """
                {"roleCredentials":{"accessKeyId":"ASIASSO-\(token)","secretAccessKey":"S","sessionToken":"T","expiration":\(Int(Date().timeIntervalSince1970 + 3600) * 1000)}}
                """)
        }
        defer { Task { await world.stop() } }
        let config = try world.write("config", """
            [profile dev]
            sso_session = my-sso
            sso_account_id = 111122223333
            sso_role_name = ReadOnly
            [sso-session my-sso]
            sso_start_url = https://example.awsapps.com/start
            sso_region = eu-central-1
            [profile old]
            sso_start_url = https://legacy.awsapps.com/start
            sso_region = eu-central-1
            sso_account_id = 111122223333
            sso_role_name = ReadOnly
            [profile partial]
            sso_account_id = 111122223333
            [profile soon]
            sso_session = refreshing
            sso_account_id = 111122223333
            sso_role_name = ReadOnly
            [sso-session refreshing]
            sso_start_url = https://example.awsapps.com/start
            sso_region = eu-central-1
            """)
        try FileManager.default.createDirectory(atPath: world.dir + "/.aws/sso/cache", withIntermediateDirectories: true)
        _ = try world.write(".aws/sso/cache/0ad374308c5a4e22f723adf10145eafad7c4031c.json", #"{"accessToken":"tok-new","expiresAt":"\#(inAnHour)"}"#)
        _ = try world.write(".aws/sso/cache/79e435d7a515078e81c9dffc35f38d5687ebd3a7.json", #"{"accessToken":"tok-old","expiresAt":"2020-01-01T00:00:00Z"}"#)
        let env = ["AWS_CONFIG_FILE": config, "AWS_SHARED_CREDENTIALS_FILE": world.dir + "/none", "HOME": world.dir,
                   "AWS_ENDPOINT_URL_SSO": world.fake.url, "AWS_ENDPOINT_URL_SSO_OIDC": world.fake.url]
        let services = CredentialServices(caller: AWSCaller(engine: AWSEngine(models: sharedModels, environment: env),
                                                            transport: world.transport, sleep: { _ in }), http: world.http)
        let keys = try await ProfileCredentialProvider(profile: "dev", environment: env, services: services).credentials()
        #expect(keys.accessKeyId == "ASIASSO-tok-new" && keys.sessionToken == "T" && keys.expiration != nil)
        // A token 5 minutes from expiry is refreshed with sso-oidc.CreateToken and written back.
        let inFiveMinutes = ISO8601DateFormatter().string(from: Date().addingTimeInterval(300))
        let soonCache = try world.write(".aws/sso/cache/6e9c6c40ef0a45f4d3b4cc4388e960f984132cfc.json", #"""
            {"accessToken":"tok-old","expiresAt":"\#(inFiveMinutes)","refreshToken":"r1","clientId":"cid","clientSecret":"csecret","registrationExpiresAt":"\#(inAnHour)"}
            """#)
        #expect(try await ProfileCredentialProvider(profile: "soon", environment: env, services: services).credentials().accessKeyId == "ASIASSO-tok-refreshed")
        let rewritten = try JSON.parse(Array(try Data(contentsOf: URL(fileURLWithPath: soonCache))))
        #expect(rewritten["accessToken"] == "tok-refreshed" && rewritten["refreshToken"] == "r2" && rewritten["clientSecret"] == "csecret")
        #expect((try FileManager.default.attributesOfItem(atPath: soonCache)[.posixPermissions] as? Int) == 0o600)
        for (profile, reason) in [("old", "the SSO token has expired; run `aws sso login --profile old`"), ("partial", "lacks sso_start_url, sso_region, sso_role_name")] {
            do {
                _ = try await ProfileCredentialProvider(profile: profile, environment: env, services: services).credentials()
                Issue.record("\(profile) yielded credentials")
            } catch {
                #expect(error.reason.contains(reason), "\(error.reason)")
            }
        }
    }

    @Test("credential_process: the command split as a shell would, Version 1 JSON; bad output, exit status and versions refused without echoing")
    func process() async throws {
        let world = try await CredentialWorld { _, _ in .respond(status: 500, headers: [], body: "") }
        defer { Task { await world.stop() } }
        let script = try world.write("creds.sh", """
            #!/bin/sh
            case "$1" in
              good) printf '{"Version": 1, "AccessKeyId": "AKIDPROC", "SecretAccessKey": "%s", "SessionToken": "T", "Expiration": "\(inAnHour)"}' "$2" ;;
              garbage) echo 'SECRET-LOOKING-GARBAGE' ;;
              v2) echo '{"Version": 2, "AccessKeyId": "a", "SecretAccessKey": "b"}' ;;
              fail) echo 'secret on stderr' >&2; exit 3 ;;
            esac
            """, mode: 0o700)
        let good = try await ProcessCredentialProvider(command: "\(script) good 'two words'", sourceName: "process").credentials()
        #expect(good.accessKeyId == "AKIDPROC" && good.secretAccessKey == "two words" && good.sessionToken == "T" && good.expiration != nil)
        for (argument, reason) in [("garbage", "did not print a JSON object"), ("v2", "unsupported version 2"), ("fail", "exited with status 3")] {
            do {
                _ = try await ProcessCredentialProvider(command: "\(script) \(argument)", sourceName: "process").credentials()
                Issue.record("\(argument) yielded credentials")
            } catch {
                #expect(error.reason.contains(reason), "\(error.reason)")
                #expect(!error.description.contains("SECRET") && !error.description.contains("secret on stderr"))
            }
        }
        #expect(ShellWords.split(#"a "b c" 'd e' f\ g "h\"i""#) == ["a", "b c", "d e", "f g", "h\"i"])
        #expect(ShellWords.split("unclosed 'quote") == nil)
    }
}

@Suite("Credential sources from the config file, through the pipeline")
struct ConfiguredCredentialTests {
    static let yaml = """
        credentials:
          default: { source: static, access_key_id: AKIDBASE, secret_access_key_env: BASE_SECRET }
          apps:    { source: assume_role, role_arn: "arn:aws:iam::123456789012:role/apps", source_credentials: default,
                     external_id: x1, session_name: awsgw-apps, duration: 1h }
        teams:
          apps: { members: [any], credentials: apps, allow: ["*:*"] }
        """

    @Test("a team's assume_role source: STS asked once with the base keys, the call signed with the role's keys and session token")
    func assumeRoleThroughPipeline() async throws {
        let world = try await CredentialWorld { request, _ in
            if request.bodyText.hasPrefix("Action=AssumeRole&") {
                return .respond(status: 200, headers: [], body: stsAnswer("AssumeRole", id: "ASIAAPPS"))
            }
            return FakeAWS.okAssociate(request, 1)
        }
        defer { Task { await world.stop() } }
        let environment = ["BASE_SECRET": "base-secret-value", "AWS_ENDPOINT_URL": world.fake.url]
        let config = try GatewayConfig.parse(Self.yaml, environment: environment)
        let engine = AWSEngine(models: sharedModels, environment: environment)
        let services = CredentialServices(caller: AWSCaller(engine: engine, transport: world.transport, sleep: { _ in }),
                                          http: world.http, region: "us-east-1")
        var dependencies = GatewayDependencies(engine: engine, transport: world.transport,
                                               credentialSources: config.credentialProviders(environment: environment, services: services))
        dependencies.policy = config.policy
        dependencies.defaultRegion = "us-east-1"
        let gateway = Gateway(dependencies)
        for _ in 0..<3 {
            let outcome = await gateway.perform(GatewayCall(method: "networkmanager.AssociateConnectPeer", params: associateParams.objectValue!),
                                                context: CallContext(listener: "test"))
            guard case .success = outcome else { Issue.record("\(outcome)"); return }
        }
        let requests = world.fake.requests
        let sts = requests.filter { $0.bodyText.hasPrefix("Action=AssumeRole&") }
        #expect(sts.count == 1, "the role's keys are kept, not fetched per call")
        #expect(sts.first?.bodyText == "Action=AssumeRole&Version=2011-06-15&RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Fapps"
            + "&RoleSessionName=awsgw-apps&ExternalId=x1&DurationSeconds=3600")
        #expect(sts.first?.header("Authorization")?.contains("Credential=AKIDBASE/") == true)
        let calls = requests.filter { !$0.bodyText.hasPrefix("Action=") }
        #expect(calls.count == 3)
        for call in calls {
            #expect(call.header("Authorization")?.contains("Credential=ASIAAPPS/") == true)
            #expect(call.header("X-Amz-Security-Token") == "TOKEN-ASIAAPPS")
            #expect(hasValidSignature(call, Credentials(accessKeyId: "ASIAAPPS", secretAccessKey: "SECRET-ASIAAPPS", sessionToken: "TOKEN-ASIAAPPS")))
        }
        #expect(sts.first.map { hasValidSignature($0, Credentials(accessKeyId: "AKIDBASE", secretAccessKey: "base-secret-value")) } == true)
        let metrics = String(decoding: gateway.metricsText(), as: UTF8.self)
        #expect(metrics.contains("awsgw_credential_refreshes_total{source=\"apps\"} 1\n"), "\(metrics)")
        #expect(metrics.contains("awsgw_credential_refresh_failures_total{source=\"apps\"} 0\n"))
        #expect(metrics.contains("awsgw_credential_expiry_seconds{source=\"apps\"} 35"), "about an hour left")
        #expect(!metrics.contains("source=\"default\""), "static keys are not refreshed")
    }

    @Test("config check: bad role ARNs, unknown and cyclic source_credentials, empty commands, each at its path")
    func configProblems() throws {
        let yaml = """
            credentials:
              default: { source: chain }
              a: { source: assume_role, role_arn: "arn:aws:iam::123456789012:role/a", source_credentials: b }
              b: { source: assume_role, role_arn: "arn:aws:iam::123456789012:role/b", source_credentials: a }
              c: { source: assume_role, role_arn: "arn:aws:iam::123456789012:role/c", source_credentials: nowhere }
              d: { source: assume_role, role_arn: "not-an-arn", source_credentials: default }
              e: { source: web_identity, role_arn: "arn:aws:iam::123456789012:role/e" }
              f: { source: process, command: "  " }
              g: { source: assume_role, role_arn: "arn:aws:iam::123456789012:role/g", source_credentials: default, duration: 5m }
            """
        do {
            _ = try GatewayConfig.parse(yaml)
            Issue.record("accepted")
        } catch {
            let text = "\(error)"
            for expected in ["credentials.a.source_credentials: a cycle: a → b → a", "credentials.b.source_credentials: a cycle: b → a → b",
                             "credentials.c.source_credentials: no credential source named nowhere", "credentials.d.role_arn: not-an-arn is not an IAM role ARN",
                             "credentials.e.token_file", "credentials.f.command", "credentials.g.duration: STS allows 15m to 12h"] {
                #expect(text.contains(expected), "\(expected) not in \(text)")
            }
        }
    }
}

@Suite("awsgw credentials check")
struct CredentialsCheckCommandTests {
    @Test("each source: its kind and expiry and the identity STS reports, never a key; a failing source exits 1 naming its cause")
    func check() async throws {
        let world = try await CredentialWorld { request, _ in
            if request.bodyText.hasPrefix("Action=AssumeRole&") {
                return .respond(status: 200, headers: [], body: stsAnswer("AssumeRole", id: "ASIAAPPS"))
            }
            guard request.bodyText == "Action=GetCallerIdentity&Version=2011-06-15" else { return .respond(status: 400, headers: [], body: "") }
            let user = request.header("Authorization")?.contains("Credential=ASIAAPPS/") == true ? "assumed-role/apps/awsgw" : "user/base"
            return .respond(status: 200, headers: [], body: """
                <GetCallerIdentityResponse><GetCallerIdentityResult><Arn>arn:aws:iam::123456789012:\(user)</Arn>\
                <UserId>U</UserId><Account>123456789012</Account></GetCallerIdentityResult></GetCallerIdentityResponse>
                """)
        }
        defer { Task { await world.stop() } }
        let config = try world.write("awsgw.yaml", """
            credentials:
              default: { source: static, access_key_id: AKIDBASE, secret_access_key_env: BASE_SECRET }
              apps: { source: assume_role, role_arn: "arn:aws:iam::123456789012:role/apps", source_credentials: default }
              broken: { source: process, command: "/bin/false" }
            """)
        let environment = ["PATH": "/usr/bin:/bin", "HOME": world.dir, "AWSGW_MODELS": Fixtures.modelsDir, "BASE_SECRET": "base-secret-value",
                           "AWS_ENDPOINT_URL_STS": world.fake.url, "AWS_REGION": "us-east-1"]
        let (status, out, err) = try await runProcess(["credentials", "check", "--config", config], environment: environment)
        #expect(status == 1, "broken makes it fail")
        #expect(out.contains("apps (assume_role arn:aws:iam::123456789012:role/apps): temporary keys until "))
        #expect(out.contains("AWS says: arn:aws:iam::123456789012:assumed-role/apps/awsgw (account 123456789012)"))
        #expect(out.contains("default (static keys (secret from $BASE_SECRET)): long-lived keys; AWS says: arn:aws:iam::123456789012:user/base"))
        #expect(err.contains("broken (process (credentials.broken)): no credentials: the process exited with status 1"))
        for secret in ["base-secret-value", "SECRET-ASIAAPPS", "TOKEN-ASIAAPPS", "AKIDBASE", "ASIAAPPS"] {
            #expect(!out.contains(secret) && !err.contains(secret), "\(secret) printed")
        }
        let (one, onlyApps, _) = try await runProcess(["credentials", "check", "--config", config, "apps"], environment: environment)
        #expect(one == 0 && onlyApps.hasPrefix("apps ") && !onlyApps.contains("default ("))
    }
}
