/// Reads a JSON document value by value, for readers that know what they expect (a
/// shape) and build their result as they go instead of from a parsed tree. The same
/// strict grammar, depth limit and errors as `JSON.parse`.
public struct JSONReader {
    public enum Kind: Sendable { case object, array, string, number, bool, null }

    // The reader keeps its own position, so that the steps a transcoder takes per token
    // (whitespace, brackets, separators, plain strings) can be inlined into it; whole
    // values and escaped strings are left to the parser, started where the reader stands.
    @usableFromInline let buffer: UnsafeBufferPointer<UInt8>
    @usableFromInline let maxDepth: Int
    @usableFromInline var index = 0
    @usableFromInline var depth = 0

    /// `buffer` must stay valid while the reader is used.
    public init(_ buffer: UnsafeBufferPointer<UInt8>, maxDepth: Int = 512) {
        self.buffer = buffer
        self.maxDepth = maxDepth
        skipWhitespace()
    }

    /// What the next value is, or nil at the end or before a byte no value starts with.
    @inlinable @inline(__always)
    public mutating func peek() -> Kind? {
        skipWhitespace()
        guard index < buffer.count else { return nil }
        switch buffer[index] {
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
        skipWhitespace()
        return try withParser { parser throws(JSONParseError) in try parser.parseValue() }
    }

    /// Consumes a `null` if one is next.
    @inlinable @inline(__always)
    public mutating func readNullIfPresent() throws(JSONParseError) -> Bool {
        guard peek() == .null else { return false }
        try readNull()
        return true
    }

    /// Reads an object, calling `member` with each key while the reader stands at its
    /// value; `member` must read that value.
    public mutating func readObject(_ member: (inout JSONReader, String) throws(JSONParseError) -> Void) throws(JSONParseError) {
        guard try enterObject() else { return }
        repeat {
            skipWhitespace()
            guard index < buffer.count else { throw fail(.unexpectedEnd) }
            guard buffer[index] == UInt8(ascii: "\"") else { throw fail(.unexpectedByte(buffer[index])) }
            let key = try withParser { parser throws(JSONParseError) in try parser.parseString() }
            try colon()
            skipWhitespace()
            try member(&self, key)
        } while try nextObjectMember()
    }

    /// Reads an array, calling `element` while the reader stands at each element.
    public mutating func readArray(_ element: (inout JSONReader) throws(JSONParseError) -> Void) throws(JSONParseError) {
        guard try enterArray() else { return }
        repeat {
            skipWhitespace()
            try element(&self)
        } while try nextArrayElement()
    }

    // MARK: Steps the parser takes

    @inlinable @inline(__always)
    mutating func skipWhitespace() {
        while index < buffer.count {
            switch buffer[index] {
            case 0x20, 0x0A, 0x0D, 0x09: index += 1
            default: return
            }
        }
    }

    @inlinable
    func fail(_ reason: JSONParseError.Reason) -> JSONParseError {
        JSONParseError(reason: reason, offset: index)
    }

    /// Runs the parser from where the reader stands, and moves the reader past what it read.
    private mutating func withParser<T>(_ body: (inout JSONParser) throws(JSONParseError) -> T) throws(JSONParseError) -> T {
        var parser = JSONParser(buffer: buffer, maxDepth: maxDepth)
        parser.index = index
        parser.depth = depth
        defer { index = parser.index }
        return try body(&parser)
    }

    @usableFromInline
    mutating func readNull() throws(JSONParseError) {
        try withParser { parser throws(JSONParseError) in try parser.expectLiteral("null") }
    }

    // MARK: Pulling tokens (for transcoders that copy bytes instead of building values)

    /// A string read in place: its content bytes lie in `bytes[start..<end]`, valid UTF-8;
    /// `decoded` is set only when the text had escapes, so the raw bytes are not its value.
    public struct StringToken {
        public let start: Int
        public let end: Int
        public let decoded: String?

        @inlinable
        init(start: Int, end: Int, decoded: String?) {
            self.start = start
            self.end = end
            self.decoded = decoded
        }
    }

    /// The document being read, and how far it has been read.
    @inlinable public var bytes: UnsafeBufferPointer<UInt8> { buffer }
    @inlinable public var offset: Int { index }

    /// Reads a string (the reader must stand at one), checked as `readValue` checks it.
    @inlinable
    public mutating func readStringToken() throws(JSONParseError) -> StringToken {
        skipWhitespace()
        let quote = index
        guard quote < buffer.count, buffer[quote] == UInt8(ascii: "\"") else {
            throw fail(quote < buffer.count ? .unexpectedByte(buffer[quote]) : .unexpectedEnd)
        }
        var end = quote + 1
        // Bytes at or above 0x80 seen (perhaps a few past the string): then it is validated.
        var highBits: UInt64 = 0
        while true {
            // Eight bytes at a time up to the first quote, backslash or control byte.
            if end + 8 <= buffer.count, let base = buffer.baseAddress {
                let word = UInt64(littleEndian: UnsafeRawPointer(base + end).loadUnaligned(as: UInt64.self))
                highBits |= word
                let special = JSONReader.specialBytes(word)
                if special == 0 {
                    end += 8
                    continue
                }
                end += special.trailingZeroBitCount >> 3
            } else {
                guard end < buffer.count else { break }
                let byte = buffer[end]
                if byte != UInt8(ascii: "\"") && byte != UInt8(ascii: "\\") && byte >= 0x20 {
                    highBits |= UInt64(byte)
                    end += 1
                    continue
                }
            }
            let byte = buffer[end]
            if byte == UInt8(ascii: "\"") {
                index = end + 1
                if highBits & 0x8080_8080_8080_8080 != 0 { try validate(from: quote + 1, to: end) }
                return StringToken(start: quote + 1, end: end, decoded: nil)
            }
            if byte == UInt8(ascii: "\\") { break }
            index = end
            throw fail(.unexpectedByte(byte))
        }
        return try readEscapedString(at: quote)
    }

    /// Fails unless `buffer[start..<end]` is valid UTF-8.
    @usableFromInline
    func validate(from start: Int, to end: Int) throws(JSONParseError) {
        guard UTF8Validation.isValid(UnsafeBufferPointer(rebasing: buffer[start..<end])) else {
            throw JSONParseError(reason: .invalidUTF8, offset: start)
        }
    }

    /// A string with escapes (or cut off): the parser's own decoding checks and decodes it.
    @usableFromInline
    mutating func readEscapedString(at quote: Int) throws(JSONParseError) -> StringToken {
        index = quote
        let decoded = try withParser { parser throws(JSONParseError) in try parser.parseString() }
        return StringToken(start: quote + 1, end: index - 1, decoded: decoded)
    }

    /// The high bit set in the first byte of `word` that is a quote, a backslash or below
    /// 0x20, or 0 if none is (bit tricks: a byte is zero after the XOR exactly where it
    /// matched, and subtracting borrows into its high bit; bits above the first match may
    /// be wrong, the lowest is exact).
    @inlinable @inline(__always)
    static func specialBytes(_ word: UInt64) -> UInt64 {
        let ones: UInt64 = 0x0101_0101_0101_0101, highs: UInt64 = 0x8080_8080_8080_8080
        let quotes = word ^ (ones &* 0x22), backslashes = word ^ (ones &* 0x5C)
        let zeroQuote = (quotes &- ones) & ~quotes
        let zeroBackslash = (backslashes &- ones) & ~backslashes
        let control = (word &- ones &* 0x20) & ~word
        return (zeroQuote | zeroBackslash | control) & highs
    }

    /// Enters an object; false when it is empty (and already left).
    @inlinable @inline(__always)
    public mutating func enterObject() throws(JSONParseError) -> Bool {
        try open(UInt8(ascii: "{"), closing: UInt8(ascii: "}"))
    }

    /// Enters an array; false when it is empty (and already left).
    @inlinable @inline(__always)
    public mutating func enterArray() throws(JSONParseError) -> Bool {
        try open(UInt8(ascii: "["), closing: UInt8(ascii: "]"))
    }

    /// Reads a member's key and the colon after it; the reader then stands at its value.
    @inlinable @inline(__always)
    public mutating func readKeyToken() throws(JSONParseError) -> StringToken {
        let key = try readStringToken()
        try colon()
        return key
    }

    /// After an object's member: true if another follows, false at the closing brace
    /// (the object is then left).
    @inlinable @inline(__always)
    public mutating func nextObjectMember() throws(JSONParseError) -> Bool {
        try next(closing: UInt8(ascii: "}"))
    }

    /// After an array's element: true if another follows, false at the closing bracket.
    @inlinable @inline(__always)
    public mutating func nextArrayElement() throws(JSONParseError) -> Bool {
        try next(closing: UInt8(ascii: "]"))
    }

    /// The colon after a key.
    @inlinable @inline(__always)
    mutating func colon() throws(JSONParseError) {
        skipWhitespace()
        guard index < buffer.count else { throw fail(.unexpectedEnd) }
        guard buffer[index] == UInt8(ascii: ":") else { throw fail(.unexpectedByte(buffer[index])) }
        index += 1
    }

    /// After a member or element: a comma (true), or the closing bracket (false; the
    /// object or array is left). Both are consumed.
    @inlinable @inline(__always)
    mutating func next(closing: UInt8) throws(JSONParseError) -> Bool {
        skipWhitespace()
        guard index < buffer.count else { throw fail(.unexpectedEnd) }
        let byte = buffer[index]
        index += 1
        if byte == UInt8(ascii: ",") { return true }
        guard byte == closing else {
            index -= 1
            throw fail(.unexpectedByte(byte))
        }
        depth -= 1
        return false
    }

    /// Enters an object or array: false (and nothing left to read) when it is empty.
    @inlinable @inline(__always)
    mutating func open(_ bracket: UInt8, closing: UInt8) throws(JSONParseError) -> Bool {
        skipWhitespace()
        guard index < buffer.count else { throw fail(.unexpectedEnd) }
        guard buffer[index] == bracket else { throw fail(.unexpectedByte(buffer[index])) }
        depth += 1
        if depth > maxDepth { throw fail(.tooDeep(limit: maxDepth)) }
        index += 1
        skipWhitespace()
        if index < buffer.count, buffer[index] == closing {
            index += 1
            depth -= 1
            return false
        }
        return true
    }

    /// Fails unless only whitespace is left.
    public mutating func finish() throws(JSONParseError) {
        skipWhitespace()
        if index != buffer.count { throw JSONParseError(reason: .trailingBytes, offset: index) }
    }
}
