import AWSCredentials
import AWSSigning
import Foundation
import Testing

/// A private folder with `config` and `credentials` files, removed afterwards.
struct SharedFiles {
    let dir: String
    init(config: String, credentials: String) throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("awsgw-creds-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try Data(config.utf8).write(to: URL(fileURLWithPath: dir + "/config"))
        try Data(credentials.utf8).write(to: URL(fileURLWithPath: dir + "/credentials"))
    }
    var environment: [String: String] { ["AWS_CONFIG_FILE": dir + "/config", "AWS_SHARED_CREDENTIALS_FILE": dir + "/credentials", "HOME": dir] }
    func remove() { try? FileManager.default.removeItem(atPath: dir) }
}

@Suite("Credentials")
struct CredentialProviderTests {
    @Test("environment variables, with and without a session token")
    func environment() async throws {
        let env = ["AWS_ACCESS_KEY_ID": "AKIDENV", "AWS_SECRET_ACCESS_KEY": "SECRETENV"]
        let plain = try await EnvironmentCredentialProvider(environment: env).credentials()
        #expect(plain.accessKeyId == "AKIDENV")
        #expect(plain.sessionToken == nil)
        var withToken = env
        withToken["AWS_SESSION_TOKEN"] = "TOKENENV"
        #expect(try await EnvironmentCredentialProvider(environment: withToken).credentials().sessionToken == "TOKENENV")
        await #expect(throws: CredentialsError.self) { try await EnvironmentCredentialProvider(environment: ["AWS_ACCESS_KEY_ID": "x"]).credentials() }
    }

    @Test("profiles from the shared files: [name] in credentials, [profile name] in config, credentials file wins")
    func profiles() async throws {
        let files = try SharedFiles(
            config: """
            [default]
            region = eu-west-1
            [profile netops]
            aws_access_key_id = AKIDCONFIG
            aws_secret_access_key = SECRETCONFIG
            region = us-west-2
            s3 =
              max_concurrent_requests = 10
            [profile cfgonly]
            aws_access_key_id=AKIDCFGONLY
            aws_secret_access_key=SECRETCFGONLY ; comment
            """,
            credentials: """
            # comment
            [default]
            aws_access_key_id = AKIDDEFAULT
            aws_secret_access_key = SECRETDEFAULT
            [netops]
            aws_access_key_id = AKIDNETOPS
            aws_secret_access_key = SECRETNETOPS
            aws_session_token = TOKENNETOPS
            """)
        defer { files.remove() }
        let env = files.environment
        #expect(try await ProfileCredentialProvider(environment: env).credentials().accessKeyId == "AKIDDEFAULT")
        let netops = try await ProfileCredentialProvider(profile: "netops", environment: env).credentials()
        #expect(netops.accessKeyId == "AKIDNETOPS")
        #expect(netops.sessionToken == "TOKENNETOPS")
        var viaEnv = env
        viaEnv["AWS_PROFILE"] = "cfgonly"
        let cfgOnly = try await ProfileCredentialProvider(environment: viaEnv).credentials()
        #expect(cfgOnly.accessKeyId == "AKIDCFGONLY")
        #expect(cfgOnly.secretAccessKey == "SECRETCFGONLY")
        #expect(resolveRegion(environment: env) == "eu-west-1")
        #expect(resolveRegion(environment: viaEnv.merging(["AWS_PROFILE": "netops"]) { $1 }) == "us-west-2")
        #expect(resolveRegion(environment: env.merging(["AWS_DEFAULT_REGION": "ap-south-1"]) { $1 }) == "ap-south-1")
        #expect(resolveRegion(environment: env.merging(["AWS_DEFAULT_REGION": "ap-south-1", "AWS_REGION": "sa-east-1"]) { $1 }) == "sa-east-1")
    }

    @Test("the chain tries the environment first, then the files")
    func chain() async throws {
        let files = try SharedFiles(config: "", credentials: "[default]\naws_access_key_id = AKIDFILE\naws_secret_access_key = SECRETFILE\n")
        defer { files.remove() }
        var env = files.environment
        #expect(try await ChainCredentialProvider.sdkDefault(environment: env).credentials().accessKeyId == "AKIDFILE")
        env["AWS_ACCESS_KEY_ID"] = "AKIDENV"
        env["AWS_SECRET_ACCESS_KEY"] = "SECRETENV"
        #expect(try await ChainCredentialProvider.sdkDefault(environment: env).credentials().accessKeyId == "AKIDENV")
    }

    @Test("nothing found: the error names every source tried and no secret")
    func notFound() async throws {
        let files = try SharedFiles(config: "[profile other]\naws_secret_access_key = SHOULDNOTLEAK\n", credentials: "")
        defer { files.remove() }
        do {
            _ = try await ChainCredentialProvider.sdkDefault(environment: files.environment).credentials()
            Issue.record("expected an error")
        } catch {
            let text = error.description
            #expect(text.contains("environment"))
            #expect(text.contains("profile default"))
            #expect(text.contains(files.dir + "/credentials"))
            #expect(!text.contains("SHOULDNOTLEAK"))
        }
    }

    @Test("a static source gives its keys")
    func staticSource() async throws {
        let creds = try await StaticCredentialProvider(Credentials(accessKeyId: "A", secretAccessKey: "S")).credentials()
        #expect(creds.accessKeyId == "A")
    }
}
