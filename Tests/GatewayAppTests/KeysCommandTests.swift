import AWSPrimitives
import AWSSigning
import Foundation
import GatewayCore
import GatewayTesting
import Testing

@Suite("awsgw keys generate")
struct KeysCommandTests {
    @Test("a key pair in AWS's form and config lines that work as printed: the config loads, and a request signed with the pair verifies")
    func generate() async throws {
        let (status, out, err) = try await runProcess(["keys", "generate", "--team", "data-eng"], environment: ["PATH": "/usr/bin:/bin"])
        #expect(status == 0, "\(err)")
        let lines = out.split(separator: "\n").map(String.init)
        let id = try #require(lines.first { $0.hasPrefix("AWS_ACCESS_KEY_ID=") }).dropFirst("AWS_ACCESS_KEY_ID=".count)
        let secret = String(try #require(lines.first { $0.hasPrefix("AWS_SECRET_ACCESS_KEY=") }).dropFirst("AWS_SECRET_ACCESS_KEY=".count))
        #expect(id.hasPrefix("AKGW") && id.count == 20 && GatewayKey.isValidID(String(id)))
        #expect(secret.count == 40)
        #expect(lines.contains("AWSGW_KEY_DATA_ENG=\(secret)"))
        // The printed config lines, as they are, with members and rules added.
        let teamLines = lines.drop { !$0.hasPrefix("teams:") }.prefix(3).joined(separator: "\n")
        let yaml = teamLines.replacingOccurrences(of: "    access_keys:", with: "    members: any\n    allow: [\"*:*\"]\n    access_keys:")
        let environment = ["AWSGW_KEY_DATA_ENG": secret]
        let config = try GatewayConfig.parse(yaml, environment: environment)
        let keys = GatewayKeys(teams: config.teams ?? [], environment: environment)
        #expect(keys.team(for: String(id)) == "data-eng")
        // Signed as an SDK signs with the pair; the gateway verifies it with the secret it holds.
        var request = SignableRequest(method: "POST", path: "/", query: "", headers: [("Host", "127.0.0.1:4566")], body: Array("{}".utf8))
        let now = Timestamp(seconds: Int64(Date().timeIntervalSince1970))
        SigV4Signer(credentials: Credentials(accessKeyId: String(id), secretAccessKey: secret), region: "us-east-1", service: "dynamodb").sign(&request, at: now)
        let verifier = SigV4Verifier { keys.secret(for: $0) }
        #expect(try verifier.verify(request, body: request.body, at: now, options: { _ in SigV4Options() }).get().accessKeyId == String(id))
        // Two runs never give the same key.
        let again = try await runProcess(["keys", "generate", "--team", "data-eng"], environment: ["PATH": "/usr/bin:/bin"])
        #expect(!again.1.contains(String(id)) && !again.1.contains(secret))
    }
}
