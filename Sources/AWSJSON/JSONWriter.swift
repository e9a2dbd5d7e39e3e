/// How a JSON value is written out.
public struct JSONWriteStyle: Sendable {
    /// Separators `", "` and `": "` as Python's `json.dumps` writes by default.
    public var pythonSeparators: Bool
    /// Escape every non-ASCII character as `\uXXXX` (Python's `ensure_ascii=True`).
    public var asciiOnly: Bool

    public init(pythonSeparators: Bool, asciiOnly: Bool) {
        self.pythonSeparators = pythonSeparators
        self.asciiOnly = asciiOnly
    }

    /// Compact UTF-8, for JSON-RPC answers and logs.
    public static let compact = JSONWriteStyle(pythonSeparators: false, asciiOnly: false)
    /// Byte-for-byte what botocore's `json.dumps(body)` produces for request bodies.
    public static let botocore = JSONWriteStyle(pythonSeparators: true, asciiOnly: true)
}

extension JSON {
    public func serialized(_ style: JSONWriteStyle = .compact) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(128)
        write(to: &out, style: style)
        return out
    }

    public func serializedString(_ style: JSONWriteStyle = .compact) -> String {
        String(decoding: serialized(style), as: UTF8.self)
    }

    public func write(to out: inout [UInt8], style: JSONWriteStyle) {
        switch self {
        case .null: out.append(contentsOf: "null".utf8)
        case .fragment(let fragment):
            // Written compactly already; another style gets it written again.
            if !style.pythonSeparators && !style.asciiOnly { out.append(contentsOf: fragment.bytes) } else { fragment.value.write(to: &out, style: style) }
        case .bool(let b): out.append(contentsOf: (b ? "true" : "false").utf8)
        case .int(let i): JSON.writeInt(i, to: &out)
        case .double(let d): JSON.writeDouble(d, to: &out)
        case .string(let s): JSON.writeString(s, to: &out, asciiOnly: style.asciiOnly)
        case .array(let elements):
            out.append(UInt8(ascii: "["))
            for (i, element) in elements.enumerated() {
                if i > 0 {
                    out.append(UInt8(ascii: ","))
                    if style.pythonSeparators { out.append(UInt8(ascii: " ")) }
                }
                element.write(to: &out, style: style)
            }
            out.append(UInt8(ascii: "]"))
        case .object(let object):
            out.append(UInt8(ascii: "{"))
            for (i, member) in object.members.enumerated() {
                if i > 0 {
                    out.append(UInt8(ascii: ","))
                    if style.pythonSeparators { out.append(UInt8(ascii: " ")) }
                }
                JSON.writeString(member.key, to: &out, asciiOnly: style.asciiOnly)
                out.append(UInt8(ascii: ":"))
                if style.pythonSeparators { out.append(UInt8(ascii: " ")) }
                member.value.write(to: &out, style: style)
            }
            out.append(UInt8(ascii: "}"))
        }
    }

    /// An integer's decimal digits, written without making a String first.
    public static func writeInt(_ value: Int64, to out: inout [UInt8]) {
        if value < 0 { out.append(UInt8(ascii: "-")) }
        var magnitude = value.magnitude
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 20) { digits in
            var start = 20
            repeat {
                start -= 1
                digits[start] = UInt8(truncatingIfNeeded: magnitude % 10) + UInt8(ascii: "0")
                magnitude /= 10
            } while magnitude > 0
            out.append(contentsOf: UnsafeBufferPointer(rebasing: digits[start...]))
        }
    }

    /// Shortest round-trip form, as Python's `repr(float)`; non-finite values become the
    /// strings botocore sends for them.
    static func writeDouble(_ d: Double, to out: inout [UInt8]) {
        if d.isNaN {
            out.append(contentsOf: "\"NaN\"".utf8)
        } else if d.isInfinite {
            out.append(contentsOf: (d < 0 ? "\"-Infinity\"" : "\"Infinity\"").utf8)
        } else {
            out.append(contentsOf: pythonFloatRepr(d).utf8)
        }
    }

    private static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)

    /// No byte to escape: none below 0x20, no quote or backslash, and for ASCII-only
    /// output none at or above 0x7F.
    static func needsNoEscape(_ bytes: UnsafeBufferPointer<UInt8>, asciiOnly: Bool) -> Bool {
        var index = 0
        if let base = bytes.baseAddress {
            while index + 8 <= bytes.count {
                let word = UInt64(littleEndian: UnsafeRawPointer(base + index).loadUnaligned(as: UInt64.self))
                if JSONReader.specialBytes(word) != 0 { return false }
                // 0x7F and above: a high bit, or DEL (0x7F + 1 carries into the high bit).
                if asciiOnly, (word | (word &+ 0x0101_0101_0101_0101)) & 0x8080_8080_8080_8080 != 0 { return false }
                index += 8
            }
        }
        while index < bytes.count {
            let byte = bytes[index]
            if byte < 0x20 || byte == 0x22 || byte == 0x5C || (asciiOnly && byte >= 0x7F) { return false }
            index += 1
        }
        return true
    }

    /// Text given as bytes, written as compact output writes `String(decoding: bytes)`:
    /// copied when it needs no escape (and is UTF-8), else made a string and escaped.
    public static func writeString(utf8 bytes: UnsafeBufferPointer<UInt8>, to out: inout [UInt8]) {
        _ = writeString(utf8: bytes, to: &out, onlyIfValid: false)
    }

    /// The same; with `onlyIfValid`, text that is not UTF-8 writes nothing and gives false
    /// (checked in the same pass for plain ASCII, the common case).
    public static func writeString(utf8 bytes: UnsafeBufferPointer<UInt8>, to out: inout [UInt8], onlyIfValid: Bool) -> Bool {
        if needsNoEscape(bytes, asciiOnly: true) {
            // Plain ASCII (the common case): valid, and nothing to escape.
            appendQuoted(bytes, to: &out)
        } else if UTF8Validation.isValid(bytes) {
            writeValid(bytes, to: &out)
        } else {
            if onlyIfValid { return false }
            writeString(String(decoding: bytes, as: UTF8.self), to: &out, asciiOnly: false)
        }
        return true
    }

    /// Valid UTF-8 as a compact JSON string: copied when nothing needs escaping, else
    /// escaped byte by byte.
    static func writeValid(_ bytes: UnsafeBufferPointer<UInt8>, to out: inout [UInt8]) {
        if needsNoEscape(bytes, asciiOnly: false) { appendQuoted(bytes, to: &out) } else { writeEscaped(bytes, to: &out) }
    }

    @inline(__always)
    static func appendQuoted(_ bytes: UnsafeBufferPointer<UInt8>, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        out.append(contentsOf: bytes)
        out.append(UInt8(ascii: "\""))
    }

    /// The letter after the backslash for a character JSON escapes shortly (quote,
    /// backslash, \n \r \t \b \f), as Python's json module writes them.
    @inline(__always)
    static func shortEscape(_ byte: UInt8) -> UInt8? {
        switch byte {
        case 0x22: return 0x22
        case 0x5C: return 0x5C
        case 0x0A: return UInt8(ascii: "n")
        case 0x0D: return UInt8(ascii: "r")
        case 0x09: return UInt8(ascii: "t")
        case 0x08: return UInt8(ascii: "b")
        case 0x0C: return UInt8(ascii: "f")
        default: return nil
        }
    }

    /// Valid UTF-8 as a JSON string, escaped byte by byte: only quote, backslash and
    /// control characters are escaped when non-ASCII text is kept, and every byte of a
    /// multi-byte scalar is ≥ 0x80, so bytes can be taken one at a time.
    static func writeEscaped(_ bytes: UnsafeBufferPointer<UInt8>, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        var runStart = 0
        for (index, byte) in bytes.enumerated() where byte < 0x20 || byte == 0x22 || byte == 0x5C {
            out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart..<index]))
            runStart = index + 1
            if let letter = shortEscape(byte) {
                out.append(0x5C)
                out.append(letter)
            } else {
                out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0")])
                out.append(hexDigits[Int(byte >> 4)])
                out.append(hexDigits[Int(byte & 0xF)])
            }
        }
        out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart...]))
        out.append(UInt8(ascii: "\""))
    }

    public static func writeString(_ s: String, to out: inout [UInt8], asciiOnly: Bool) {
        if !asciiOnly {
            // A string is valid UTF-8.
            s.withUTF8Buffer { writeValid($0, to: &out) }
            return
        }
        out.append(UInt8(ascii: "\""))
        // Fast path: nothing to escape, the bytes copied at once from the string's storage
        // (checked eight at a time: the reader's test for quote, backslash and control bytes).
        let copied = s.utf8.withContiguousStorageIfAvailable { bytes -> Bool in
            guard JSON.needsNoEscape(bytes, asciiOnly: asciiOnly) else { return false }
            out.append(contentsOf: bytes)
            return true
        }
        if copied == true {
            out.append(UInt8(ascii: "\""))
            return
        }
        if copied == nil, !s.utf8.contains(where: { $0 < 0x20 || $0 == 0x22 || $0 == 0x5C || (asciiOnly && $0 >= 0x7F) }) {
            out.append(contentsOf: s.utf8)
            out.append(UInt8(ascii: "\""))
            return
        }
        func appendUnicodeEscape(_ unit: UInt16) {
            out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "u")])
            out.append(hexDigits[Int(unit >> 12) & 0xF])
            out.append(hexDigits[Int(unit >> 8) & 0xF])
            out.append(hexDigits[Int(unit >> 4) & 0xF])
            out.append(hexDigits[Int(unit) & 0xF])
        }
        for scalar in s.unicodeScalars {
            if scalar.value < 0x80, let letter = shortEscape(UInt8(scalar.value)) {
                out.append(0x5C)
                out.append(letter)
                continue
            }
            switch scalar.value {
            case 0..<0x20: appendUnicodeEscape(UInt16(scalar.value))
            case 0x7F... where asciiOnly:
                for unit in String(Character(scalar)).utf16 { appendUnicodeEscape(unit) }
            default: out.append(contentsOf: String(Character(scalar)).utf8)
            }
        }
        out.append(UInt8(ascii: "\""))
    }
}
