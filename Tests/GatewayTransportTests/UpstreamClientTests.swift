import AWSJSON
import Foundation
import GatewayServer
import GatewayTesting
@testable import GatewayTransport
import GatewayTesting
import NIOSSL
import Testing

@Suite("The HTTP client to AWS", .serialized)
struct UpstreamClientTests {
    @Test("HTTPS to AWS: verified against the trust roots, with SNI; an untrusted certificate is refused")
    func httpsUpstream() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("awsgw-up-\(UUID().uuidString.prefix(8))").path
        let files = try DevCertificate.generate(dir: dir, hosts: ["localhost"])
        let serverTLS = try NIOSSLContext(configuration: .makeServerConfiguration(
            certificateChain: try NIOSSLCertificate.fromPEMFile(files.certificate).map { .certificate($0) },
            privateKey: .privateKey(try NIOSSLPrivateKey(file: files.key, format: .pem))))
        let trusted = try await TestGateway(upstreamTLS: serverTLS, upstreamTrust: .file(files.certificate))
        let reply = try await httpExchange(trusted.address("unix"), body: rpc(1, "networkmanager.AssociateConnectPeer", associateParams))
        #expect(reply.json?["result"]?["ConnectPeerAssociation"]?["State"] == "PENDING")
        #expect(trusted.fake.requests.first?.header("Host") == "localhost:\(trusted.fake.port)")
        await trusted.stop()

        let untrusted = try await TestGateway(upstreamTLS: serverTLS, upstreamTrust: .default)
        let refused = try await httpExchange(untrusted.address("unix"), body: rpc(1, "networkmanager.AssociateConnectPeer", associateParams))
        #expect(refused.json?["error"]?["code"] == -32011)
        #expect(untrusted.fake.requests.isEmpty)
        await untrusted.stop()
        try? FileManager.default.removeItem(atPath: dir)
    }

    @Test("an S3 upload over https: the aws-chunked body with its CRC32 trailer goes with Transfer-Encoding: chunked and arrives whole")
    func chunkedUpload() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("awsgw-up-\(UUID().uuidString.prefix(8))").path
        let files = try DevCertificate.generate(dir: dir, hosts: ["localhost"])
        let serverTLS = try NIOSSLContext(configuration: .makeServerConfiguration(
            certificateChain: try NIOSSLCertificate.fromPEMFile(files.certificate).map { .certificate($0) },
            privateKey: .privateKey(try NIOSSLPrivateKey(file: files.key, format: .pem))))
        let gw = try await TestGateway(upstreamTLS: serverTLS, upstreamTrust: .file(files.certificate)) { _, _ in
            .respond(status: 200, headers: [("ETag", "\"abc\""), ("x-amz-checksum-crc32", "DUoRhQ==")], body: "")
        }
        let params: JSON = ["Bucket": "team-data", "Key": "a/b.txt", "Body": "aGVsbG8gd29ybGQ=", "ContentType": "text/plain"]
        let reply = try await httpExchange(gw.address("unix"), body: rpc(1, "s3.PutObject", params))
        #expect(reply.json?["result"]?["ETag"] == "\"abc\"", "\(reply.json.map { $0.serializedString() } ?? "")")
        let sent = try #require(gw.fake.requests.first)
        #expect(sent.method == "PUT" && sent.uri == "/team-data/a/b.txt")
        #expect(sent.header("Transfer-Encoding") == "chunked" && sent.header("Content-Length") == nil)
        #expect(sent.header("Content-Encoding") == "aws-chunked" && sent.header("X-Amz-Decoded-Content-Length") == "11")
        #expect(sent.header("X-Amz-Content-SHA256") == "STREAMING-UNSIGNED-PAYLOAD-TRAILER" && sent.header("Expect") == "100-continue")
        #expect(sent.bodyText == "b\r\nhello world\r\n0\r\nx-amz-checksum-crc32:DUoRhQ==\r\n\r\n")
        await gw.stop()
        try? FileManager.default.removeItem(atPath: dir)
    }

    @Test("keep-alive: many calls reuse a few connections; a burst opens no more than the cap")
    func connectionReuse() async throws {
        let gw = try await TestGateway()
        for i in 0..<20 {
            _ = try await httpExchange(gw.address("unix"), body: rpc(.int(Int64(i)), "networkmanager.AssociateConnectPeer", associateParams))
        }
        #expect(gw.fake.requests.count == 20)
        #expect(gw.fake.connections <= 2)
        gw.fake.setScript { _, _ in .respond(status: 200, headers: [], body: #"{"ConnectPeerAssociation":{}}"#, delay: 0.05) }
        let lines = (0..<400).map { rpc(.int(Int64($0)), "networkmanager.AssociateConnectPeer", associateParams) }
        let answers = try await ndjsonExchange(gw.address("tcp"), lines: lines, expect: 400)
        #expect(answers.count == 400 && answers.allSatisfy { $0["result"] != nil })
        #expect(gw.fake.connections <= 2 * 64 + 2)
        await gw.stop()
    }
}
