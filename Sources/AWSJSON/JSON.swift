/// A JSON value that keeps object keys in the order they were written.
///
/// Order matters here: botocore serializes request bodies in the order the caller
/// gave the parameters, and awsgw must send the same bytes. Integers are kept apart
/// from doubles so that `1` and `1.0` round-trip as the caller wrote them.
public enum JSON: Sendable {
    case null
    case bool(Bool)
    case int(Int64)
    case double(Double)
    case string(String)
    case array([JSON])
    case object(JSONObject)
    /// A value already written as compact JSON (a transcoded answer), copied as it is
    /// when written; read through it with `resolved`.
    case fragment(JSONFragment)
}

/// Compact JSON text of one value, made by a writer that checked it (never caller input).
public struct JSONFragment: Sendable {
    public let bytes: [UInt8]
    public init(bytes: [UInt8]) { self.bytes = bytes }
    /// The value the text holds.
    public var value: JSON { (try? JSON.parse(bytes)) ?? .null }
}

/// An ordered list of members with lookup by key.
///
/// Objects in AWS requests and responses are small, so a linear scan beats hashing;
/// large objects (model shape tables) are turned into dictionaries by their readers.
public struct JSONObject: Sendable, Sequence {
    public struct Member: Sendable {
        public var key: String
        public var value: JSON
        public init(key: String, value: JSON) {
            self.key = key
            self.value = value
        }
    }

    public var members: [Member]

    public init() { members = [] }
    public init(_ members: [Member]) { self.members = members }
    public init(_ pairs: [(String, JSON)]) { members = pairs.map { Member(key: $0.0, value: $0.1) } }

    public var count: Int { members.count }
    public var isEmpty: Bool { members.isEmpty }
    public var keys: [String] { members.map(\.key) }

    public subscript(key: String) -> JSON? {
        get {
            for member in members where member.key == key { return member.value }
            return nil
        }
        set {
            if let index = members.firstIndex(where: { $0.key == key }) {
                if let newValue { members[index].value = newValue } else { members.remove(at: index) }
            } else if let newValue {
                members.append(Member(key: key, value: newValue))
            }
        }
    }

    /// Appends without checking for an existing key (callers that know keys are new).
    public mutating func append(_ key: String, _ value: JSON) {
        // Room for a few members at once: most objects are small, and growing one member at a
        // time reallocated at 1, 2 and 4.
        if members.isEmpty { members.reserveCapacity(4) }
        members.append(Member(key: key, value: value))
    }

    public func makeIterator() -> IndexingIterator<[Member]> { members.makeIterator() }

    /// The first key that appears twice, if any. The parser keeps every member as
    /// written, so callers that must refuse duplicates (requests) ask here.
    public var firstDuplicateKey: String? {
        if members.count < 2 { return nil }
        if members.count <= 12 {
            for i in 1..<members.count {
                let key = members[i].key
                for j in 0..<i where members[j].key == key { return key }
            }
            return nil
        }
        var seen = Set<String>(minimumCapacity: members.count)
        for member in members where !seen.insert(member.key).inserted { return member.key }
        return nil
    }
}

extension JSON: Equatable {
    /// Numbers compare by value (`1 == 1.0`); objects compare without regard to order.
    public static func == (lhs: JSON, rhs: JSON) -> Bool {
        switch (lhs.resolved, rhs.resolved) {
        case (.null, .null): return true
        case let (.bool(a), .bool(b)): return a == b
        case let (.int(a), .int(b)): return a == b
        case let (.double(a), .double(b)): return a == b || (a.isNaN && b.isNaN)
        case let (.int(a), .double(b)), let (.double(b), .int(a)): return Double(a) == b
        case let (.string(a), .string(b)): return a == b
        case let (.array(a), .array(b)): return a == b
        case let (.object(a), .object(b)): return a == b
        default: return false
        }
    }
}

extension JSONObject: Equatable {
    public static func == (lhs: JSONObject, rhs: JSONObject) -> Bool {
        guard lhs.count == rhs.count else { return false }
        for member in lhs.members {
            guard let other = rhs[member.key], other == member.value else { return false }
        }
        return true
    }
}

extension JSON {
    /// The value itself, with a fragment read into values.
    public var resolved: JSON {
        if case .fragment(let fragment) = self { return fragment.value }
        return self
    }

    public subscript(key: String) -> JSON? {
        if case .object(let object) = resolved { return object[key] }
        return nil
    }

    public var stringValue: String? {
        if case .string(let s) = resolved { return s }
        return nil
    }

    public var objectValue: JSONObject? {
        if case .object(let o) = resolved { return o }
        return nil
    }

    public var arrayValue: [JSON]? {
        if case .array(let a) = resolved { return a }
        return nil
    }

    public var boolValue: Bool? {
        if case .bool(let b) = resolved { return b }
        return nil
    }

    public var intValue: Int64? {
        switch resolved {
        case .int(let i): return i
        case .double(let d) where d.rounded() == d && abs(d) < 9.2e18: return Int64(d)
        default: return nil
        }
    }

    public var doubleValue: Double? {
        switch resolved {
        case .int(let i): return Double(i)
        case .double(let d): return d
        default: return nil
        }
    }

    public var isNull: Bool {
        if case .null = resolved { return true }
        return false
    }

    /// The JSON type name, for error messages.
    public var typeName: String {
        switch self {
        case .null: return "null"
        case .bool: return "boolean"
        case .int, .double: return "number"
        case .string: return "string"
        case .array: return "array"
        case .object: return "object"
        case .fragment(let fragment): return fragment.value.typeName
        }
    }
}

extension JSON: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByBooleanLiteral,
    ExpressibleByFloatLiteral, ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral, ExpressibleByNilLiteral
{
    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int64) { self = .int(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(floatLiteral value: Double) { self = .double(value) }
    public init(arrayLiteral elements: JSON...) { self = .array(elements) }
    public init(dictionaryLiteral elements: (String, JSON)...) { self = .object(JSONObject(elements)) }
    public init(nilLiteral: ()) { self = .null }
}
