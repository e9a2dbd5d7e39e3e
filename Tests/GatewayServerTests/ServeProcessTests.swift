import AWSJSON
import Foundation
import NIOPosix
import Testing
import TestSupport

#if canImport(Glibc)
import Glibc
#endif

var awsgwBinary: String { Fixtures.awsgwBinary }

/// Runs a command to completion on its own thread.
func runProcess(_ arguments: [String], environment: [String: String]) async throws -> (Int32, String, String) {
    try await onThread {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: awsgwBinary)
        process.arguments = arguments
        process.environment = environment
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        let errData = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: outData, as: UTF8.self), String(decoding: errData, as: UTF8.self))
    }
}

@Suite("awsgw serve as a process", .serialized)
struct ServeProcessTests {
    @Test("serve, call over the socket and over TCP, then SIGTERM: exit 0 and the socket file is gone")
    func serveCallAndStop() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let fake = try await FakeAWS(group: group, script: FakeAWS.okAssociate)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("awsgw-serve-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let socketPath = dir + "/gw.sock"
        let environment = [
            "PATH": "/usr/bin:/bin", "HOME": dir, "AWSGW_MODELS": Fixtures.modelsDir, "AWS_ENDPOINT_URL": fake.url, "AWS_REGION": "us-east-1",
            "AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
        ]
        let serve = Process()
        serve.executableURL = URL(fileURLWithPath: awsgwBinary)
        serve.arguments = ["serve", "--listen", "unix:" + socketPath, "--listen", "tcp:127.0.0.1:0", "--log-level", "warning"]
        serve.environment = environment
        let out = Pipe()
        serve.standardOutput = out
        serve.standardError = FileHandle.nullDevice
        try serve.run()
        // Wait for both "listening on" lines.
        let lines = try await onThread { () -> [String] in
            var text = ""
            while text.components(separatedBy: "listening on").count < 3 {
                let chunk = out.fileHandleForReading.availableData
                if chunk.isEmpty { break }
                text += String(decoding: chunk, as: UTF8.self)
            }
            return text.split(separator: "\n").map(String.init)
        }
        #expect(lines.contains("awsgw: listening on unix:" + socketPath))
        let tcpLine = try #require(lines.first { $0.hasPrefix("awsgw: listening on tcp:") })
        let tcpAddress = String(tcpLine.dropFirst("awsgw: listening on ".count))

        let params = associateParams.serializedString()
        let viaSocket = try await runProcess(["call", "networkmanager.AssociateConnectPeer", params, "--connect", "unix:" + socketPath], environment: environment)
        #expect(viaSocket.0 == 0, "\(viaSocket.2)")
        #expect(try JSON.parse(viaSocket.1.trimmingCharacters(in: .whitespacesAndNewlines))["ConnectPeerAssociation"]?["State"] == "PENDING")
        // With no teams configured only the gateway's own user is admitted: a TCP caller has
        // no peer credentials, so it is denied.
        let viaTCP = try await runProcess(["call", "networkmanager.AssociateConnectPeer", params, "--connect", tcpAddress], environment: environment)
        #expect(viaTCP.0 == 1)
        let denial = try JSON.parse(viaTCP.2.trimmingCharacters(in: .whitespacesAndNewlines))
        #expect(denial["code"] == -32001)
        #expect(denial["data"]?["identity"] == "anonymous")
        let failing = try await runProcess(["call", "networkmanager.AssociateConnectPeer", "{}", "--connect", "unix:" + socketPath], environment: environment)
        #expect(failing.0 == 1)
        #expect(try JSON.parse(failing.2.trimmingCharacters(in: .whitespacesAndNewlines))["code"] == -32602)
        #expect(fake.requests.count == 1)

        kill(serve.processIdentifier, SIGTERM)
        let status = try await onThread { () -> Int32 in
            serve.waitUntilExit()
            return serve.terminationStatus
        }
        #expect(status == 0)
        #expect(access(socketPath, F_OK) != 0)
        await fake.stop()
        try await group.shutdownGracefully()
        try? FileManager.default.removeItem(atPath: dir)
    }

    @Test("a broken configuration file stops serve with every problem named")
    func brokenConfig() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("awsgw-cfg-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try "listen: [\"tcp:127.0.0.1:0\"]\nregoin: x\n".write(toFile: dir + "/bad.yaml", atomically: true, encoding: .utf8)
        let env = ["PATH": "/usr/bin:/bin", "HOME": dir, "AWSGW_MODELS": Fixtures.modelsDir]
        let serve = try await runProcess(["serve", "--config", dir + "/bad.yaml"], environment: env)
        #expect(serve.0 == 1)
        #expect(serve.2.contains("regoin"))
        let check = try await runProcess(["config", "check", dir + "/bad.yaml"], environment: env)
        #expect(check.0 == 1)
        #expect(check.2.contains("regoin: unknown key"))
        try? FileManager.default.removeItem(atPath: dir)
    }
}
