/// A Redis reply (RESP2, and the RESP3 types a server may send after `HELLO 3`).
public enum RESPValue: Sendable, Equatable {
    case simpleString(String)
    case error(String)
    case integer(Int64)
    /// nil: the null bulk string (`$-1`).
    case bulkString([UInt8]?)
    /// nil: the null array (`*-1`).
    case array([RESPValue]?)
    case null
    case boolean(Bool)
    case double(Double)
    case map([(RESPValue, RESPValue)])

    public static func == (lhs: RESPValue, rhs: RESPValue) -> Bool {
        switch (lhs, rhs) {
        case let (.simpleString(a), .simpleString(b)), let (.error(a), .error(b)): return a == b
        case let (.integer(a), .integer(b)): return a == b
        case let (.bulkString(a), .bulkString(b)): return a == b
        case let (.array(a), .array(b)): return a == b
        case (.null, .null): return true
        case let (.boolean(a), .boolean(b)): return a == b
        case let (.double(a), .double(b)): return a == b || (a.isNaN && b.isNaN)
        case let (.map(a), .map(b)): return a.count == b.count && zip(a, b).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
        default: return false
        }
    }

    /// The text of a simple or bulk string.
    public var string: String? {
        switch self {
        case .simpleString(let s): return s
        case .bulkString(let bytes?): return String(decoding: bytes, as: UTF8.self)
        default: return nil
        }
    }

    public var int: Int64? {
        if case .integer(let i) = self { return i }
        return nil
    }

    public var isNull: Bool {
        switch self {
        case .null, .bulkString(nil), .array(nil): return true
        default: return false
        }
    }
}

/// A reply that breaks the protocol: the connection it came on cannot be trusted further.
public struct RESPProtocolError: Error, Sendable, CustomStringConvertible {
    public let description: String
}

/// Reads replies from bytes as they arrive, strictly: a type byte it does not know, a
/// length or integer that is not one, a missing CRLF or a value over the limits is an
/// error, never a guess. Incomplete input gives nil until the rest arrives.
public struct RESPParser: Sendable {
    /// The largest bulk string accepted (Redis's own limit is 512 MB; awsgw stores less).
    public var maxBulkBytes = 64 << 20
    public var maxElements = 1 << 20
    public var maxDepth = 32

    public init() {}

    /// The first complete reply in `bytes[from...]` and where it ends, or nil if more
    /// bytes are needed.
    public func parse(_ bytes: [UInt8], from start: Int = 0) throws(RESPProtocolError) -> (value: RESPValue, end: Int)? {
        var index = start
        guard let value = try value(bytes, &index, depth: 0) else { return nil }
        return (value, index)
    }

    private func value(_ bytes: [UInt8], _ index: inout Int, depth: Int) throws(RESPProtocolError) -> RESPValue? {
        guard depth <= maxDepth else { throw RESPProtocolError(description: "reply nested deeper than \(maxDepth)") }
        guard index < bytes.count else { return nil }
        let type = bytes[index]
        var cursor = index + 1
        guard let line = try self.line(bytes, &cursor) else { return nil }
        let result: RESPValue
        switch type {
        case UInt8(ascii: "+"): result = .simpleString(String(decoding: line, as: UTF8.self))
        case UInt8(ascii: "-"): result = .error(String(decoding: line, as: UTF8.self))
        case UInt8(ascii: ":"): result = .integer(try integer(line))
        case UInt8(ascii: "_"):
            guard line.isEmpty else { throw RESPProtocolError(description: "a null with content") }
            result = .null
        case UInt8(ascii: "#"):
            guard line.count == 1, let flag = line.first, flag == UInt8(ascii: "t") || flag == UInt8(ascii: "f") else {
                throw RESPProtocolError(description: "a boolean that is not t or f")
            }
            result = .boolean(flag == UInt8(ascii: "t"))
        case UInt8(ascii: ","):
            let text = String(decoding: line, as: UTF8.self)
            guard let d = text == "inf" ? Double.infinity : text == "-inf" ? -Double.infinity : Double(text) else {
                throw RESPProtocolError(description: "a double that is not a number")
            }
            result = .double(d)
        case UInt8(ascii: "$"), UInt8(ascii: "="), UInt8(ascii: "!"):
            let length = try integer(line)
            if length == -1, type == UInt8(ascii: "$") {
                result = .bulkString(nil)
                break
            }
            guard length >= 0, length <= maxBulkBytes else { throw RESPProtocolError(description: "a bulk length of \(length)") }
            let count = Int(length)
            guard cursor + count + 2 <= bytes.count else { return nil }
            guard bytes[cursor + count] == 0x0D, bytes[cursor + count + 1] == 0x0A else {
                throw RESPProtocolError(description: "a bulk string without its CRLF")
            }
            let payload = Array(bytes[cursor..<(cursor + count)])
            cursor += count + 2
            if type == UInt8(ascii: "!") { result = .error(String(decoding: payload, as: UTF8.self)) } else { result = .bulkString(payload) }
        case UInt8(ascii: "*"), UInt8(ascii: "~"), UInt8(ascii: ">"), UInt8(ascii: "%"):
            let length = try integer(line)
            if length == -1, type == UInt8(ascii: "*") {
                result = .array(nil)
                break
            }
            guard length >= 0, length <= maxElements else { throw RESPProtocolError(description: "an aggregate of \(length) elements") }
            let isMap = type == UInt8(ascii: "%")
            var items: [RESPValue] = []
            items.reserveCapacity(min(Int(length) * (isMap ? 2 : 1), 1024))
            for _ in 0..<(Int(length) * (isMap ? 2 : 1)) {
                guard let item = try value(bytes, &cursor, depth: depth + 1) else { return nil }
                items.append(item)
            }
            if isMap {
                result = .map(stride(from: 0, to: items.count, by: 2).map { (items[$0], items[$0 + 1]) })
            } else {
                result = .array(items)
            }
        default:
            throw RESPProtocolError(description: "an unknown reply type \(type)")
        }
        index = cursor
        return result
    }

    /// The bytes up to the next CRLF (a bare CR or LF inside is refused).
    private func line(_ bytes: [UInt8], _ index: inout Int) throws(RESPProtocolError) -> ArraySlice<UInt8>? {
        var i = index
        while i < bytes.count {
            let byte = bytes[i]
            if byte == 0x0D {
                guard i + 1 < bytes.count else { return nil }
                guard bytes[i + 1] == 0x0A else { throw RESPProtocolError(description: "a CR without LF") }
                let line = bytes[index..<i]
                index = i + 2
                return line
            }
            if byte == 0x0A { throw RESPProtocolError(description: "an LF without CR") }
            i += 1
            if i - index > 64 * 1024 { throw RESPProtocolError(description: "a line longer than 64 KiB") }
        }
        return nil
    }

    private func integer(_ line: ArraySlice<UInt8>) throws(RESPProtocolError) -> Int64 {
        guard let value = Int64(String(decoding: line, as: UTF8.self)) else { throw RESPProtocolError(description: "an integer that is not one") }
        return value
    }
}

/// Commands as Redis reads them: an array of bulk strings.
public enum RESPEncoder {
    public static func command(_ arguments: [RESPArgument]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(16 + arguments.reduce(0) { $0 + $1.bytes.count + 16 })
        out.append(UInt8(ascii: "*"))
        out.append(contentsOf: String(arguments.count).utf8)
        out.append(contentsOf: [0x0D, 0x0A])
        for argument in arguments {
            out.append(UInt8(ascii: "$"))
            out.append(contentsOf: String(argument.bytes.count).utf8)
            out.append(contentsOf: [0x0D, 0x0A])
            out.append(contentsOf: argument.bytes)
            out.append(contentsOf: [0x0D, 0x0A])
        }
        return out
    }
}

/// One argument of a command: text or bytes.
public struct RESPArgument: Sendable, ExpressibleByStringLiteral, ExpressibleByIntegerLiteral {
    public let bytes: [UInt8]
    public init(_ bytes: [UInt8]) { self.bytes = bytes }
    public init(_ text: String) { bytes = Array(text.utf8) }
    public init(_ number: Int) { bytes = Array(String(number).utf8) }
    public init(stringLiteral value: String) { self.init(value) }
    public init(integerLiteral value: Int) { self.init(value) }
}
