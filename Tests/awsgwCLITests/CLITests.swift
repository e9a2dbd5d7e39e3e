import AWSJSON
import Foundation
import Testing
import TestSupport

/// Runs `awsgw` with arguments, environment and standard input; returns exit code and output.
struct CLIRun {
    let status: Int32
    let stdout: String
    let stderr: String

    static var binary: String { Fixtures.awsgwBinary }

    /// `directory`: the working directory (default: the test's).
    init(_ arguments: [String], environment: [String: String] = [:], stdin: String? = nil, directory: String? = nil) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: CLIRun.binary)
        process.arguments = arguments
        if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
        // A clean environment: no AWS settings leak in from the machine.
        var env = ["PATH": "/usr/bin:/bin", "HOME": "/nonexistent-home", "AWSGW_MODELS": Fixtures.modelsDir]
        for (key, value) in environment { env[key] = value }
        process.environment = env
        let out = Pipe(), err = Pipe(), input = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = input
        try process.run()
        if let stdin { input.fileHandleForWriting.write(Data(stdin.utf8)) }
        try input.fileHandleForWriting.close()
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        let errData = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        status = process.terminationStatus
        stdout = String(decoding: outData, as: UTF8.self)
        stderr = String(decoding: errData, as: UTF8.self)
    }
}

let exampleEnvironment = ["AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"]

@Suite("awsgw command line")
struct CLITests {
    @Test("call --dry-run prints the signed request")
    func dryRun() throws {
        let run = try CLIRun(["call", "--dry-run", "networkmanager.AssociateConnectPeer",
                              #"{"GlobalNetworkId":"global-network-0123","ConnectPeerId":"connect-peer-0123","DeviceId":"device-0123"}"#,
                              "--region", "eu-west-1"], environment: exampleEnvironment.merging(["AWS_REGION": "ap-south-1"]) { $1 })
        #expect(run.status == 0, "\(run.stderr)")
        let output = try JSON.parse(run.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
        #expect(output["method"] == "POST")
        #expect(output["url"] == "https://networkmanager.us-west-2.amazonaws.com/global-networks/global-network-0123/connect-peer-associations")
        #expect(output["body"] == #"{"ConnectPeerId": "connect-peer-0123", "DeviceId": "device-0123"}"#)
        #expect(output["headers"]?["Content-Type"] == "application/json")
        #expect(output["headers"]?["Content-Length"] == "65")
        let authorization = try #require(output["headers"]?["Authorization"]?.stringValue)
        #expect(authorization.contains("/us-west-2/networkmanager/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature="))
        #expect(!run.stdout.contains("wJalrXUtnFEMI"))
    }

    @Test("presign prints a SigV4 presigned URL; bad expiries and missing regions are refused")
    func presign() throws {
        let run = try CLIRun(["presign", "s3.PutObject", #"{"Bucket":"team-data","Key":"up/a b.bin","ContentType":"text/plain"}"#,
                              "--expires", "900", "--region", "eu-west-1"], environment: exampleEnvironment)
        #expect(run.status == 0, "\(run.stderr)")
        let output = try JSON.parse(run.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
        let url = try #require(output["url"]?.stringValue)
        #expect(url.hasPrefix("https://team-data.s3.amazonaws.com/up/a%20b.bin?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential="))
        #expect(url.contains("&X-Amz-Expires=900&X-Amz-SignedHeaders=content-type%3Bhost&X-Amz-Signature="))
        #expect(output["method"] == "PUT" && output["headers"]?["Content-Type"] == "text/plain")
        #expect(!run.stdout.contains("wJalrXUtnFEMI"))

        let tooLong = try CLIRun(["presign", "s3.GetObject", #"{"Bucket":"b1","Key":"k"}"#, "--expires", "604801", "--region", "us-east-1"],
                                 environment: exampleEnvironment)
        #expect(tooLong.status == 2 && tooLong.stderr.contains("604800"))
        let noRegion = try CLIRun(["presign", "s3.GetObject", #"{"Bucket":"b1","Key":"k"}"#],
                                  environment: exampleEnvironment.merging(["HOME": "/nonexistent-awsgw-home"]) { $1 })
        #expect(noRegion.status == 1 && noRegion.stderr.contains("no region"))
    }

    @Test("--region wins over the environment, which is used otherwise")
    func regionPrecedence() throws {
        let params = #"{"Identifier":"nc-1"}"#
        let flag = try CLIRun(["call", "--dry-run", "lambda-core.GetNetworkConnector", params, "--region", "eu-west-1"],
                              environment: exampleEnvironment.merging(["AWS_REGION": "ap-south-1"]) { $1 })
        #expect(flag.stdout.contains("https://lambda.eu-west-1.amazonaws.com/"))
        let env = try CLIRun(["call", "--dry-run", "lambda-core.GetNetworkConnector", params],
                             environment: exampleEnvironment.merging(["AWS_REGION": "ap-south-1", "AWS_DEFAULT_REGION": "us-east-2"]) { $1 })
        #expect(env.stdout.contains("https://lambda.ap-south-1.amazonaws.com/"))
    }

    @Test("params from a file and from standard input")
    func paramsSources() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("awsgw-params-\(UUID().uuidString).json")
        try Data(#"{"Identifier":"from-file"}"#.utf8).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let fromFile = try CLIRun(["call", "--dry-run", "lambda-core.GetNetworkConnector", "@" + file.path, "--region", "us-east-1"], environment: exampleEnvironment)
        #expect(fromFile.stdout.contains("/network-connectors/from-file"))
        let fromStdin = try CLIRun(["call", "--dry-run", "lambda-core.GetNetworkConnector", "-", "--region", "us-east-1"],
                                   environment: exampleEnvironment, stdin: #"{"Identifier":"from-stdin"}"#)
        #expect(fromStdin.stdout.contains("/network-connectors/from-stdin"))
    }

    @Test("errors: JSON-RPC error object on stderr and exit 1; usage errors exit 2")
    func errors() throws {
        let unknown = try CLIRun(["call", "--dry-run", "networkmanager.AssociateConectPeer", "{}", "--region", "us-east-1"], environment: exampleEnvironment)
        #expect(unknown.status == 1)
        #expect(try JSON.parse(unknown.stderr.trimmingCharacters(in: .whitespacesAndNewlines))["code"] == -32601)

        let invalid = try CLIRun(["call", "--dry-run", "networkmanager.AssociateConnectPeer", #"{"DeviceId": 5}"#, "--region", "us-east-1"], environment: exampleEnvironment)
        #expect(invalid.status == 1)
        let invalidError = try JSON.parse(invalid.stderr.trimmingCharacters(in: .whitespacesAndNewlines))
        #expect(invalidError["code"] == -32602)
        #expect(invalidError["data"]?["errors"]?.arrayValue?.contains { $0["path"] == "$.GlobalNetworkId" } == true)

        // Without credentials a dry run still shows the request, unsigned, and says so.
        let noCredentials = try CLIRun(["call", "--dry-run", "lambda-core.GetNetworkConnector", #"{"Identifier":"x"}"#, "--region", "us-east-1"],
                                       environment: ["AWS_SECRET_ACCESS_KEY": "ONLYTHESECRET", "HOME": "/nonexistent"])
        #expect(noCredentials.status == 0)
        #expect(noCredentials.stderr.contains("unsigned"))
        let unsigned = try JSON.parse(noCredentials.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
        #expect(unsigned["headers"]?["Authorization"] == nil && unsigned["url"] != nil)
        #expect(!noCredentials.stderr.contains("ONLYTHESECRET") && !noCredentials.stdout.contains("ONLYTHESECRET"))

        // A value no timestamp can hold is a -32602 with its path, not a crash.
        let hugeTime = try CLIRun(["call", "--dry-run", "iot.ListAuditFindings", #"{"startTime":1e19}"#, "--region", "us-east-1"],
                                  environment: exampleEnvironment)
        #expect(hugeTime.status == 1)
        let hugeTimeError = try JSON.parse(hugeTime.stderr.trimmingCharacters(in: .whitespacesAndNewlines))
        #expect(hugeTimeError["code"] == -32602)
        #expect(hugeTimeError["data"]?["errors"]?.arrayValue?.first?["path"] == "$.startTime")

        // The session token is masked unless asked for.
        var withToken = exampleEnvironment
        withToken["AWS_SESSION_TOKEN"] = "SESSIONTOKEN-DO-NOT-PRINT"
        let masked = try CLIRun(["call", "--dry-run", "lambda-core.GetNetworkConnector", #"{"Identifier":"x"}"#, "--region", "us-east-1"],
                                environment: withToken)
        #expect(masked.status == 0)
        #expect(!masked.stdout.contains("SESSIONTOKEN-DO-NOT-PRINT") && !masked.stderr.contains("SESSIONTOKEN-DO-NOT-PRINT"))
        #expect(try JSON.parse(masked.stdout)["headers"]?["X-Amz-Security-Token"] == "(masked: 25 characters; --show-secrets prints it)")
        let shown = try CLIRun(["call", "--dry-run", "--show-secrets", "lambda-core.GetNetworkConnector", #"{"Identifier":"x"}"#,
                                "--region", "us-east-1"], environment: withToken)
        #expect(try JSON.parse(shown.stdout)["headers"]?["X-Amz-Security-Token"] == "SESSIONTOKEN-DO-NOT-PRINT")

        let noEndpoint = try CLIRun(["call", "--dry-run", "lambda-core.GetNetworkConnector", #"{"Identifier":"x"}"#], environment: exampleEnvironment)
        #expect(noEndpoint.status == 1)

        let badJSON = try CLIRun(["call", "--dry-run", "lambda-core.GetNetworkConnector", "{not json"], environment: exampleEnvironment)
        #expect(badJSON.status == 2)
        let notObject = try CLIRun(["call", "--dry-run", "lambda-core.GetNetworkConnector", "[1]"], environment: exampleEnvironment)
        #expect(notObject.status == 2)
        let noMethod = try CLIRun(["call"])
        #expect(noMethod.status == 2)
    }

    @Test("--version names the pinned botocore release, the same one scripts/setup.sh fetches")
    func version() throws {
        let run = try CLIRun(["--version"])
        #expect(run.status == 0)
        let setup = try Fixtures.readText(Fixtures.repoRoot + "/scripts/setup.sh")
        let pinned = try #require(setup.split(separator: "\n").first { $0.hasPrefix("BOTOCORE_VERSION=") }).split(separator: "\"")[1]
        #expect(run.stdout.contains("awsgw 0.") && run.stdout.contains("botocore \(pinned)"))
    }

    @Test("config check: the example is valid, and unset variables it names are warned about")
    func configCheck() throws {
        let run = try CLIRun(["config", "check", Fixtures.repoRoot + "/config/awsgw.example.yaml"])
        #expect(run.status == 0)
        #expect(run.stderr.contains("warning: credentials.ci: environment variable CI_SECRET is not set"))
        let quiet = try CLIRun(["config", "check", Fixtures.repoRoot + "/config/awsgw.example.yaml"], environment: ["CI_SECRET": "s", "CI_TOKEN": "t"])
        #expect(quiet.status == 0 && quiet.stderr.contains("warning: credentials.netops: profile netops is not in"))
    }

    @Test("config check reads the profiles sources name: a source_profile cycle or a bad role ARN is an error naming source and profile")
    func configCheckProfiles() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("awsgw-cc-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try Data("""
            [profile a]
            role_arn = arn:aws:iam::123456789012:role/a
            source_profile = b
            [profile b]
            role_arn = arn:aws:iam::123456789012:role/b
            source_profile = a
            [profile bad]
            role_arn = arn:aws:iam::1:role/x
            credential_source = Environment
            [profile good]
            role_arn = arn:aws:iam::123456789012:role/good
            credential_source = Environment
            """.utf8).write(to: URL(fileURLWithPath: dir + "/config"))
        try Data("credentials:\n  default: { source: profile, profile: a }\n  other: { source: profile, profile: bad }\n".utf8)
            .write(to: URL(fileURLWithPath: dir + "/bad.yaml"))
        try Data("credentials:\n  default: { source: profile, profile: good }\n".utf8).write(to: URL(fileURLWithPath: dir + "/good.yaml"))
        let env = ["AWS_CONFIG_FILE": dir + "/config", "AWS_SHARED_CREDENTIALS_FILE": dir + "/none"]
        let bad = try CLIRun(["config", "check", dir + "/bad.yaml"], environment: env)
        #expect(bad.status == 1)
        #expect(bad.stderr.contains("credentials.default: profile b: source_profile makes a cycle: a → b → a"), "\(bad.stderr)")
        #expect(bad.stderr.contains("credentials.other: profile bad: role_arn arn:aws:iam::1:role/x is not an IAM role ARN"))
        let good = try CLIRun(["config", "check", dir + "/good.yaml"], environment: env)
        #expect(good.status == 0, "\(good.stderr)")
    }

    @Test("certs generate keeps existing files unless --force; --client makes a client certificate and a CA")
    func certsGenerate() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("awsgw-certs-\(UUID().uuidString.prefix(8))").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect(try CLIRun(["certs", "generate", "--dir", dir]).status == 0)
        let first = try Fixtures.readText(dir + "/server.pem")
        let again = try CLIRun(["certs", "generate", "--dir", dir])
        #expect(again.status == 1 && again.stderr.contains("--force"))
        #expect(try Fixtures.readText(dir + "/server.pem") == first)
        #expect(try CLIRun(["certs", "generate", "--dir", dir, "--force"]).status == 0)
        #expect(try Fixtures.readText(dir + "/server.pem") != first)
        let client = try CLIRun(["certs", "generate", "--dir", dir, "--client", "app1"])
        #expect(client.status == 0)
        for file in ["client-app1.pem", "client-app1.key", "clients-ca.pem", "clients-ca.key"] {
            #expect(FileManager.default.fileExists(atPath: dir + "/" + file), "\(file)")
        }
        let attributes = try FileManager.default.attributesOfItem(atPath: dir + "/client-app1.key")
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
    }

    @Test("call without a gateway: one clear line, exit 1")
    func noGateway() throws {
        let run = try CLIRun(["call", "networkmanager.ListCoreNetworks", "--connect", "unix:/nonexistent/awsgw.sock"])
        #expect(run.status == 1)
        #expect(run.stderr == "awsgw: no gateway answered at unix:/nonexistent/awsgw.sock: no such socket — is `awsgw serve` running there?\n")
    }

    @Test("models list: services, and one service's operations")
    func modelsList() throws {
        let services = try CLIRun(["models", "list"])
        #expect(services.status == 0)
        // A line each: service, the protocol botocore speaks to it, whether awsgw serves it yet.
        let rows = services.stdout.split(separator: "\n").map { $0.split(separator: " ", omittingEmptySubsequences: true).map(String.init) }
        let names = rows.compactMap(\.first)
        #expect(names.contains("networkmanager") && names.contains("lambda-core") && names.contains("iot-managed-integrations"))
        #expect(rows.first { $0.first == "networkmanager" } == ["networkmanager", "rest-json", "callable"])
        #expect(rows.first { $0.first == "dynamodb" }?.dropFirst(1).first == "json")
        #expect(rows.count == 439)
        let operations = try CLIRun(["models", "list", "NetworkManager"])
        #expect(operations.stdout.split(separator: "\n").contains("AssociateConnectPeer"))
        let unknown = try CLIRun(["models", "list", "networkmanagr"])
        #expect(unknown.status == 1)
        #expect(unknown.stderr.contains("networkmanager"))
        let missingModels = try CLIRun(["models", "list"], environment: ["AWSGW_MODELS": "/nonexistent/models"])
        #expect(missingModels.status == 1)
        // Where it looked, what chose that, and how to get models.
        #expect(missingModels.stderr.contains("no AWS models at /nonexistent/models (from AWSGW_MODELS)"))
        #expect(missingModels.stderr.contains("make setup") && missingModels.stderr.contains("--models DIR"))
    }

    @Test("models list marks services by what works: callable, partly (n of m), not served (why)")
    func modelsListSupport() throws {
        let services = try CLIRun(["models", "list"])
        let lines = services.stdout.split(separator: "\n").map(String.init)
        func status(_ service: String) -> String? {
            lines.first { $0.hasPrefix(service + " ") }.map { $0.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: true)[2].trimmingCharacters(in: .whitespaces) }
        }
        #expect(status("timestream-query") == "partly (1 of 15; the others need endpoint discovery)")
        #expect(status("timestream-write") == "partly (1 of 19; the others need endpoint discovery)")
        #expect(status("sdb") == "not served (SigV2 signing)")
        #expect(status("dynamodb") == "callable")
        let operations = try CLIRun(["models", "list", "timestream-query"]).stdout.split(separator: "\n").map(String.init)
        #expect(operations.contains("DescribeEndpoints"))
        #expect(operations.contains("Query  (not served: endpoint discovery)"))
    }

    @Test("an empty AWSGW_MODELS counts as unset: the models are found as without it")
    func emptyModelsVariable() throws {
        let dir = try temporaryDirectory("awsgw-empty-env")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let run = try CLIRun(["models", "list"], environment: ["AWSGW_MODELS": ""], directory: dir)
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout.split(separator: "\n").count == 439)
    }

    @Test("serve refuses a misspelt --log-level or --log-format as a usage error (exit 2), as the file does")
    func serveFlagValues() throws {
        let level = try CLIRun(["serve", "--log-level", "verbose"])
        #expect(level.status == 2 && level.stderr.contains("'verbose' is invalid for '--log-level"))
        let format = try CLIRun(["serve", "--log-format", "xml"])
        #expect(format.status == 2 && format.stderr.contains("'xml' is invalid for '--log-format"))
        let listen = try CLIRun(["serve", "--listen", "http://127.0.0.1:1"])
        #expect(listen.status == 2 && listen.stderr.contains("expected unix:PATH, tcp:HOST:PORT or tls:HOST:PORT"))
    }

    @Test("paths in a config file are relative to the file, and config check checks what serve will open")
    func configPathsRelativeToFile() throws {
        let configDir = try temporaryDirectory("awsgw-cfgdir")
        let elsewhere = try temporaryDirectory("awsgw-cwd")
        defer {
            try? FileManager.default.removeItem(atPath: configDir)
            try? FileManager.default.removeItem(atPath: elsewhere)
        }
        try FileManager.default.createSymbolicLink(atPath: configDir + "/models", withDestinationPath: Fixtures.modelsDir)
        try Data("listen: [\"unix:run/gw.sock\", \"tls:127.0.0.1:0\"]\nmodels: models/\nlogs: { dir: logs }\n".utf8)
            .write(to: URL(fileURLWithPath: configDir + "/awsgw.yaml"))
        // From another directory, with no AWSGW_MODELS: the file's models/ is the one beside it.
        let run = try CLIRun(["config", "check", configDir + "/awsgw.yaml"], environment: ["AWSGW_MODELS": ""], directory: elsewhere)
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout.contains("note: unix:\(configDir)/run/gw.sock: serve makes the folder \(configDir)/run"))
        #expect(run.stdout.contains("note: logs.dir: serve makes the folder \(configDir)/logs"))
        #expect(run.stdout.contains("note: tls: no certificate at \(configDir)/certs/server.pem"))

        // The file's models: wins over AWSGW_MODELS, as in serve: a folder missing there is an
        // error now, not at the first start.
        try Data("models: nowhere/\n".utf8).write(to: URL(fileURLWithPath: configDir + "/missing.yaml"))
        let missing = try CLIRun(["config", "check", configDir + "/missing.yaml"], directory: elsewhere)
        #expect(missing.status == 1)
        #expect(missing.stderr.contains("models: no AWS models at \(configDir)/nowhere (from the config file's models:)"), "\(missing.stderr)")
    }

    @Test("the example config is valid from any directory: its paths lead beside it")
    func exampleFromAnyDirectory() throws {
        let elsewhere = try temporaryDirectory("awsgw-cwd")
        defer { try? FileManager.default.removeItem(atPath: elsewhere) }
        let run = try CLIRun(["config", "check", Fixtures.repoRoot + "/config/awsgw.example.yaml"], directory: elsewhere)
        #expect(run.status == 0, "\(run.stderr)")
        let certificate = Fixtures.repoRoot + "/config/certs/server.pem"
        #expect(run.stdout.contains("tls: no certificate at \(certificate)") || FileManager.default.fileExists(atPath: certificate))
        #expect(try FileManager.default.contentsOfDirectory(atPath: elsewhere).isEmpty)
    }

    @Test("a start that fails writes nothing: no development certificate before the models are found")
    func failedStartWritesNothing() throws {
        let configDir = try temporaryDirectory("awsgw-cfgdir")
        let elsewhere = try temporaryDirectory("awsgw-cwd")
        defer {
            try? FileManager.default.removeItem(atPath: configDir)
            try? FileManager.default.removeItem(atPath: elsewhere)
        }
        try Data("listen: [\"tls:127.0.0.1:0\", \"unix:sock/gw.sock\"]\nmodels: models/\nlogs: { dir: logs }\n".utf8)
            .write(to: URL(fileURLWithPath: configDir + "/awsgw.yaml"))
        let run = try CLIRun(["serve", "--config", configDir + "/awsgw.yaml"], directory: elsewhere)
        #expect(run.status == 1)
        #expect(run.stderr.contains("models: no AWS models at \(configDir)/models"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: configDir) == ["awsgw.yaml"])
        #expect(try FileManager.default.contentsOfDirectory(atPath: elsewhere).isEmpty)
    }
}

/// A fresh folder under the system's temporary one.
func temporaryDirectory(_ prefix: String) throws -> String {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)-\(UUID().uuidString.prefix(8))").path
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    return dir
}
