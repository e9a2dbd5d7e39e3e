import Foundation

/// A self-signed certificate and key (PEM) for `localhost` and 127.0.0.1, made with the
/// `openssl` command: for tests of TLS outside the gateway (the Redis client's), which
/// must not lean on the gateway's own certificate code.
public enum SelfSignedCertificate {
    public struct Failed: Error, CustomStringConvertible {
        public let description: String
    }

    public static func make(in dir: String) throws -> (certificate: String, key: String) {
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let certificate = dir + "/server.pem", key = dir + "/server.key"
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        process.arguments = ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2",
                             "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
                             "-keyout", key, "-out", certificate]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw Failed(description: "openssl req exited with \(process.terminationStatus)") }
        return (certificate, key)
    }
}
