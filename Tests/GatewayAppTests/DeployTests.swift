import AWSJSON
import Foundation
import GatewayApp
import GatewayTesting
import GatewayCore
import NIOPosix
import Testing
import TestSupport

#if canImport(Glibc)
import Glibc
#endif

/// deploy/ followed as written, as far as a test may: `deploy/install.sh` into a staging
/// root (DESTDIR), `systemd-analyze verify` of the installed unit against that root, then
/// the unit's own command line, environment and working directory run by hand with the
/// folders systemd would make. The only change is the root: every absolute path the unit
/// and the installed config name (/usr/local, /etc/awsgw, /var/lib/awsgw, /run/awsgw) is
/// taken inside it, since a test must not install into the machine's own folders.
@Suite("deploy/: install, verify, run the unit's command", .serialized)
struct DeployTests {
    /// The unit's `Key=value` lines (the last of each key; `Environment=` lines all).
    struct Unit {
        var values: [String: String] = [:]
        var environment: [String: String] = [:]

        init(_ text: String) {
            for line in text.split(separator: "\n").map(String.init) where !line.hasPrefix("#") && line.contains("=") {
                let key = String(line[..<line.firstIndex(of: "=")!])
                let value = String(line[line.index(after: line.firstIndex(of: "=")!)...])
                if key == "Environment" {
                    let pair = value.split(separator: "=", maxSplits: 1).map(String.init)
                    environment[pair[0]] = pair.count > 1 ? pair[1] : ""
                } else {
                    values[key] = value
                }
            }
        }
    }

    static let callerIdentity = """
    <GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult>\
    <Arn>arn:aws:iam::123456789012:user/deployed</Arn><UserId>AIDADEPLOYED</UserId><Account>123456789012</Account>\
    </GetCallerIdentityResult><ResponseMetadata><RequestId>req-deploy</RequestId></ResponseMetadata></GetCallerIdentityResponse>
    """

    @Test("install.sh, systemd-analyze verify, then the unit's ExecStart serves its socket, reloads and stops cleanly")
    func followDeploy() async throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("awsgw-deploy-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: root) }
        func inRoot(_ text: String) -> String {
            ["/usr/local/", "/etc/awsgw", "/var/lib/awsgw", "/run/awsgw"].reduce(text) { $0.replacingOccurrences(of: $1, with: root + $1) }
        }

        // 1. The install script, as written, into the staging root.
        let install = try await runCommand("/bin/bash", [Fixtures.repoRoot + "/deploy/install.sh"],
                                           environment: ["PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "DESTDIR": root, "AWSGW_BINARY": awsgwBinary])
        #expect(install.0 == 0, "\(install.2)")
        let unitFile = root + "/etc/systemd/system/awsgw.service"
        let unit = Unit(try Fixtures.readText(unitFile))
        let execStart = try #require(unit.values["ExecStart"])
        #expect(execStart == "/usr/local/bin/awsgw serve --config /etc/awsgw/awsgw.yaml")
        #expect(FileManager.default.isExecutableFile(atPath: root + "/usr/local/bin/awsgw"))
        #expect(FileManager.default.fileExists(atPath: root + "/usr/local/share/awsgw/models/partitions.json"))

        // 2. systemd's own check of the unit (its executables are looked up in the root,
        // with the system's units and /bin/kill beside them, as on a real system).
        if let analyze = ["/usr/bin/systemd-analyze", "/bin/systemd-analyze"].first(where: { FileManager.default.isExecutableFile(atPath: $0) }) {
            try FileManager.default.createDirectory(atPath: root + "/usr/lib/systemd", withIntermediateDirectories: true)
            try FileManager.default.createDirectory(atPath: root + "/bin", withIntermediateDirectories: true)
            try FileManager.default.copyItem(atPath: "/usr/lib/systemd/system", toPath: root + "/usr/lib/systemd/system")
            try FileManager.default.copyItem(atPath: "/bin/kill", toPath: root + "/bin/kill")
            let verify = try await runCommand(analyze, ["verify", "--root=" + root, "/etc/systemd/system/awsgw.service"], environment: ["PATH": "/usr/bin:/bin"])
            #expect(verify.0 == 0 && verify.1.isEmpty && verify.2.isEmpty, "systemd-analyze verify: \(verify.1)\(verify.2)")
        } else {
            #expect(ProcessInfo.processInfo.environment["CI"] != "true", "systemd-analyze is missing under CI (scripts/install-tools.sh installs it)")
            print("DeployTests: systemd-analyze not installed (apt-get install systemd); the unit was not verified")
        }

        // 3. What systemd makes before ExecStart: StateDirectory= and RuntimeDirectory= with
        // their modes; the working directory; the unit's environment.
        let stateDirectory = root + "/var/lib/" + (unit.values["StateDirectory"] ?? "")
        let runtimeDirectory = root + "/run/" + (unit.values["RuntimeDirectory"] ?? "")
        try FileManager.default.createDirectory(atPath: stateDirectory, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: Int(unit.values["StateDirectoryMode"] ?? "", radix: 8) ?? 0o755])
        try FileManager.default.createDirectory(atPath: runtimeDirectory, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: Int(unit.values["RuntimeDirectoryMode"] ?? "", radix: 8) ?? 0o755])
        let config = root + "/etc/awsgw/awsgw.yaml"
        try inRoot(try Fixtures.readText(config)).write(toFile: config, atomically: true, encoding: .utf8)

        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let fake = try await FakeAWS(group: group) { _, _ in
            .respond(status: 200, headers: [("Content-Type", "text/xml")], body: DeployTests.callerIdentity)
        }
        var environment = unit.environment.mapValues(inRoot)
        environment["PATH"] = "/usr/bin:/bin"
        environment["AWS_ENDPOINT_URL"] = fake.url
        environment["AWS_REGION"] = "us-east-1"
        environment["AWS_ACCESS_KEY_ID"] = "AKIDEXAMPLE"
        environment["AWS_SECRET_ACCESS_KEY"] = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
        #expect(environment["AWSGW_MODELS"] == root + "/usr/local/share/awsgw/models")
        let workingDirectory = inRoot(try #require(unit.values["WorkingDirectory"]))
        let arguments = inRoot(execStart).split(separator: " ").map(String.init)
        let binary = arguments[0]

        // 4. The install's own check of the config, then the unit's command line.
        let check = try await runCommand(binary, ["config", "check", config], environment: environment, directory: workingDirectory)
        #expect(check.0 == 0, "\(check.2)")
        let serve = try ServeProcess(Array(arguments.dropFirst(2)), environment: environment, executable: binary, directory: workingDirectory)
        let lines = try await serve.output(through: "awsgw: audit log:")
        let socket = runtimeDirectory + "/awsgw.sock"
        #expect(lines.contains("awsgw: listening on unix:" + socket), "\(lines) \(serve.errorsSoFar)")
        #expect(lines.contains("awsgw: audit log: \(stateDirectory)/logs (params: keys)"))
        var info = stat()
        #expect(stat(socket, &info) == 0 && info.st_mode & 0o777 == 0o660)

        let call = try await runCommand(binary, ["call", "sts.GetCallerIdentity", "--connect", "unix:" + socket], environment: environment)
        #expect(call.0 == 0, "\(call.2)")
        #expect(try JSON.parse(call.1.trimmingCharacters(in: .whitespacesAndNewlines))["Arn"] == "arn:aws:iam::123456789012:user/deployed")

        // ExecReload (kill -HUP), then systemd's stop (KillSignal=SIGTERM).
        #expect(unit.values["ExecReload"] == "/bin/kill -HUP $MAINPID" && unit.values["KillSignal"] == "SIGTERM")
        serve.signal(SIGHUP)
        try await Task.sleep(nanoseconds: 300_000_000)
        serve.signal(SIGTERM)
        let (status, stderr) = try await serve.exit()
        #expect(status == 0, "\(stderr)")
        #expect(stderr.contains("configuration reloaded"))
        #expect(!AuditLog.logFiles(in: stateDirectory + "/logs").isEmpty)
        #expect(access(socket, F_OK) != 0)
        await fake.stop()
        try await group.shutdownGracefully()
    }
}
