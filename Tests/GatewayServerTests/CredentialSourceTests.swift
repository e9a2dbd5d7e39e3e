import AWSClient
import AWSCredentials
import AWSJSON
import AWSSigning
import Foundation
import GatewayCore
import GatewayServer
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

    /// STS through the engine, at the fake (`AWS_ENDPOINT_URL_STS`), without real backoff waits.
    func caller() -> EngineCredentialCaller {
        EngineCredentialCaller(builder: AWSEngine(models: sharedModels, environment: ["AWS_ENDPOINT_URL_STS": fake.url]), transport: transport,
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
        #expect(world.fake.requests.first?.bodyText.hasPrefix(
            "Action=AssumeRoleWithWebIdentity&Version=2011-06-15&RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Firsa&RoleSessionName=pod&WebIdentityToken=") == true)
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
