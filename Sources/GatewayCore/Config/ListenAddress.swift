import Foundation

/// A listener address: `unix:PATH`, `tcp:HOST:PORT` or `tls:HOST:PORT`.
public enum ListenAddress: Sendable, Equatable, CustomStringConvertible {
    case unix(path: String)
    case tcp(host: String, port: Int)
    case tls(host: String, port: Int)

    public init?(_ text: String) {
        if text.hasPrefix("unix:") {
            let path = String(text.dropFirst(5))
            guard !path.isEmpty else { return nil }
            self = .unix(path: path)
            return
        }
        let isTLS = text.hasPrefix("tls:")
        guard isTLS || text.hasPrefix("tcp:") else { return nil }
        let rest = text.dropFirst(4)
        guard let colon = rest.lastIndex(of: ":"), let port = Int(rest[rest.index(after: colon)...]), (0...65535).contains(port) else { return nil }
        var host = String(rest[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty else { return nil }
        self = isTLS ? .tls(host: host, port: port) : .tcp(host: host, port: port)
    }

    static func validate(_ text: String) -> String? {
        ListenAddress(text) == nil ? "expected unix:PATH, tcp:HOST:PORT or tls:HOST:PORT" : nil
    }

    public var description: String {
        switch self {
        case .unix(let path): return "unix:\(path)"
        case .tcp(let host, let port): return "tcp:\(host.contains(":") ? "[\(host)]" : host):\(port)"
        case .tls(let host, let port): return "tls:\(host.contains(":") ? "[\(host)]" : host):\(port)"
        }
    }

    /// True for 127.0.0.0/8, ::1 and localhost.
    /// Whether a bound IP address is a loopback one: 127.0.0.0/8, ::1, or an IPv4-mapped
    /// loopback address (::ffff:127.x.y.z). Decided on the resolved address, never on
    /// the text a user wrote (a name starting with "127." may resolve anywhere).
    public static func isLoopback(ipv4 bytes: [UInt8]) -> Bool { bytes.count == 4 && bytes[0] == 127 }

    public static func isLoopback(ipv6 bytes: [UInt8]) -> Bool {
        guard bytes.count == 16 else { return false }
        if bytes[0..<15].allSatisfy({ $0 == 0 }) && bytes[15] == 1 { return true }
        return bytes[0..<10].allSatisfy({ $0 == 0 }) && bytes[10] == 0xFF && bytes[11] == 0xFF && bytes[12] == 127
    }
}
