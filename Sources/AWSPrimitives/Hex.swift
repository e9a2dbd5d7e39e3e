import Foundation

/// Lower-case hexadecimal text of bytes (signatures, digests, cache keys), and back.
public enum Hex {
    @usableFromInline static let digits: [UInt8] = Array("0123456789abcdef".utf8)

    /// Two lower-case digits per byte.
    @inlinable
    public static func encode<Bytes: ContiguousBytes>(_ bytes: Bytes) -> String {
        bytes.withUnsafeBytes { raw in
            String(unsafeUninitializedCapacity: raw.count * 2) { out in
                write(raw, to: out)
                return raw.count * 2
            }
        }
    }

    /// Appends two lower-case digits per byte to `out`.
    @inlinable
    public static func append<Bytes: ContiguousBytes>(_ bytes: Bytes, to out: inout [UInt8]) {
        bytes.withUnsafeBytes { raw in
            let start = out.count
            out.append(contentsOf: repeatElement(0, count: raw.count * 2))
            out.withUnsafeMutableBufferPointer { write(raw, to: UnsafeMutableBufferPointer(rebasing: $0[start...])) }
        }
    }

    @inlinable
    static func write(_ bytes: UnsafeRawBufferPointer, to out: UnsafeMutableBufferPointer<UInt8>) {
        digits.withUnsafeBufferPointer { digits in
            for (i, byte) in bytes.enumerated() {
                out[2 * i] = digits[Int(byte >> 4)]
                out[2 * i + 1] = digits[Int(byte & 0xF)]
            }
        }
    }

    /// The bytes of hex text (either case); nil for an odd length or a non-digit.
    public static func decode(_ text: String) -> [UInt8]? {
        let chars = Array(text.utf8)
        guard chars.count % 2 == 0 else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(chars.count / 2)
        var i = 0
        while i < chars.count {
            guard let high = value(of: chars[i]), let low = value(of: chars[i + 1]) else { return nil }
            bytes.append(high << 4 | low)
            i += 2
        }
        return bytes
    }

    /// One hex digit's value (either case).
    @inlinable
    public static func value(of digit: UInt8) -> UInt8? {
        switch digit {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return digit - UInt8(ascii: "0")
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return digit - UInt8(ascii: "A") + 10
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return digit - UInt8(ascii: "a") + 10
        default: return nil
        }
    }
}
