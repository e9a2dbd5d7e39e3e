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

    @Test("the default chain names each of its sources once: the profile's role and its other kinds apart")
    func chainNames() {
        let name = ChainCredentialProvider.sdkDefault(environment: ["AWS_PROFILE": "dev"]).sourceName
        #expect(name.contains("profile dev's role, ") && name.contains("profile dev's keys, SSO or process, "), "\(name)")
        #expect(name.components(separatedBy: "profile dev").count == 3, "\(name)")
    }

    @Test("a static source gives its keys")
    func staticSource() async throws {
        let creds = try await StaticCredentialProvider(Credentials(accessKeyId: "A", secretAccessKey: "S")).credentials()
        #expect(creds.accessKeyId == "A")
    }
}

/// A source that counts its fetches, answers after a pause, and fails while told to.
final class CountingSource: CredentialProvider, @unchecked Sendable {
    private let lock = NSLock()
    private var fetches = 0
    private var failing = false
    let lifetime: TimeInterval
    let clock: TestClock
    let pauseNanoseconds: UInt64
    var sourceName: String { "counting" }

    init(lifetime: TimeInterval, clock: TestClock, pauseNanoseconds: UInt64 = 0) {
        self.lifetime = lifetime
        self.clock = clock
        self.pauseNanoseconds = pauseNanoseconds
    }

    var count: Int { lock.withLock { fetches } }
    func setFailing(_ value: Bool) { lock.withLock { failing = value } }

    func credentials() async throws(CredentialsError) -> Credentials {
        if pauseNanoseconds > 0 { try? await Task.sleep(nanoseconds: pauseNanoseconds) }
        let (n, fail) = lock.withLock { () -> (Int, Bool) in
            fetches += 1
            return (fetches, failing)
        }
        if fail { throw CredentialsError(source: sourceName, reason: "the service is down") }
        return Credentials(accessKeyId: "ASIA\(n)", secretAccessKey: "s\(n)", sessionToken: "t\(n)", expiration: clock.now.addingTimeInterval(lifetime))
    }
}

final class TestClock: @unchecked Sendable {
    private let lock = NSLock()
    private var time = Date(timeIntervalSince1970: 1_800_000_000)
    var now: Date { lock.withLock { time } }
    func advance(_ seconds: TimeInterval) { lock.withLock { time = time.addingTimeInterval(seconds) } }
}

@Suite("Refreshing temporary credentials")
struct RefreshingCredentialTests {
    /// Lets a background refresh finish.
    static func settle() async { for _ in 0..<50 { await Task.yield(); try? await Task.sleep(nanoseconds: 1_000_000) } }

    @Test("kept until the refresh window, then refreshed beside the calls, which keep the current keys meanwhile")
    func refreshAhead() async throws {
        let clock = TestClock()
        let source = CountingSource(lifetime: 3600, clock: clock)
        let provider = RefreshingCredentialProvider(source, now: { clock.now })
        #expect(try await provider.credentials().accessKeyId == "ASIA1")
        clock.advance(3600 - 16 * 60)
        #expect(try await provider.credentials().accessKeyId == "ASIA1")
        #expect(source.count == 1)
        clock.advance(2 * 60)  // 14 minutes left: in the advisory window
        #expect(try await provider.credentials().accessKeyId == "ASIA1", "a call does not wait while its keys are valid")
        await Self.settle()
        #expect(source.count == 2)
        #expect(try await provider.credentials().accessKeyId == "ASIA2")
        #expect(provider.currentStatus.refreshes == 2)
    }

    @Test("a failed refresh keeps valid keys, is tried again after a backoff, and only expiry makes calls fail (-32012's cause)")
    func failureKeepsValidKeys() async throws {
        let clock = TestClock()
        let source = CountingSource(lifetime: 3600, clock: clock)
        let provider = RefreshingCredentialProvider(source, now: { clock.now })
        _ = try await provider.credentials()
        source.setFailing(true)
        clock.advance(3600 - 10 * 60)
        #expect(try await provider.credentials().accessKeyId == "ASIA1")
        await Self.settle()
        #expect(source.count == 2 && provider.currentStatus.failures == 1)
        // Within the backoff no new attempt is made.
        #expect(try await provider.credentials().accessKeyId == "ASIA1")
        await Self.settle()
        #expect(source.count == 2)
        clock.advance(2)
        _ = try await provider.credentials()
        await Self.settle()
        #expect(source.count == 3, "tried again after the backoff")
        clock.advance(10 * 60)  // expired now
        do {
            _ = try await provider.credentials()
            Issue.record("expired keys were used")
        } catch {
            #expect(error.reason == "the service is down")
        }
        source.setFailing(false)
        clock.advance(600)
        #expect(try await provider.credentials().accessKeyId.hasPrefix("ASIA"))
    }

    @Test("100 calls at expiry make one refresh")
    func singleFlight() async throws {
        let clock = TestClock()
        let source = CountingSource(lifetime: 3600, clock: clock, pauseNanoseconds: 50_000_000)
        let provider = RefreshingCredentialProvider(source, now: { clock.now })
        _ = try await provider.credentials()
        clock.advance(3600)
        let ids = try await withThrowingTaskGroup(of: String.self) { group in
            for _ in 0..<100 { group.addTask { try await provider.credentials().accessKeyId } }
            var all: [String] = []
            for try await id in group { all.append(id) }
            return all
        }
        #expect(Set(ids) == ["ASIA2"])
        #expect(source.count == 2)
    }

    @Test("credentials handed over already expired are refused, not used")
    func expiredOnArrival() async throws {
        let clock = TestClock()
        let provider = RefreshingCredentialProvider(CountingSource(lifetime: 30, clock: clock), now: { clock.now })
        await #expect(throws: CredentialsError.self) { try await provider.credentials() }
    }
}

@Suite("boto2-era files in the default chain")
struct LegacyFileTests {
    @Test("AWS_CREDENTIAL_FILE (EC2 tools' format) and BOTO_CONFIG's [Credentials], after the profile and before containers")
    func legacyFiles() async throws {
        let files = try SharedFiles(config: "", credentials: "")
        defer { files.remove() }
        try Data("AWSAccessKeyId = AKIDEC2\nAWSSecretKey=secret-ec2\n".utf8).write(to: URL(fileURLWithPath: files.dir + "/ec2.txt"))
        try Data("[Credentials]\naws_access_key_id = AKIDBOTO\naws_secret_access_key = secret-boto\n".utf8).write(to: URL(fileURLWithPath: files.dir + "/boto"))
        var env = files.environment
        env["BOTO_CONFIG"] = files.dir + "/boto"
        #expect(try await ChainCredentialProvider.sdkDefault(environment: env).credentials().accessKeyId == "AKIDBOTO")
        env["AWS_CREDENTIAL_FILE"] = files.dir + "/ec2.txt"
        let ec2 = try await ChainCredentialProvider.sdkDefault(environment: env).credentials()
        #expect(ec2.accessKeyId == "AKIDEC2" && ec2.secretAccessKey == "secret-ec2" && ec2.sessionToken == nil)
        try Data("[default]\naws_access_key_id = AKIDPROFILE\naws_secret_access_key = s\n".utf8).write(to: URL(fileURLWithPath: files.dir + "/credentials"))
        #expect(try await ChainCredentialProvider.sdkDefault(environment: env).credentials().accessKeyId == "AKIDPROFILE")
    }
}
