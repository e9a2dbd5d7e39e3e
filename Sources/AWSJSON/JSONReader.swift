/// Reads a JSON document value by value, for readers that know what they expect (a
/// shape) and build their result as they go instead of from a parsed tree. The same
/// strict grammar, depth limit and errors as `JSON.parse`.
public struct JSONReader {
    public enum Kind: Sendable { case object, array, string, number, bool, null }

    private var parser: JSONParser

    /// `buffer` must stay valid while the reader is used.
    public init(_ buffer: UnsafeBufferPointer<UInt8>, maxDepth: Int = 512) {
        parser = JSONParser(buffer: buffer, maxDepth: maxDepth)
        parser.skipWhitespace()
    }

    /// What the next value is, or nil at the end or before a byte no value starts with.
    public mutating func peek() -> Kind? {
        parser.skipWhitespace()
        guard parser.index < parser.buffer.count else { return nil }
        switch parser.buffer[parser.index] {
        case UInt8(ascii: "{"): return .object
        case UInt8(ascii: "["): return .array
        case UInt8(ascii: "\""): return .string
        case UInt8(ascii: "t"), UInt8(ascii: "f"): return .bool
        case UInt8(ascii: "n"): return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number
        default: return nil
        }
    }

    /// The next value as a whole.
    public mutating func readValue() throws(JSONParseError) -> JSON {
        parser.skipWhitespace()
        return try parser.parseValue()
    }

    /// Consumes a `null` if one is next.
    public mutating func readNullIfPresent() throws(JSONParseError) -> Bool {
        guard peek() == .null else { return false }
        try parser.expectLiteral("null")
        return true
    }

    /// Reads an object, calling `member` with each key while the reader stands at its
    /// value; `member` must read that value.
    public mutating func readObject(_ member: (inout JSONReader, String) throws(JSONParseError) -> Void) throws(JSONParseError) {
        guard try open(UInt8(ascii: "{"), closing: UInt8(ascii: "}")) else { return }
        while true {
            parser.skipWhitespace()
            guard parser.index < parser.buffer.count else { throw parser.fail(.unexpectedEnd) }
            guard parser.buffer[parser.index] == UInt8(ascii: "\"") else { throw parser.fail(.unexpectedByte(parser.buffer[parser.index])) }
            let key = try parser.parseString()
            parser.skipWhitespace()
            guard parser.index < parser.buffer.count else { throw parser.fail(.unexpectedEnd) }
            guard parser.buffer[parser.index] == UInt8(ascii: ":") else { throw parser.fail(.unexpectedByte(parser.buffer[parser.index])) }
            parser.index += 1
            parser.skipWhitespace()
            try member(&self, key)
            try separator(closing: UInt8(ascii: "}"))
            if parser.buffer[parser.index - 1] == UInt8(ascii: "}") { break }
        }
        parser.depth -= 1
    }

    /// Reads an array, calling `element` while the reader stands at each element.
    public mutating func readArray(_ element: (inout JSONReader) throws(JSONParseError) -> Void) throws(JSONParseError) {
        guard try open(UInt8(ascii: "["), closing: UInt8(ascii: "]")) else { return }
        while true {
            parser.skipWhitespace()
            try element(&self)
            try separator(closing: UInt8(ascii: "]"))
            if parser.buffer[parser.index - 1] == UInt8(ascii: "]") { break }
        }
        parser.depth -= 1
    }

    // MARK: Pulling tokens (for transcoders that copy bytes instead of building values)

    /// A string read in place: its content bytes lie in `bytes[start..<end]`, valid UTF-8;
    /// `decoded` is set only when the text had escapes, so the raw bytes are not its value.
    public struct StringToken {
        public let start: Int
        public let end: Int
        public let decoded: String?
    }

    /// The document being read, and how far it has been read.
    public var bytes: UnsafeBufferPointer<UInt8> { parser.buffer }
    public var offset: Int { parser.index }

    /// Reads a string (the reader must stand at one), checked as `readValue` checks it.
    public mutating func readStringToken() throws(JSONParseError) -> StringToken {
        parser.skipWhitespace()
        let quote = parser.index
        guard quote < parser.buffer.count, parser.buffer[quote] == UInt8(ascii: "\"") else {
            throw parser.fail(quote < parser.buffer.count ? .unexpectedByte(parser.buffer[quote]) : .unexpectedEnd)
        }
        let buffer = parser.buffer
        var index = quote + 1
        // Bytes at or above 0x80 seen (perhaps a few past the string): then it is validated.
        var highBits: UInt64 = 0
        while true {
            // Eight bytes at a time up to the first quote, backslash or control byte.
            if index + 8 <= buffer.count, let base = buffer.baseAddress {
                let word = UInt64(littleEndian: UnsafeRawPointer(base + index).loadUnaligned(as: UInt64.self))
                highBits |= word
                let special = JSONReader.specialBytes(word)
                if special == 0 {
                    index += 8
                    continue
                }
                index += special.trailingZeroBitCount >> 3
            } else {
                guard index < buffer.count else { break }
                let byte = buffer[index]
                if byte != UInt8(ascii: "\"") && byte != UInt8(ascii: "\\") && byte >= 0x20 {
                    highBits |= UInt64(byte)
                    index += 1
                    continue
                }
            }
            let byte = buffer[index]
            if byte == UInt8(ascii: "\"") {
                parser.index = index + 1
                guard highBits & 0x8080_8080_8080_8080 == 0 || UTF8Validation.isValid(UnsafeBufferPointer(rebasing: buffer[(quote + 1)..<index])) else {
                    throw JSONParseError(reason: .invalidUTF8, offset: quote + 1)
                }
                return StringToken(start: quote + 1, end: index, decoded: nil)
            }
            if byte == UInt8(ascii: "\\") { break }
            parser.index = index
            throw parser.fail(.unexpectedByte(byte))
        }
        // Escapes (or the end): the parser's own decoding checks and decodes them.
        parser.index = quote
        let decoded = try parser.parseString()
        return StringToken(start: quote + 1, end: parser.index - 1, decoded: decoded)
    }

    /// The high bit set in the first byte of `word` that is a quote, a backslash or below
    /// 0x20, or 0 if none is (bit tricks: a byte is zero after the XOR exactly where it
    /// matched, and subtracting borrows into its high bit; bits above the first match may
    /// be wrong, the lowest is exact).
    @inline(__always)
    static func specialBytes(_ word: UInt64) -> UInt64 {
        let ones: UInt64 = 0x0101_0101_0101_0101, highs: UInt64 = 0x8080_8080_8080_8080
        let quotes = word ^ (ones &* 0x22), backslashes = word ^ (ones &* 0x5C)
        let zeroQuote = (quotes &- ones) & ~quotes
        let zeroBackslash = (backslashes &- ones) & ~backslashes
        let control = (word &- ones &* 0x20) & ~word
        return (zeroQuote | zeroBackslash | control) & highs
    }

    /// Enters an object; false when it is empty (and already left).
    public mutating func enterObject() throws(JSONParseError) -> Bool {
        try open(UInt8(ascii: "{"), closing: UInt8(ascii: "}"))
    }

    /// Enters an array; false when it is empty (and already left).
    public mutating func enterArray() throws(JSONParseError) -> Bool {
        try open(UInt8(ascii: "["), closing: UInt8(ascii: "]"))
    }

    /// Reads a member's key and the colon after it; the reader then stands at its value.
    public mutating func readKeyToken() throws(JSONParseError) -> StringToken {
        let key = try readStringToken()
        parser.skipWhitespace()
        guard parser.index < parser.buffer.count else { throw parser.fail(.unexpectedEnd) }
        guard parser.buffer[parser.index] == UInt8(ascii: ":") else { throw parser.fail(.unexpectedByte(parser.buffer[parser.index])) }
        parser.index += 1
        return key
    }

    /// After an object's member: true if another follows, false at the closing brace
    /// (the object is then left).
    public mutating func nextObjectMember() throws(JSONParseError) -> Bool {
        try next(closing: UInt8(ascii: "}"))
    }

    /// After an array's element: true if another follows, false at the closing bracket.
    public mutating func nextArrayElement() throws(JSONParseError) -> Bool {
        try next(closing: UInt8(ascii: "]"))
    }

    private mutating func next(closing: UInt8) throws(JSONParseError) -> Bool {
        try separator(closing: closing)
        if parser.buffer[parser.index - 1] == closing {
            parser.depth -= 1
            return false
        }
        return true
    }

    /// Enters an object or array: false (and nothing left to read) when it is empty.
    private mutating func open(_ bracket: UInt8, closing: UInt8) throws(JSONParseError) -> Bool {
        parser.skipWhitespace()
        guard parser.index < parser.buffer.count else { throw parser.fail(.unexpectedEnd) }
        guard parser.buffer[parser.index] == bracket else { throw parser.fail(.unexpectedByte(parser.buffer[parser.index])) }
        try parser.enter()
        parser.index += 1
        parser.skipWhitespace()
        if parser.index < parser.buffer.count, parser.buffer[parser.index] == closing {
            parser.index += 1
            parser.depth -= 1
            return false
        }
        return true
    }

    /// After a member or element: a comma, or the closing bracket (both consumed).
    private mutating func separator(closing: UInt8) throws(JSONParseError) {
        parser.skipWhitespace()
        guard parser.index < parser.buffer.count else { throw parser.fail(.unexpectedEnd) }
        let byte = parser.buffer[parser.index]
        guard byte == UInt8(ascii: ",") || byte == closing else { throw parser.fail(.unexpectedByte(byte)) }
        parser.index += 1
    }

    /// Fails unless only whitespace is left.
    public mutating func finish() throws(JSONParseError) {
        parser.skipWhitespace()
        if parser.index != parser.buffer.count { throw JSONParseError(reason: .trailingBytes, offset: parser.index) }
    }
}
