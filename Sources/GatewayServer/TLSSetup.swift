import Crypto
import Foundation
import GatewayCore
import NIOSSL
import SwiftASN1
import X509

/// TLS for `tls:` listeners: TLS 1.2 at least; client certificates required when a
/// client CA is configured (mTLS).
enum TLSSetup {
    static func serverContext(_ tls: TLSConfig) throws -> NIOSSLContext {
        let chain: [NIOSSLCertificate]
        let key: NIOSSLPrivateKey
        do {
            chain = try NIOSSLCertificate.fromPEMFile(tls.cert)
            key = try NIOSSLPrivateKey(file: tls.key, format: .pem)
        } catch {
            throw ListenerError(address: "tls", reason: "cannot load certificate \(tls.cert) or key \(tls.key): \(error)")
        }
        var configuration = TLSConfiguration.makeServerConfiguration(certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key))
        configuration.minimumTLSVersion = .tlsv12
        // A peer that never answers close_notify must not hold a connection (or shutdown) long.
        configuration.shutdownTimeout = .seconds(1)
        if let clientCA = tls.clientCA {
            configuration.certificateVerification = .noHostnameVerification
            configuration.trustRoots = .file(clientCA)
        }
        return try NIOSSLContext(configuration: configuration)
    }
}

/// A self-signed development certificate and key, made with swift-certificates.
public enum DevCertificate {
    public struct Files: Sendable {
        public let certificate: String
        public let key: String
    }

    /// Writes `server.pem` and `server.key` (mode 0600) into `dir` for the given host names
    /// (and IP addresses), valid for a year.
    @discardableResult
    public static func generate(dir: String, hosts: [String]) throws -> Files {
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let key = P256.Signing.PrivateKey()
        let certificateKey = Certificate.PrivateKey(key)
        let name = try DistinguishedName {
            CommonName(hosts.first ?? "localhost")
            OrganizationName("awsgw development")
        }
        var names: [GeneralName] = []
        for host in hosts {
            if let ip = IPv4Bytes(host) {
                names.append(.ipAddress(ASN1OctetString(contentBytes: ArraySlice(ip))))
            } else {
                names.append(.dnsName(host))
            }
        }
        let now = Date()
        let certificate = try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: certificateKey.publicKey,
            notValidBefore: now.addingTimeInterval(-300), notValidAfter: now.addingTimeInterval(365 * 86400),
            issuer: name, subject: name, signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                // Its own trust anchor: clients trust this file (`--ca certs/server.pem`).
                Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 0))
                Critical(KeyUsage(digitalSignature: true, keyCertSign: true))
                try ExtendedKeyUsage([.serverAuth])
                SubjectAlternativeNames(names)
            },
            issuerPrivateKey: certificateKey)
        let certPath = dir + "/server.pem"
        let keyPath = dir + "/server.key"
        try certificate.serializeAsPEM().pemString.write(toFile: certPath, atomically: true, encoding: .utf8)
        let keyPEM = key.pemRepresentation
        guard FileManager.default.createFile(atPath: keyPath, contents: Data(keyPEM.utf8), attributes: [.posixPermissions: 0o600]) else {
            throw ListenerError(address: "tls", reason: "cannot write \(keyPath)")
        }
        _ = chmod(keyPath, 0o600)
        return Files(certificate: certPath, key: keyPath)
    }

    static func IPv4Bytes(_ text: String) -> [UInt8]? {
        let parts = text.split(separator: ".")
        guard parts.count == 4 else { return nil }
        let bytes = parts.compactMap { UInt8($0) }
        return bytes.count == 4 ? bytes : nil
    }
}
