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
