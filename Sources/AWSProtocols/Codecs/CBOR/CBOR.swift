import AWSJSON

/// One CBOR data item (RFC 8949) as the decoder reads it.
public indirect enum CBORValue: Sendable, Equatable {
    case unsigned(UInt64)
    /// A negative integer: the value is `-1 - n`.
    case negative(UInt64)
    case bytes([UInt8])
    case text(String)
    case array([CBORValue])
    case map([(key: CBORValue, value: CBORValue)])
    case tag(UInt64, CBORValue)
    case bool(Bool)
    case null
    case undefined
    case float(Double)

    public static func == (lhs: CBORValue, rhs: CBORValue) -> Bool {
        switch (lhs, rhs) {
        case (.unsigned(let a), .unsigned(let b)): return a == b
        case (.negative(let a), .negative(let b)): return a == b
        case (.bytes(let a), .bytes(let b)): return a == b
        case (.text(let a), .text(let b)): return a == b
        case (.array(let a), .array(let b)): return a == b
        case (.map(let a), .map(let b)):
            return a.count == b.count && zip(a, b).allSatisfy { $0.key == $1.key && $0.value == $1.value }
        case (.tag(let a, let x), .tag(let b, let y)): return a == b && x == y
        case (.bool(let a), .bool(let b)): return a == b
        case (.null, .null), (.undefined, .undefined): return true
        case (.float(let a), .float(let b)): return a == b || (a.isNaN && b.isNaN)
        default: return false
        }
    }
}

/// Why some bytes are not one well-formed CBOR item.
public struct CBORError: Error, Sendable, CustomStringConvertible {
    public let message: String
    public let offset: Int
    public var description: String { "invalid CBOR at byte \(offset): \(message)" }
}

/// A strict CBOR decoder: definite and indefinite lengths, integers and floats of every
/// width, tags; lengths are checked against the input before anything is allocated,
/// nesting is bounded, text must be UTF-8, and a malformed item is an error, never a crash.
public struct CBORDecoder {
    public static let maxDepth = 256
    let bytes: [UInt8]
    var offset = 0
    var depth = 0

    public static func decode(_ bytes: [UInt8]) throws(CBORError) -> CBORValue {
        var decoder = CBORDecoder(bytes: bytes)
        let value = try decoder.item()
        guard decoder.offset == bytes.count else { throw CBORError(message: "data after the item", offset: decoder.offset) }
        return value
    }

    init(bytes: [UInt8]) { self.bytes = bytes }

    func fail(_ message: String) -> CBORError { CBORError(message: message, offset: offset) }

    mutating func byte() throws(CBORError) -> UInt8 {
        guard offset < bytes.count else { throw fail("unexpected end") }
        defer { offset += 1 }
        return bytes[offset]
    }

    mutating func take(_ count: UInt64) throws(CBORError) -> ArraySlice<UInt8> {
        guard count <= UInt64(bytes.count - offset) else { throw fail("a length of \(count) runs past the end") }
        let start = offset
        offset += Int(count)
        return bytes[start..<offset]
    }

    /// The argument of an initial byte (RFC 8949 §3); nil for an indefinite length.
    mutating func argument(_ info: UInt8) throws(CBORError) -> UInt64? {
        switch info {
        case 0..<24: return UInt64(info)
        case 24: return UInt64(try byte())
        case 25, 26, 27:
            let width = info == 25 ? 2 : info == 26 ? 4 : 8
            var value: UInt64 = 0
            for byte in try take(UInt64(width)) { value = value << 8 | UInt64(byte) }
            return value
        case 31: return nil
        default: throw fail("reserved additional information \(info)")
        }
    }

    mutating func item() throws(CBORError) -> CBORValue {
        let initial = try byte()
        let major = initial >> 5, info = initial & 0x1F
        switch major {
        case 0, 1:
            guard let value = try argument(info) else { throw fail("an integer cannot have an indefinite length") }
            return major == 0 ? .unsigned(value) : .negative(value)
        case 2, 3:
            var content: [UInt8]
            if let length = try argument(info) {
                content = Array(try take(length))
            } else {
                content = []
                while true {
                    let next = try byte()
                    if next == 0xFF { break }
                    guard next >> 5 == major, let length = try argument(next & 0x1F) else { throw fail("a bad chunk in an indefinite string") }
                    content.append(contentsOf: try take(length))
                }
            }
            if major == 2 { return .bytes(content) }
            // Our own check, then `String(decoding:)`: `String(validating:)` is generic and
            // looked up type metadata for every string.
            guard content.withUnsafeBufferPointer(UTF8Validation.isValid) else { throw fail("a text string that is not UTF-8") }
            let text = String(decoding: content, as: UTF8.self)
            return .text(text)
        case 4, 5:
            depth += 1
            guard depth <= CBORDecoder.maxDepth else { throw fail("nested deeper than \(CBORDecoder.maxDepth)") }
            defer { depth -= 1 }
            let length = try argument(info)
            // Each element takes at least one byte: a longer count cannot be honest.
            if let length, length > UInt64(bytes.count - offset) { throw fail("a count of \(length) runs past the end") }
            if major == 4 {
                var items: [CBORValue] = []
                if let length {
                    items.reserveCapacity(Int(length))
                    for _ in 0..<length { items.append(try item()) }
                } else {
                    while try !atBreak() { items.append(try item()) }
                }
                return .array(items)
            }
            var pairs: [(key: CBORValue, value: CBORValue)] = []
            if let length {
                for _ in 0..<length { pairs.append((try item(), try item())) }
            } else {
                while try !atBreak() { pairs.append((try item(), try item())) }
            }
            return .map(pairs)
        case 6:
            guard let tag = try argument(info) else { throw fail("a tag cannot have an indefinite length") }
            depth += 1
            guard depth <= CBORDecoder.maxDepth else { throw fail("nested deeper than \(CBORDecoder.maxDepth)") }
            defer { depth -= 1 }
            return .tag(tag, try item())
        default:
            switch info {
            case 20: return .bool(false)
            case 21: return .bool(true)
            case 22: return .null
            case 23: return .undefined
            case 25:
                let raw = try take(2)
                return .float(Double(Float16Bits.decode(UInt16(raw[raw.startIndex]) << 8 | UInt16(raw[raw.startIndex + 1]))))
            case 26:
                var value: UInt32 = 0
                for byte in try take(4) { value = value << 8 | UInt32(byte) }
                return .float(Double(Float(bitPattern: value)))
            case 27:
                var value: UInt64 = 0
                for byte in try take(8) { value = value << 8 | UInt64(byte) }
                return .float(Double(bitPattern: value))
            case 31: throw fail("a break outside an indefinite-length item")
            default: throw fail("unsupported simple value \(info)")
            }
        }
    }

    /// Consumes a break (0xFF) if one is next.
    mutating func atBreak() throws(CBORError) -> Bool {
        guard offset < bytes.count else { throw fail("an indefinite-length item is not closed") }
        if bytes[offset] == 0xFF {
            offset += 1
            return true
        }
        return false
    }
}

/// IEEE 754 half precision, decoded by hand (no Float16 on every platform).
enum Float16Bits {
    static func decode(_ bits: UInt16) -> Float {
        let sign: Float = bits & 0x8000 != 0 ? -1 : 1
        let exponent = Int((bits >> 10) & 0x1F), fraction = Float(bits & 0x3FF)
        switch exponent {
        case 0: return sign * fraction * Float(pow2: -24)
        case 31: return fraction == 0 ? sign * .infinity : .nan
        default: return sign * (1 + fraction / 1024) * Float(pow2: exponent - 15)
        }
    }
}

extension Float {
    init(pow2 exponent: Int) { self = Float(sign: .plus, exponent: exponent, significand: 1) }
}

/// CBOR writing as botocore's CBORSerializer does it: the shortest argument for every
/// length and integer, floats of the shape's width, non-finite floats as half precision.
struct CBORWriter {
    var bytes: [UInt8] = []

    mutating func head(_ major: UInt8, _ value: UInt64) {
        switch value {
        case 0..<24: bytes.append(major << 5 | UInt8(value))
        case 24..<256: bytes.append(contentsOf: [major << 5 | 24, UInt8(value)])
        case 256..<65536: bytes.append(major << 5 | 25); append(value, width: 2)
        case 65536..<4_294_967_296: bytes.append(major << 5 | 26); append(value, width: 4)
        default: bytes.append(major << 5 | 27); append(value, width: 8)
        }
    }

    mutating func append(_ value: UInt64, width: Int) {
        for shift in stride(from: (width - 1) * 8, through: 0, by: -8) { bytes.append(UInt8(truncatingIfNeeded: value >> UInt64(shift))) }
    }

    mutating func integer(_ value: Int64) {
        if value >= 0 { head(0, UInt64(value)) } else { head(1, UInt64(-1 - value)) }
    }

    mutating func text(_ value: String) {
        head(3, UInt64(value.utf8.count))
        bytes.append(contentsOf: value.utf8)
    }

    mutating func blob(_ value: [UInt8]) {
        head(2, UInt64(value.count))
        bytes.append(contentsOf: value)
    }

    mutating func bool(_ value: Bool) { bytes.append(value ? 0xF5 : 0xF4) }

    mutating func double(_ value: Double, single: Bool) {
        if value.isNaN { bytes.append(contentsOf: [0xF9, 0x7E, 0x00]); return }
        if value.isInfinite { bytes.append(contentsOf: value > 0 ? [0xF9, 0x7C, 0x00] : [0xF9, 0xFC, 0x00]); return }
        if single {
            bytes.append(0xFA)
            append(UInt64(Float(value).bitPattern), width: 4)
        } else {
            bytes.append(0xFB)
            append(value.bitPattern, width: 8)
        }
    }
}
