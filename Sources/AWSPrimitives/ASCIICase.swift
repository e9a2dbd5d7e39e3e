extension String {
    /// Whether the two are equal once ASCII capitals are made small, as HTTP header names
    /// compare. No lower-cased copies are made: this runs for headers on every call.
    @inlinable
    public func equalsIgnoringASCIICase(_ other: String) -> Bool {
        guard utf8.count == other.utf8.count else { return false }
        var a = self, b = other
        return a.withUTF8 { a in
            b.withUTF8 { b in
                for i in 0..<a.count where a[i] != b[i] && ASCIICase.lowercased(a[i]) != ASCIICase.lowercased(b[i]) { return false }
                return true
            }
        }
    }
}

public enum ASCIICase {
    /// `byte` made small when it is an ASCII capital.
    @inlinable @inline(__always)
    public static func lowercased(_ byte: UInt8) -> UInt8 { byte >= 0x41 && byte <= 0x5A ? byte | 0x20 : byte }
}
