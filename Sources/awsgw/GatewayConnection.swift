import AWSPrimitives
import AsyncHTTPClient
import Foundation
import GatewayCore
import NIOCore
import NIOSSL

/// How `awsgw call` reaches a running gateway: the URL for a listener address, TLS with a
/// CA to trust and a client certificate for mTLS, and what to say when it cannot connect.
struct GatewayConnection {
    let address: ListenAddress
    /// PEM files: the CA to trust (`--ca`), the client certificate and key (`--cert`, `--key`).
    var ca: String?
    var clientCertificate: String?
    var clientKey: String?

    var url: String {
        switch address {
        case .unix(let path): return "http+unix://" + PercentEncoding.encode(path) + "/"
        case .tcp(let host, let port): return "http://\(Self.hostText(host)):\(port)/"
        case .tls(let host, let port): return "https://\(Self.hostText(host)):\(port)/"
        }
    }

    static func hostText(_ host: String) -> String { host.contains(":") ? "[\(host)]" : host }

    /// The HTTP client's settings; a certificate or key that cannot be read is an error here,
    /// before anything is sent.
    func configuration() throws -> HTTPClient.Configuration {
        var configuration = HTTPClient.Configuration()
        // One attempt: a refused connection or a failed handshake is said at once, not
        // retried until the connect timeout.
        configuration.connectionPool.retryConnectionEstablishment = false
        guard case .tls = address else { return configuration }
        var tls = TLSConfiguration.makeClientConfiguration()
        if let ca { tls.trustRoots = .file(ca) }
        if let clientCertificate, let clientKey {
            do {
                tls.certificateChain = try NIOSSLCertificate.fromPEMFile(clientCertificate).map { .certificate($0) }
                tls.privateKey = .privateKey(try NIOSSLPrivateKey(file: clientKey, format: .pem))
            } catch {
                throw ConnectionSetupError(message: "cannot read the client certificate \(clientCertificate) or key \(clientKey): \(error)")
            }
        }
        configuration.tlsConfiguration = tls
        return configuration
    }

    /// A few words on why the connection failed and what to change, without NIO's
    /// internals. On a plain `tcp:` address that the peer closed, it asks the port for a
    /// TLS handshake to tell a TLS listener from a dead one.
    func diagnose(_ error: Error) async -> String {
        let text = "\(error)".uppercased()
        if text.contains("CERTIFICATE_REQUIRED") || text.contains("PEER_DID_NOT_RETURN_A_CERTIFICATE") {
            return "the gateway asks for a client certificate: give --cert FILE and --key FILE (or AWSGW_CLIENT_CERT and AWSGW_CLIENT_KEY)"
        }
        if text.contains("ALERT_UNKNOWN_CA") || text.contains("ALERT_BAD_CERTIFICATE") || text.contains("ALERT_CERTIFICATE_UNKNOWN") {
            return "the gateway refused the client certificate: is it signed by the gateway's tls.client_ca?"
        }
        if text.contains("CERTIFICATE_VERIFY_FAILED") {
            return "the gateway's certificate is not trusted: give --ca FILE (its certificate, or the CA that signed it; or AWSGW_CA)"
        }
        if text.contains("WRONG_VERSION_NUMBER") || text.contains("HTTP_REQUEST") {
            if case .tls(let host, let port) = address { return "it does not speak TLS: try --connect tcp:\(Self.hostText(host)):\(port)" }
        }
        let lower = text.lowercased()
        let notRunning = " — is `awsgw serve` running there?"
        if lower.contains("refused") { return "connection refused" + notRunning }
        if lower.contains("no such file") || lower.contains("enoent") { return "no such socket" + notRunning }
        if lower.contains("permission") || lower.contains("eacces") { return "permission denied" }
        if lower.contains("timeout") || lower.contains("timed out") { return "timed out" }
        if case .tcp(let host, let port) = address, await Self.speaksTLS(host: host, port: port) {
            return "it speaks TLS: use --connect tls:\(Self.hostText(host)):\(port) (with --ca FILE for a development certificate)"
        }
        if lower.contains("ssl") || lower.contains("tls") { return "the TLS handshake failed" }
        return "cannot connect"
    }

    /// Whether the port answers a TLS handshake (its certificate not checked: only the
    /// protocol is asked). A TLS alert, such as asking for a client certificate, is TLS too.
    static func speaksTLS(host: String, port: Int) async -> Bool {
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool.retryConnectionEstablishment = false
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.certificateVerification = .none
        configuration.tlsConfiguration = tls
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        defer { _ = client.shutdown() }
        do {
            _ = try await client.execute(HTTPClientRequest(url: "https://\(hostText(host)):\(port)/healthz"), timeout: .seconds(3))
            return true
        } catch {
            let text = "\(error)".uppercased()
            return text.contains("ALERT") && !text.contains("WRONG_VERSION_NUMBER")
        }
    }
}

struct ConnectionSetupError: Error, CustomStringConvertible {
    let message: String
    var description: String { message }
}
