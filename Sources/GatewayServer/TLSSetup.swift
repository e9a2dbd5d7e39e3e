import Crypto
import Foundation
import GatewayCore
import GatewayTransport
import NIOSSL
import SwiftASN1
import X509

/// TLS for `tls:` listeners: TLS 1.2 at least; client certificates required when a
/// client CA is configured (mTLS).
public enum TLSSetup {
    /// Why `tls` cannot make a server context (a file missing or unreadable, a key that is
    /// not PEM), or nil: checked before the gateway writes anything.
    public static func problem(_ tls: TLSConfig) -> String? {
        do {
            _ = try serverContext(tls)
            return nil
        } catch let error as ListenerError {
            return error.reason
        } catch {
            return "\(error)"
        }
    }

    static func serverContext(_ tls: TLSConfig) throws -> NIOSSLContext {
        for (what, path) in [("certificate", tls.cert), ("key", tls.key)] + (tls.clientCA.map { [("client CA", $0)] } ?? [])
        where !FileManager.default.fileExists(atPath: path) {
            throw ListenerError(address: "tls", reason: "the TLS \(what) file \(path) does not exist (awsgw certs generate makes development ones)")
        }
        let chain: [NIOSSLCertificate]
        let key: NIOSSLPrivateKey
        do {
            chain = try NIOSSLCertificate.fromPEMFile(tls.cert)
        } catch {
            throw ListenerError(address: "tls", reason: "cannot read the certificate \(tls.cert): \(error)")
        }
        do {
            key = try NIOSSLPrivateKey(file: tls.key, format: .pem)
        } catch {
            throw ListenerError(address: "tls", reason: "cannot read the key \(tls.key): \(error)")
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

/// A development certificate file that could not be written (or would be overwritten).
public struct CertificateFileError: Error, CustomStringConvertible {
    public let message: String
    public var description: String { message }
}

/// A self-signed development certificate and key, made with swift-certificates.
public enum DevCertificate {
    public struct Files: Sendable {
        public let certificate: String
        public let key: String
    }

    /// Writes `server.pem` and `server.key` (mode 0600) into `dir` for the given host names
    /// (and IP addresses), valid for a year. Existing files are kept unless `force`.
    @discardableResult
    public static func generate(dir: String, hosts: [String], force: Bool = true) throws -> Files {
        let files = Files(certificate: dir + "/server.pem", key: dir + "/server.key")
        try refuseOverwrite([files.certificate, files.key], force: force)
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
        try write(certificate, key: key, to: files)
        return files
    }

    /// A client certificate for mTLS (`cn:NAME` in a team's members), signed by a
    /// development CA in the same folder (`clients-ca.pem`, made the first time and reused
    /// after: it is what `tls.client_ca` names).
    public static func generateClient(dir: String, name: String, force: Bool = false) throws -> (ca: Files, client: Files) {
        let client = Files(certificate: dir + "/client-\(name).pem", key: dir + "/client-\(name).key")
        try refuseOverwrite([client.certificate, client.key], force: force)
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let ca = Files(certificate: dir + "/clients-ca.pem", key: dir + "/clients-ca.key")
        let caName = try DistinguishedName {
            CommonName("awsgw development clients CA")
            OrganizationName("awsgw development")
        }
        let caKey: P256.Signing.PrivateKey
        if FileManager.default.fileExists(atPath: ca.certificate), let pem = FileManager.default.contents(atPath: ca.key) {
            caKey = try P256.Signing.PrivateKey(pemRepresentation: String(decoding: pem, as: UTF8.self))
        } else {
            caKey = P256.Signing.PrivateKey()
            let caCertificate = try Certificate(
                version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: Certificate.PrivateKey(caKey).publicKey,
                notValidBefore: Date().addingTimeInterval(-300), notValidAfter: Date().addingTimeInterval(5 * 365 * 86400),
                issuer: caName, subject: caName, signatureAlgorithm: .ecdsaWithSHA256,
                extensions: try Certificate.Extensions {
                    Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 0))
                    Critical(KeyUsage(keyCertSign: true))
                },
                issuerPrivateKey: Certificate.PrivateKey(caKey))
            try write(caCertificate, key: caKey, to: ca)
        }
        let clientKey = P256.Signing.PrivateKey()
        let subject = try DistinguishedName {
            CommonName(name)
            OrganizationName("awsgw development")
        }
        let certificate = try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: Certificate.PrivateKey(clientKey).publicKey,
            notValidBefore: Date().addingTimeInterval(-300), notValidAfter: Date().addingTimeInterval(365 * 86400),
            issuer: caName, subject: subject, signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.notCertificateAuthority)
                Critical(KeyUsage(digitalSignature: true))
                try ExtendedKeyUsage([.clientAuth])
            },
            issuerPrivateKey: Certificate.PrivateKey(caKey))
        try write(certificate, key: clientKey, to: client)
        return (ca, client)
    }

    static func refuseOverwrite(_ paths: [String], force: Bool) throws {
        guard !force, let existing = paths.first(where: { FileManager.default.fileExists(atPath: $0) }) else { return }
        throw CertificateFileError(message: "\(existing) exists; it is kept (use --force to replace it)")
    }

    /// The certificate as PEM, the key as PEM with mode 0600 from the start.
    static func write(_ certificate: Certificate, key: P256.Signing.PrivateKey, to files: Files) throws {
        try certificate.serializeAsPEM().pemString.write(toFile: files.certificate, atomically: true, encoding: .utf8)
        unlink(files.key)
        guard FileManager.default.createFile(atPath: files.key, contents: Data(key.pemRepresentation.utf8), attributes: [.posixPermissions: 0o600]) else {
            throw CertificateFileError(message: "cannot write \(files.key)")
        }
        _ = chmod(files.key, 0o600)
    }

    static func IPv4Bytes(_ text: String) -> [UInt8]? {
        let parts = text.split(separator: ".")
        guard parts.count == 4 else { return nil }
        let bytes = parts.compactMap { UInt8($0) }
        return bytes.count == 4 ? bytes : nil
    }
}
