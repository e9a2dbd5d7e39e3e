/// Percent-encoding as Python's `urllib.parse.quote` does it (which botocore uses for
/// URIs and query strings, and SigV4 for canonical requests): unreserved characters
/// `A-Z a-z 0-9 - _ . ~` and the given extra safe bytes stay, everything else is `%XX`
/// (upper-case hex) of its UTF-8 bytes.
public enum PercentEncoding {
    private static let hex: [UInt8] = Array("0123456789ABCDEF".utf8)

    @inline(__always)
    public static func isUnreserved(_ b: UInt8) -> Bool {
        (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || (b >= 0x30 && b <= 0x39) || b == 0x2D || b == 0x5F
            || b == 0x2E || b == 0x7E
    }

    public static func encode(_ s: String, safe: String = "") -> String {
        encode(s, safe: Array(safe.utf8))
    }

    public static func encode(_ s: String, safe: [UInt8]) -> String {
        // Fast path: nothing to encode.
        let plain = s.withUTF8Buffer { bytes -> Bool in
            for b in bytes where !isUnreserved(b) && !safe.contains(b) { return false }
            return true
        }
        if plain { return s }
        var out: [UInt8] = []
        encode(s, safe: safe, into: &out)
        return String(decoding: out, as: UTF8.self)
    }

    public static func encode(_ s: String, safe: [UInt8], into out: inout [UInt8]) {
        out.reserveCapacity(out.count + s.utf8.count)
        for b in s.utf8 {
            if isUnreserved(b) || (!safe.isEmpty && safe.contains(b)) {
                out.append(b)
            } else {
                out.append(0x25)
                out.append(hex[Int(b >> 4)])
                out.append(hex[Int(b & 0xF)])
            }
        }
    }

    /// Decodes `%XX` sequences (a malformed one is kept as it is). `+` is left alone.
    /// A query string's (or form body's) parameters, decoded; the first of a name given
    /// twice; a name without `=` has the empty value.
    public static func parameters(_ query: String) -> [String: String] {
        var out: [String: String] = [:]
        for pair in query.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = decode(String(parts[0]))
            if out[name] == nil { out[name] = parts.count > 1 ? decode(String(parts[1])) : "" }
        }
        return out
    }

    public static func decode(_ s: String) -> String {
        let bytes = Array(s.utf8)
        guard bytes.contains(0x25) else { return s }
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var i = 0
        while i < bytes.count {
            if bytes[i] == 0x25, i + 2 < bytes.count, let hi = Hex.value(of: bytes[i + 1]), let lo = Hex.value(of: bytes[i + 2]) {
                out.append(hi << 4 | lo)
                i += 3
            } else {
                out.append(bytes[i])
                i += 1
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}

extension String {
    /// The string's UTF-8 bytes as a buffer, without a copy for a native string: reading
    /// bytes this way costs several times less than walking `utf8` one at a time.
    @inline(__always)
    public func withUTF8Buffer<R>(_ body: (UnsafeBufferPointer<UInt8>) throws -> R) rethrows -> R {
        var text = self
        return try text.withUTF8(body)
    }
}
