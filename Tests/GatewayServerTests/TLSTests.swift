import AWSJSON
import Crypto
import Foundation
import GatewayCore
import GatewayServer
import GatewayTesting
import GatewayTransport
import NIOCore
import NIOPosix
import NIOSSL
import SwiftASN1
import Testing
import X509

/// A test CA that issues client certificates, written as PEM files.
struct TestCA {
    let key: P256.Signing.PrivateKey
    let certificate: Certificate
    let name: DistinguishedName

    init(commonName: String) throws {
        key = P256.Signing.PrivateKey()
        name = try DistinguishedName { CommonName(commonName) }
        let now = Date()
        certificate = try Certificate(
            version: .v3, serialNumber: .init(), publicKey: .init(key.publicKey), notValidBefore: now.addingTimeInterval(-60),
            notValidAfter: now.addingTimeInterval(3600), issuer: name, subject: name, signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 0))
                Critical(KeyUsage(keyCertSign: true))
            },
            issuerPrivateKey: .init(key))
    }

    /// A client certificate for `commonName`, signed by this CA; returns (cert PEM path, key PEM path).
    func issueClient(commonName: String, dir: String) throws -> (String, String) {
        let clientKey = P256.Signing.PrivateKey()
        let now = Date()
        let cert = try Certificate(
            version: .v3, serialNumber: .init(), publicKey: .init(clientKey.publicKey), notValidBefore: now.addingTimeInterval(-60),
            notValidAfter: now.addingTimeInterval(3600), issuer: name, subject: try DistinguishedName { CommonName(commonName) },
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.notCertificateAuthority)
                try ExtendedKeyUsage([.clientAuth])
            },
            issuerPrivateKey: .init(key))
        let certPath = dir + "/client-\(commonName).pem", keyPath = dir + "/client-\(commonName).key"
        try cert.serializeAsPEM().pemString.write(toFile: certPath, atomically: true, encoding: .utf8)
        try clientKey.pemRepresentation.write(toFile: keyPath, atomically: true, encoding: .utf8)
        return (certPath, keyPath)
    }

    func write(to path: String) throws {
        try certificate.serializeAsPEM().pemString.write(toFile: path, atomically: true, encoding: .utf8)
    }
}

/// Collects what a TLS connection receives until one whole HTTP response (by its
/// Content-Length) is in, or the connection closes.
final class Collector: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    let done: EventLoopPromise<[UInt8]>
    var bytes: [UInt8] = []
    init(done: EventLoopPromise<[UInt8]>) { self.done = done }
    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        bytes += Array(unwrapInboundIn(data).readableBytesView)
        if let reply = HTTPReply.parse(bytes), let length = reply.header("Content-Length").flatMap(Int.init), reply.body.utf8.count >= length {
            done.succeed(bytes)
            context.close(promise: nil)
        }
    }
    func channelInactive(context: ChannelHandlerContext) { done.succeed(bytes) }
    func errorCaught(context: ChannelHandlerContext, error: Error) {
        done.fail(error)
        context.close(promise: nil)
    }
}

/// One HTTP exchange over TLS, trusting `ca`, presenting a client certificate if given.
func tlsExchange(port: Int, ca: String, client: (String, String)?, body: String, group: EventLoopGroup) async throws -> HTTPReply {
    var configuration = TLSConfiguration.makeClientConfiguration()
    configuration.trustRoots = .file(ca)
    if let client {
        configuration.certificateChain = try NIOSSLCertificate.fromPEMFile(client.0).map { .certificate($0) }
        configuration.privateKey = .privateKey(try NIOSSLPrivateKey(file: client.1, format: .pem))
    }
    let context = try NIOSSLContext(configuration: configuration)
    let done = group.next().makePromise(of: [UInt8].self)
    let channel = try await ClientBootstrap(group: group)
        .channelInitializer { channel in
            channel.eventLoop.makeCompletedFuture {
                try channel.pipeline.syncOperations.addHandler(try NIOSSLClientHandler(context: context, serverHostname: "localhost"))
                try channel.pipeline.syncOperations.addHandler(Collector(done: done))
            }
        }
        .connect(host: "127.0.0.1", port: port).get()
    let request = "POST / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)"
    channel.writeAndFlush(ByteBuffer(string: request), promise: nil)
    let bytes = try await done.futureResult.get()
    guard let reply = HTTPReply.parse(bytes) else { throw SocketError(description: "no HTTP reply over TLS") }
    return reply
}

@Suite("TLS and mTLS listeners", .serialized)
struct TLSListenerTests {
    @Test("TLS with a generated certificate; TLS 1.1 is refused")
    func tls() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("awsgw-tls-\(UUID().uuidString.prefix(8))").path
        let files = try DevCertificate.generate(dir: dir, hosts: ["localhost", "127.0.0.1"])
        var keyInfo = stat()
        #expect(stat(files.key, &keyInfo) == 0 && keyInfo.st_mode & 0o777 == 0o600)
        let gw = try await TestGateway(listen: ["tls:127.0.0.1:0"], configure: { $0.tls = TLSConfig(cert: files.certificate, key: files.key, clientCA: nil) })
        guard case .tls(_, let port) = gw.address("tls") else { Issue.record("no tls listener"); return }
        let reply = try await tlsExchange(port: port, ca: files.certificate, client: nil,
                                          body: rpc(1, "networkmanager.AssociateConnectPeer", associateParams), group: MultiThreadedEventLoopGroup.singleton)
        #expect(reply.status == 200)
        #expect(reply.json?["result"] != nil)

        var old = TLSConfiguration.makeClientConfiguration()
        old.trustRoots = .file(files.certificate)
        old.maximumTLSVersion = .tlsv11
        old.minimumTLSVersion = .tlsv1
        let oldContext = try NIOSSLContext(configuration: old)
        let done = MultiThreadedEventLoopGroup.singleton.next().makePromise(of: [UInt8].self)
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(try NIOSSLClientHandler(context: oldContext, serverHostname: "localhost"))
                    try channel.pipeline.syncOperations.addHandler(Collector(done: done))
                }
            }
            .connect(host: "127.0.0.1", port: port).get()
        try? await channel.writeAndFlush(ByteBuffer(string: "GET /healthz HTTP/1.1\r\n\r\n"))
        await #expect(throws: (any Error).self) { _ = try await done.futureResult.get() }
        await gw.stop()
        try? FileManager.default.removeItem(atPath: dir)
    }

    @Test("mTLS: a client certificate from the configured CA is required")
    func mutualTLS() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("awsgw-mtls-\(UUID().uuidString.prefix(8))").path
        let server = try DevCertificate.generate(dir: dir, hosts: ["localhost", "127.0.0.1"])
        let clientCA = try TestCA(commonName: "clients CA")
        try clientCA.write(to: dir + "/clients-ca.pem")
        let goodClient = try clientCA.issueClient(commonName: "netops-app", dir: dir)
        let otherCA = try TestCA(commonName: "someone else")
        let strangerClient = try otherCA.issueClient(commonName: "stranger", dir: dir)

        let gw = try await TestGateway(listen: ["tls:127.0.0.1:0"], configure: {
            $0.tls = TLSConfig(cert: server.certificate, key: server.key, clientCA: dir + "/clients-ca.pem")
        })
        guard case .tls(_, let port) = gw.address("tls") else { Issue.record("no tls listener"); return }
        let body = rpc(1, "networkmanager.AssociateConnectPeer", associateParams)
        let reply = try await tlsExchange(port: port, ca: server.certificate, client: goodClient, body: body, group: MultiThreadedEventLoopGroup.singleton)
        #expect(reply.json?["result"] != nil)
        await #expect(throws: (any Error).self) {
            _ = try await tlsExchange(port: port, ca: server.certificate, client: nil, body: body, group: MultiThreadedEventLoopGroup.singleton)
        }
        await #expect(throws: (any Error).self) {
            _ = try await tlsExchange(port: port, ca: server.certificate, client: strangerClient, body: body, group: MultiThreadedEventLoopGroup.singleton)
        }
        #expect(gw.fake.requests.count == 1)
        await gw.stop()
        try? FileManager.default.removeItem(atPath: dir)
    }
}
